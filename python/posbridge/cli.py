"""The ``posbridge`` command: the embedded sandbox, a demo of the main flow, Hesabe and Helcim
operations from the shell, and a local Helcim webhook listener. ``posbridge --help`` and
``posbridge COMMAND --help`` explain each."""

from __future__ import annotations

import argparse
import configparser
import dataclasses
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from . import errors

DESCRIPTION = """\
posbridge pays a sale order on a card terminal: Hesabe Smart POS (Kuwait) and Helcim
Smart Terminals / Card Readers (Canada, US) from the shell, and an embedded sandbox that
speaks both protocols on 127.0.0.1.

  posbridge demo                         the whole flow on the embedded sandbox
  posbridge sandbox                      run the sandbox; prints its URL and credentials
  posbridge hesabe terminals             list your Smart POS terminals
  posbridge hesabe create --terminal 29708454 --amount 1.250 --customer Sara --invoice-number SO042
  posbridge hesabe show 268              one POS invoice (is it paid?)
  posbridge helcim devices               list your Helcim devices
  posbridge helcim purchase DY6L --amount 10.99 --invoice-number SO043
  posbridge helcim refund-payment 25764675 --amount 5.00 --ip-address 203.0.113.7
  posbridge helcim listen                receive, verify and print webhooks locally

Credentials come from flags, from HESABE_* / HELCIM_* environment variables, or from the
[hesabe] / [helcim] sections of a config file (--config, $POSBRIDGE_CONFIG or
~/.config/posbridge/posbridge.ini); --sandbox URL uses the sandbox's credentials.
"""

CONFIG_HELP = """\
config file (INI):
  [hesabe]
  merchant_code = 842217
  access_code = ...
  secret_key = ...
  iv = ...
  username = ...
  password = ...
  base_url = https://merchantapi.hesabe.com
"""

HELCIM_CONFIG_HELP = """\
config file (INI):
  [helcim]
  api_token = ...
  currency = CAD
  verifier_token = ...          (for `listen`)
  base_url = https://api.helcim.com/v2

exit codes: 0 done, 1 the vendor refused, 2 bad input or configuration, 3 outcome unknown
(reconcile with `posbridge helcim transactions --invoice-number ...` before sending again).
"""


# -- output -------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        raw = getattr(value, "raw", None)
        return _plain(raw) if raw is not None else {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _print_json(value: Any) -> None:
    print(json.dumps(_plain(value), indent=2, ensure_ascii=False))


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join(out)


def _show_pos_invoices(invoices: Sequence[Any]) -> None:
    print(
        _table(
            [(i.id, i.transaction_id, i.invoice_number, f"{i.amount} KWD" if i.amount is not None else "", i.terminal_id, i.customer_name, i.state) for i in invoices],
            ["id", "transaction_id", "invoice_number", "amount", "terminal", "customer", "status"],
        )
    )


def _show_record(record: Any) -> None:
    fields = [(f.name, getattr(record, f.name)) for f in dataclasses.fields(record) if f.name != "raw"]
    state = getattr(record, "state", None)
    if state is not None:
        fields.append(("state", state))
    width = max(len(n) for n, _ in fields)
    for name, value in fields:
        if value not in (None, ""):
            print(f"{name.ljust(width)}  {value}")


# -- credentials ----------------------------------------------------------------------------


def _config_file(path: Optional[str], section: str = "hesabe") -> Dict[str, str]:
    candidate = path or os.environ.get("POSBRIDGE_CONFIG") or str(Path.home() / ".config" / "posbridge" / "posbridge.ini")
    parser = configparser.ConfigParser()
    if not Path(candidate).is_file():
        if path:
            raise errors.ConfigError(f"config file {path} does not exist")
        return {}
    parser.read(candidate, encoding="utf-8")
    return dict(parser[section]) if parser.has_section(section) else {}


def _hesabe_client(args: argparse.Namespace) -> Any:
    from . import hesabe
    from .sandbox import HESABE_CREDENTIALS

    settings: Dict[str, Any] = {}
    if args.sandbox:
        settings.update(HESABE_CREDENTIALS, base_url=args.sandbox)
    settings.update(_config_file(args.config))
    for name, var in hesabe.ENV.items():
        if var in os.environ:
            settings[name] = os.environ[var]
    for name in hesabe.ENV:
        value = getattr(args, name, None)
        if value:
            settings[name] = value
    missing = [f"--{n.replace('_', '-')}" for n in hesabe.ENV if n != "base_url" and not settings.get(n)]
    if missing:
        raise errors.ConfigError(
            "missing Hesabe credentials: " + ", ".join(missing) + " (flags, HESABE_* variables, a config file, or --sandbox URL)"
        )
    settings.setdefault("base_url", hesabe.SANDBOX_URL)
    settings["timeout"] = args.timeout
    return hesabe.Client(**settings)


#: Helcim settings: client keyword -> environment variable (``verifier_token`` is for `listen`).
HELCIM_SETTINGS = {
    "api_token": "HELCIM_API_TOKEN",
    "base_url": "HELCIM_BASE_URL",
    "currency": "HELCIM_CURRENCY",
    "verifier_token": "HELCIM_VERIFIER_TOKEN",
}


def _helcim_settings(args: argparse.Namespace) -> Dict[str, Any]:
    settings: Dict[str, Any] = {}
    if args.sandbox:
        from .sandbox import HELCIM_CREDENTIALS, HELCIM_VERIFIER_TOKEN

        settings.update(HELCIM_CREDENTIALS, base_url=args.sandbox.rstrip("/") + "/v2", verifier_token=HELCIM_VERIFIER_TOKEN)
    settings.update(_config_file(args.config, "helcim"))
    for name, var in HELCIM_SETTINGS.items():
        if var in os.environ:
            settings[name] = os.environ[var]
        value = getattr(args, name, None)
        if value:
            settings[name] = value
    return settings


def _helcim_client(settings: Dict[str, Any], timeout: float) -> Any:
    from . import helcim

    if not settings.get("api_token"):
        raise errors.ConfigError("missing Helcim API token: --api-token, HELCIM_API_TOKEN, a config file, or --sandbox URL")
    return helcim.Client(
        api_token=settings["api_token"],
        base_url=settings.get("base_url") or helcim.PRODUCTION_URL,
        currency=settings.get("currency") or None,
        timeout=timeout,
    )


# -- commands -------------------------------------------------------------------------------


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from .sandbox import Sandbox

    try:
        sandbox = Sandbox(
            host=args.host,
            port=args.port,
            token_ttl=args.token_ttl,
            helcim_limits=None if args.helcim_limits == "off" else (5, 100, 3000),
            helcim_webhook_url=args.helcim_webhook_url,
            helcim_duplicate_check=args.helcim_duplicate_check,
            helcim_fee_saver=args.helcim_fee_saver,
            helcim_signature_rotation=args.helcim_signature_rotation,
            helcim_refund_declines=args.helcim_refund_declines,
        )
        _serve_sandbox(sandbox, args.json)
    except KeyboardInterrupt:
        pass
    return 0


def _serve_sandbox(sandbox: Any, as_json: bool) -> None:
    from .sandbox import HELCIM_POSITIVE_TOKEN, HELCIM_READ_ONLY_TOKEN, HESABE_CREDENTIALS

    with sandbox as sb:
        hesabe_credentials = dict(HESABE_CREDENTIALS, base_url=sb.hesabe_url)
        helcim_credentials = dict(sb.helcim_credentials, verifier_token=sb.helcim_verifier_token)
        info = {"url": sb.url, "hesabe": hesabe_credentials, "helcim": helcim_credentials, "controls": f"{sb.url}/_sandbox/"}
        if as_json:
            print(json.dumps(info), flush=True)
        else:
            print(f"posbridge sandbox listening on {sb.url}  (Ctrl-C to stop)")
            print("Hesabe credentials (the vendor's public sandbox values):")
            for key, value in hesabe_credentials.items():
                print(f"  {key:14} {value}")
            print("Helcim (a Canadian merchant; devices DY6L NBL7 XY7Z JSV5 listening, JFHP not):")
            for key, value in helcim_credentials.items():
                print(f"  {key:14} {value}")
            print(f"  {'positive token':14} {HELCIM_POSITIVE_TOKEN}  (purchases, no refunds)")
            print(f"  {'read-only':14} {HELCIM_READ_ONLY_TOKEN}  (devices and transactions only)")
            print(f"Try:  posbridge hesabe --sandbox {sb.url} terminals")
            print(f"      posbridge helcim --sandbox {sb.url} listen --fetch      (then, in another shell:)")
            print(f"      posbridge helcim --sandbox {sb.url} purchase DY6L --amount 10.99 --invoice-number SO043")
            print(f"      curl -X POST {sb.url}/_sandbox/helcim/devices/DY6L/complete -d '{{\"outcome\":\"approved\"}}'", flush=True)
        while True:
            time.sleep(3600)


def _step(text: str) -> None:
    print(f"\n== {text}")


def _cmd_demo(args: argparse.Namespace) -> int:
    from .sandbox import Sandbox

    with Sandbox() as sb:
        print(f"Embedded sandbox on {sb.url}: Hesabe's and Helcim's protocols, no credentials needed")
        ok = _demo_hesabe(sb) and _demo_helcim(sb)
    if not ok:
        print("\nThe demo failed.", file=sys.stderr)
        return 1
    print("\nBoth sale orders are paid.")
    return 0


def _demo_hesabe(sb: Any) -> bool:
    from . import hesabe

    print("\n# Hesabe Smart POS (Kuwait): AES-256-CBC payloads, bearer tokens")
    client = hesabe.Client(**sb.hesabe_credentials)

    _step("Smart POS terminals")
    terminals = client.terminals()
    print(_table([(t.terminal_id, t.terminal_name, t.id, t.status) for t in terminals], ["terminal_id", "name", "id", "Status"]))
    terminal = next(t for t in terminals if t.terminal_id == "29708454")

    _step(f"Sale order SO042, 1.250 KWD, pushed to terminal {terminal.terminal_id} ({terminal.terminal_name})")
    invoice = client.create_pos_invoice(
        terminal_id=terminal.terminal_id,
        amount=Decimal("1.250"),
        customer_name="Sara Al-Sabah",
        invoice_number="SO042",
        description="Sale order SO042",
    )
    _show_pos_invoices([invoice])

    _step("The customer taps a card on the terminal")
    sb.hesabe_pay(invoice.transaction_id)
    paid = client.wait_for_pos_invoice(str(invoice.id), timeout=10, interval=0.2)
    _show_pos_invoices([paid])

    _step("POS transactions (the transaction report, serviceType 6)")
    report = client.pos_transactions()
    print(_table([(t.token, f"{t.amount} KWD", t.state, t.order_reference_number) for t in report], ["token", "amount", "status", "reference"]))
    if paid.is_paid:
        print(f"\nSO042 is paid: {paid.amount} KWD on terminal {paid.terminal_id}.")
    return paid.is_paid


def _demo_helcim(sb: Any) -> bool:
    from . import helcim

    print("\n# Helcim Smart Terminal (Canada): 202 Accepted, then a signed webhook")
    client = helcim.Client(**sb.helcim_credentials)

    _step("Devices registered to the account")
    devices = client.devices()
    print(_table([(d.code, d.date_created) for d in devices], ["code", "date_created"]))
    print(f"rate limit left: {devices.rate_limit.minute_remaining} this minute, {devices.rate_limit.hour_remaining} this hour" if devices.rate_limit else "")

    with helcim.WebhookReceiver(sb.helcim_verifier_token) as receiver:
        sb.helcim_webhook_url = receiver.url
        _step("Sale order SO043, 10.99 CAD, sent to device DY6L")
        started = client.purchase("DY6L", Decimal("10.99"), "CAD", invoice_number="SO043")
        print(f"HTTP {started.status_code}: started, not paid yet (idempotency key {started.idempotency_key})")

        _step("The customer taps an Interac card; Helcim signs and sends a webhook")
        sb.helcim_complete("DY6L", outcome="approved")
        events = receiver.wait_for(1, timeout=10)
        if not events:
            print("no webhook arrived", file=sys.stderr)
            return False
        event = events[0]
        print(f"received at {receiver.url}, signature and timestamp verified:")
        print("  " + _describe_event(event))

        _step("The transaction the webhook announces, fetched from the API")
        transaction = client.event_transaction(event)
        _show_transactions([transaction])
    paid = transaction.is_approved and transaction.invoice_number == "SO043"
    if paid:
        print(f"\nSO043 is paid: {transaction.amount} {transaction.currency} on device DY6L (card {transaction.card_type}).")
    return paid


def _cmd_hesabe(args: argparse.Namespace) -> int:
    client = _hesabe_client(args)
    action = args.action
    result: Any
    if action == "login":
        result = client.login()
    elif action == "terminals":
        result = client.terminals()
        if not args.json:
            print(_table([(t.terminal_id, t.terminal_name, t.id, "active" if t.active else "inactive") for t in result], ["terminal_id", "name", "id", "status"]))
            return 0
    elif action == "create":
        result = client.create_pos_invoice(
            terminal_id=args.terminal,
            amount=Decimal(args.amount),
            customer_name=args.customer,
            customer_email=args.email,
            customer_phone=args.phone,
            invoice_number=args.invoice_number,
            description=args.description,
        )
    elif action == "resend":
        current = client.pos_invoice(args.id)
        result = client.resend_pos_invoice(
            transaction_id=current.transaction_id,
            terminal_id=current.terminal_id,
            amount=current.amount,
            customer_name=current.customer_name or "",
            customer_email=current.customer_email or None,
            customer_phone=current.customer_phone or None,
            invoice_number=current.invoice_number or None,
            description=current.description or None,
        )
    elif action == "list":
        page = client.pos_invoices(page=args.page)
        if not args.json:
            _show_pos_invoices(page.items)
            print(f"\npage {page.page}" + (f", next: --page {page.next_page}" if page.next_page else "") + (f", {page.total} in all" if page.total is not None else ""))
            return 0
        result = page.items
    elif action == "show":
        result = client.pos_invoice(args.id)
    elif action == "find":
        result = client.find_pos_invoice(invoice_number=args.invoice_number)
        if result is None:
            print(f"no POS invoice with invoice_number {args.invoice_number!r} among the newest pages", file=sys.stderr)
            return 1
    elif action == "transactions":
        result = client.pos_transactions(page=args.page).items
    elif action == "invoices":
        result = client.invoices(page=args.page).items
    elif action == "invoice":
        result = client.invoice(args.id)
    elif action == "refunds":
        result = client.refunds(page=args.page).items
    elif action == "refund":
        result = client.request_refund(args.token, Decimal(args.amount) if args.amount else None)
    else:
        raise errors.ConfigError(f"unknown action {action}")
    if args.json:
        _print_json(result)
    elif isinstance(result, list):
        for record in result:
            _show_record(record)
            print()
    elif dataclasses.is_dataclass(result) and not isinstance(result, type) and hasattr(result, "raw") and not hasattr(result, "message"):
        _show_record(result)
    else:
        print(getattr(result, "message", result))
    return 0


def _show_transactions(transactions: Sequence[Any]) -> None:
    print(
        _table(
            [(t.transaction_id, t.status, t.type, f"{t.amount} {t.currency or ''}".strip(), t.card_type, t.invoice_number, t.date_created) for t in transactions],
            ["transaction_id", "status", "type", "amount", "card", "invoice_number", "date (MT)"],
        )
    )


def _describe_event(event: Any) -> str:
    if event.type == "cardTransaction":
        return f"cardTransaction  transaction {event.transaction_id}  (webhook-id {event.webhook_id})"
    if event.type == "terminalCancel":
        amount = f"{event.transaction_amount} {event.currency or ''}".strip()
        return f"terminalCancel   device {event.device_code}, {amount}, invoice {event.invoice_number or '-'}  (webhook-id {event.webhook_id})"
    return f"{event.type}  (not a device event; acknowledged)  (webhook-id {event.webhook_id})"


def _cmd_helcim_listen(args: argparse.Namespace, settings: Dict[str, Any]) -> int:
    from .helcim import WebhookReceiver

    token = settings.get("verifier_token")
    if not token:
        raise errors.ConfigError("missing verifier token: --verifier-token, HELCIM_VERIFIER_TOKEN, a config file, or --sandbox URL")
    client = _helcim_client(settings, args.timeout) if args.fetch else None

    def on_event(event: Any) -> None:
        if args.json:
            print(json.dumps({"type": event.type, "webhook_id": event.webhook_id, "timestamp": event.timestamp, "body": _plain(event.raw)}), flush=True)
        else:
            print(_describe_event(event), flush=True)
        if client is not None and event.type == "cardTransaction":
            transaction = client.event_transaction(event)
            if args.json:
                _print_json(transaction)
            else:
                _show_transactions([transaction])
            sys.stdout.flush()

    with WebhookReceiver(token, port=args.port, tolerance=args.tolerance, on_event=on_event) as receiver:
        if args.sandbox:
            _point_sandbox_webhooks(args.sandbox, receiver.url)
        print(f"listening for Helcim webhooks on {receiver.url}  (Ctrl-C to stop)", file=sys.stderr, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def _point_sandbox_webhooks(sandbox_url: str, url: str) -> None:
    """Tells a `posbridge sandbox` (in another process) to deliver its webhooks to ``url``."""
    import urllib.request

    request = urllib.request.Request(
        sandbox_url.rstrip("/") + "/_sandbox/helcim/webhook-url",
        data=json.dumps({"url": url}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5):
        pass
    print(f"sandbox at {sandbox_url} now delivers its webhooks here", file=sys.stderr)


def _cmd_helcim(args: argparse.Namespace) -> int:
    settings = _helcim_settings(args)
    action = args.action
    if action == "listen":
        return _cmd_helcim_listen(args, settings)
    client = _helcim_client(settings, args.timeout)
    result: Any
    if action == "devices":
        result = client.devices(args.code)
        if not args.json:
            print(_table([(d.code, d.date_created) for d in result], ["code", "date_created"]) if result else "no devices")
            return 0
    elif action == "ping":
        result = client.ping(args.code)
        if not args.json:
            print(f"device {result.device_code} is listening (ping shown on its screen)")
            return 0
    elif action in ("purchase", "refund"):
        if action == "purchase":
            result = client.purchase(
                args.code, Decimal(args.amount), args.purchase_currency, invoice_number=args.invoice_number, customer_code=args.customer_code, idempotency_key=args.idempotency_key
            )
        else:
            result = client.refund(args.code, Decimal(args.amount), args.original_transaction_id, args.purchase_currency, idempotency_key=args.idempotency_key)
        if not args.json:
            print(f"{action} of {result.amount} {result.currency} started on device {result.device_code} (202: not paid yet)")
            print(f"  idempotency key  {result.idempotency_key}")
            if result.invoice_number:
                print(f"  invoice number   {result.invoice_number}")
        if action == "purchase" and args.wait and result.invoice_number:
            transaction = client.wait_for_transaction(result.invoice_number, result.amount, timeout=args.wait, interval=1.0)
            result = transaction
            if not args.json:
                _show_transactions([transaction])
                return 0 if transaction.is_approved else 1
        elif not args.json:
            return 0
    elif action == "refund-payment":
        result = client.refund_payment(
            args.original_transaction_id,
            Decimal(args.amount),
            args.ip_address,
            ecommerce=args.ecommerce,
            currency=args.purchase_currency,
            idempotency_key=args.idempotency_key,
        )
        if not args.json:
            _show_transactions([result])
            return 0 if result.is_approved else 1
    elif action == "reverse-payment":
        result = client.reverse_payment(args.card_transaction_id, args.ip_address, ecommerce=args.ecommerce,
                                        idempotency_key=args.idempotency_key)
        if not args.json:
            _show_transactions([result])
            return 0 if result.is_approved else 1
    elif action == "transaction":
        result = client.card_transaction(args.id)
        if not args.json:
            _show_record(result)
            return 0
    elif action == "transactions":
        if args.amount and args.invoice_number:
            result = client.find_card_transactions(args.invoice_number, Decimal(args.amount))
        else:
            result = client.card_transactions(invoice_number=args.invoice_number, customer_code=args.customer_code, date_from=args.date_from, date_to=args.date_to)
        if not args.json:
            _show_transactions(result) if result else print("no card transactions match")
            return 0
    else:
        raise errors.ConfigError(f"unknown action {action}")
    _print_json(result)
    return 0


# -- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="posbridge", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sb = sub.add_parser(
        "sandbox",
        help="run the embedded sandbox until Ctrl-C",
        description="Run the embedded sandbox (Hesabe at the root, Helcim under /v2) on 127.0.0.1 and print its URL and "
        "credentials. Its controls (the customer at the terminal, faults, stats) are under /_sandbox/.",
    )
    sb.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; the controls have no authentication)")
    sb.add_argument("--port", type=int, default=0, help="TCP port, e.g. 8070 for a fixed URL (default: a free one)")
    sb.add_argument("--token-ttl", type=float, default=900.0, help="Hesabe access-token lifetime in seconds (default 900)")
    sb.add_argument("--helcim-limits", choices=["helcim", "off"], default="helcim", help="Helcim's rate limits (5 in flight, 100/min, 3000/h; default) or none (benchmarks)")
    sb.add_argument("--helcim-webhook-url", metavar="URL",
                    help="where to send Helcim's signed webhooks; like Helcim, refuses a URL containing \"helcim\" (also settable later: `posbridge helcim --sandbox URL listen`)")
    sb.add_argument("--helcim-duplicate-check", action="store_true",
                    help="decline an approved purchase that repeats one from the last 5 minutes (same card, cardholder and amount), as Helcim does")
    sb.add_argument("--helcim-fee-saver", type=float, default=0.0, metavar="PERCENT",
                    help="Helcim's In-person Fee Saver: a surcharge (e.g. 3.5) added to approved credit-card purchases (default 0, off)")
    sb.add_argument("--helcim-signature-rotation", action="store_true",
                    help="sign each webhook with a retiring key and with the merchant's, as during a verifier-token rotation")
    sb.add_argument("--helcim-refund-declines", action="store_true",
                    help="take an over-refund or an open-batch refund (202) and decline it at the device, instead of a 400")
    sb.add_argument("--json", action="store_true", help="print the URL and credentials as one JSON line")
    sb.set_defaults(func=_cmd_sandbox)

    demo = sub.add_parser(
        "demo",
        help="the main flow on the embedded sandbox (no credentials)",
        description="Start the embedded sandbox. Hesabe: list terminals, push a sale order to a terminal, pay it there, "
        "show it paid. Helcim: list devices, start a purchase on a device, approve it there, receive and verify the "
        "signed webhook, fetch the transaction.",
    )
    demo.set_defaults(func=_cmd_demo)

    hs = sub.add_parser(
        "hesabe",
        help="Hesabe Smart POS and Merchant API operations",
        description="Hesabe operations. Credentials: flags, HESABE_* variables, a config file, or --sandbox URL.",
        epilog=CONFIG_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hs.add_argument("--merchant-code", dest="merchant_code")
    hs.add_argument("--access-code", dest="access_code")
    hs.add_argument("--secret-key", dest="secret_key")
    hs.add_argument("--iv")
    hs.add_argument("--username")
    hs.add_argument("--password")
    hs.add_argument("--base-url", dest="base_url", help="default: Hesabe's sandbox host")
    hs.add_argument("--sandbox", metavar="URL", help="use the public sandbox credentials against URL (e.g. a `posbridge sandbox`)")
    hs.add_argument("--config", help="INI file with a [hesabe] section")
    hs.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    hs.add_argument("--json", action="store_true", help="print the vendor's JSON")
    actions = hs.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("login", help="check the credentials")
    actions.add_parser("terminals", help="list Smart POS terminals")
    create = actions.add_parser("create", help="push a POS invoice to a terminal")
    create.add_argument("--terminal", required=True, help="TerminalID from `terminals`")
    create.add_argument("--amount", required=True, help="KWD, up to 3 decimals, e.g. 1.250")
    create.add_argument("--customer", required=True, help="customer name")
    create.add_argument("--email")
    create.add_argument("--phone")
    create.add_argument("--invoice-number", dest="invoice_number", help="your reference, e.g. the sale order")
    create.add_argument("--description")
    resend = actions.add_parser("resend", help="push an existing POS invoice to its terminal again")
    resend.add_argument("id", help="POS invoice id")
    for name, text in (("list", "list POS invoices"), ("transactions", "list POS transactions"), ("invoices", "list Merchant API invoices"), ("refunds", "list refund requests")):
        p = actions.add_parser(name, help=text)
        p.add_argument("--page", type=int, default=1)
    show = actions.add_parser("show", help="one POS invoice")
    show.add_argument("id")
    find = actions.add_parser("find", help="find a POS invoice by your invoice number (reconciliation)")
    find.add_argument("invoice_number")
    inv = actions.add_parser("invoice", help="one Merchant API invoice")
    inv.add_argument("id")
    refund = actions.add_parser("refund", help="request a refund of a paid transaction")
    refund.add_argument("token", help="the transaction's payment token")
    refund.add_argument("--amount", help="partial amount in KWD (default: the whole transaction)")
    for action_parser in actions.choices.values():
        # `hesabe terminals --json` as well as `hesabe --json terminals`; SUPPRESS keeps the
        # subparser from resetting a --json given before the action.
        action_parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print the vendor's JSON")
    hs.set_defaults(func=_cmd_hesabe)
    _add_helcim_parser(sub)
    return parser


def _add_helcim_parser(sub: Any) -> None:
    hc = sub.add_parser(
        "helcim",
        help="Helcim Payment Hardware operations and a webhook listener",
        description=(
            "Helcim Smart Terminal / Card Reader operations. A purchase or refund on a device answers 202 "
            "(started, NOT paid): the outcome arrives by webhook (see `listen`) or is found with "
            "`transactions --invoice-number`. Device requests are sent once, never retried. "
            "Refunds: an Interac/debit purchase is refunded on a device with the customer's card (`refund`); "
            "a credit-card purchase through the Payment API, no card present (`refund-payment`), answered "
            "at once with the refund's card transaction and resent at most once, with the same "
            "idempotency key, if the reply is lost. Both need the original in a closed batch and an Admin token. "
            "Credentials: flags, HELCIM_* variables, a config file, or --sandbox URL."
        ),
        epilog=HELCIM_CONFIG_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hc.add_argument("--api-token", dest="api_token")
    hc.add_argument("--base-url", dest="base_url", help="default: https://api.helcim.com/v2")
    hc.add_argument("--currency", help="the merchant's core currency, CAD or USD")
    hc.add_argument("--verifier-token", dest="verifier_token", help="webhook Verifier Token (for `listen`)")
    hc.add_argument("--sandbox", metavar="URL", help="use the sandbox's token and verifier against URL (e.g. a `posbridge sandbox`)")
    hc.add_argument("--config", help="INI file with a [helcim] section")
    hc.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    hc.add_argument("--json", action="store_true", help="print JSON")
    actions = hc.add_subparsers(dest="action", metavar="ACTION", required=True)
    devices = actions.add_parser("devices", help="list devices")
    devices.add_argument("--code", help="part of a device code")
    ping = actions.add_parser("ping", help="show a ping on a device (is it listening?)")
    ping.add_argument("code", help="device code, e.g. DY6L")
    purchase = actions.add_parser("purchase", help="start a purchase on a device (202: not paid yet)")
    purchase.add_argument("code", help="device code, e.g. DY6L")
    purchase.add_argument("--amount", required=True, help="CAD/USD, up to 2 decimals, e.g. 10.99")
    purchase.add_argument("--currency", dest="purchase_currency", help="CAD or USD (default: the merchant's)")
    purchase.add_argument("--invoice-number", dest="invoice_number", help="your reference (e.g. the sale order): how the outcome is found again")
    purchase.add_argument("--customer-code", dest="customer_code")
    purchase.add_argument("--idempotency-key", dest="idempotency_key", help="25-36 of [A-Za-z0-9_-] (default: a new UUID)")
    purchase.add_argument("--wait", type=float, metavar="SECONDS", help="then poll for the card transaction (needs --invoice-number)")
    refund = actions.add_parser("refund", help="start an in-person debit refund on a device (Admin token)")
    refund.add_argument("code", help="device code")
    refund.add_argument("--amount", required=True, help="at most what is left of the original")
    refund.add_argument("--original-transaction-id", dest="original_transaction_id", required=True)
    refund.add_argument("--currency", dest="purchase_currency", help="CAD or USD (default: the merchant's)")
    refund.add_argument("--idempotency-key", dest="idempotency_key")
    refund_payment = actions.add_parser(
        "refund-payment",
        help="refund a credit-card purchase through the Payment API (no device; Admin token)",
        description="POST /payment/refund: refund a credit-card purchase (in a closed batch) without the card; "
        "partial refunds add up to at most the original. Answered at once with the refund (APPROVED or DECLINED). "
        "Interac/debit purchases are refunded on a device instead (`refund`).",
    )
    refund_payment.add_argument("original_transaction_id", help="the purchase's transactionId")
    refund_payment.add_argument("--amount", required=True, help="CAD/USD, up to 2 decimals; at most what is left of the original")
    refund_payment.add_argument("--ip-address", dest="ip_address", required=True, help="the IP address the refund is made from (Helcim requires it)")
    refund_payment.add_argument("--ecommerce", action="store_true", help="the original was an online payment")
    refund_payment.add_argument("--currency", dest="purchase_currency", help="CAD or USD, for the amount's precision (default: the merchant's)")
    refund_payment.add_argument("--idempotency-key", dest="idempotency_key",
                                help="25-36 of [A-Za-z0-9_-] (default: a new UUID); within 5 minutes, the same key answers with the first refund")
    reverse_payment = actions.add_parser(
        "reverse-payment",
        help="reverse a purchase still in the open batch, all of it (no device; Admin token)",
        description="POST /payment/reverse: give all of a purchase back the same day, before its batch settles "
        "(afterwards, `refund-payment`). Answered at once with the reversal (type reverse).",
    )
    reverse_payment.add_argument("card_transaction_id", help="the purchase's transactionId")
    reverse_payment.add_argument("--ip-address", dest="ip_address", required=True, help="the IP address the reversal is made from (Helcim requires it)")
    reverse_payment.add_argument("--ecommerce", action="store_true", help="the original was an online payment")
    reverse_payment.add_argument("--idempotency-key", dest="idempotency_key",
                                 help="25-36 of [A-Za-z0-9_-] (default: a new UUID); within 5 minutes, the same key answers with the first reversal")
    transaction = actions.add_parser("transaction", help="one card transaction (APPROVED or DECLINED?)")
    transaction.add_argument("id", help="card transaction id (from the cardTransaction webhook)")
    transactions = actions.add_parser("transactions", help="find card transactions (reconciliation)")
    transactions.add_argument("--invoice-number", dest="invoice_number")
    transactions.add_argument("--amount", help="with --invoice-number: only this exact amount")
    transactions.add_argument("--customer-code", dest="customer_code")
    transactions.add_argument("--date-from", dest="date_from", help="YYYY-MM-DD (Mountain Time)")
    transactions.add_argument("--date-to", dest="date_to", help="YYYY-MM-DD (Mountain Time)")
    listen = actions.add_parser(
        "listen",
        help="receive, verify and print webhooks on 127.0.0.1",
        description="Serve http://127.0.0.1:PORT/webhooks: verify each delivery (signature, timestamp), "
        "drop duplicates by webhook-id, print the event. With --sandbox, point that sandbox's webhooks here.",
    )
    listen.add_argument("--port", type=int, default=8765, help="default 8765 (0: a free one)")
    listen.add_argument("--tolerance", type=float, default=300.0, help="allowed timestamp skew in seconds (default 300)")
    listen.add_argument("--fetch", action="store_true", help="fetch each announced card transaction (needs the API token)")
    for action_parser in actions.choices.values():
        action_parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    hc.set_defaults(func=_cmd_helcim)


def _version() -> str:
    from . import _native

    return f"posbridge {_native.__version__}"


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except errors.OutcomeUnknownError as e:
        print(f"error: {e}", file=sys.stderr)
        if e.reference:
            print("reconcile with: " + ", ".join(f"{k}={v}" for k, v in e.reference.items()), file=sys.stderr)
        return 3
    except (errors.ValidationError, errors.ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except errors.Error as e:
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except ArithmeticError as e:
        print(f"error: not a decimal amount ({e})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
