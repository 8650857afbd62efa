#!/usr/bin/env python3
"""Screenshots of the addon's screens on a real Odoo of one series, as a salesperson sees them:
for a human to look at after a change (`make odoo-screens SERIES=19.0`), not a test.

    tests_odoo/screens.py [--series 19.0] [--out tests_odoo/logs/screens] [--lang ar_001]

Starts `posbridge sandbox` and Odoo (a database cloned from the runner's template, with the
addon and its demo data), creates an order over JSON-RPC, then drives headless Chromium over
its DevTools protocol (tests_odoo/cdp.py, run with Odoo's python, which has websocket-client)
through: the order with Pay on terminal, the wizard, the order waiting for the terminal, the
order paid, the provider form, the terminals. PNGs go to --out/<series>/.

With --pos (pos_posbridge), a cashier's screens instead: a Helcim register paying on its
terminal, waiting, the receipt; a Hesabe register whose payment is declined, the line with
Retry and Another terminal, the terminal picker.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import odoo_env as E  # noqa: E402
import prefork as P  # noqa: E402

def steps(order: int, provider: int, kwd_order: int, invoice: int, hesabe: int) -> list[dict[str, object]]:
    return [
        {"login": True},
        {"shot": "order_quotation", "url": f"/odoo/sales/{order}", "wait": "button[name='action_posbridge_pay']"},
        {"click": "button[name='action_posbridge_pay']"},
        {"shot": "pay_wizard", "wait": ".modal .o_field_widget[name='terminal_id']"},
        {"click": ".modal button[name='action_send']"},
        {"shot": "order_waiting", "wait": ".o_posbridge_banner:not(.d-none)"},
        {"pay": "DY6L"},
        {"shot": "order_paid", "wait": ".o_statusbar_status button.o_arrow_button_current[data-value='sale']"},
        {"shot": "provider_form", "url": f"/odoo/action-payment.action_payment_provider/{provider}", "wait": ".o_form_view"},
        {"shot": "terminals", "url": "/odoo/action-posbridge.action_posbridge_terminal", "wait": ".o_list_view"},
        {"shot": "link_quotation", "url": f"/odoo/sales/{kwd_order}", "wait": "button[name='action_posbridge_send_link']"},
        {"click": "button[name='action_posbridge_send_link']"},
        {"shot": "link_wizard", "wait": ".modal div[name='channel']"},
        {"click": ".modal button[name='action_send']"},
        {"shot": "link_sent", "wait": ".o_posbridge_link_banner:not(.d-none)"},
        {"shot": "link_invoice", "url": f"/odoo/action-account.action_move_out_invoice_type/{invoice}",
         "wait": "button[name='action_posbridge_send_link']"},
        {"shot": "hesabe_provider", "url": f"/odoo/action-payment.action_payment_provider/{hesabe}", "wait": ".o_form_view"},
        {"click": ".o_notebook a[name='configuration']"},
        {"shot": "hesabe_provider_links", "wait": "div[name='hesabe_link_enabled']"},
    ]


def pos_steps(helcim: int, hesabe: int, series: str) -> list[dict[str, object]]:
    def open_register(config: int) -> list[dict[str, object]]:
        url = f"/pos/ui/{config}" if series >= "19.0" else f"/pos/ui?config_id={config}"
        return [
            {"shot": f"pos_open_{config}", "url": url, "wait": ".pos"},
            {"click": ".screen-login .btn.open-register-btn", "optional": True},
            {"click": ".modal-footer .btn-primary", "optional": True},  # Open Register (cash control)
            {"click": "article.product .product-name:contains(Espresso machine)"},
            {"click": ".product-screen .pay-order-button"},
        ]
    return [
        {"login": True},
        *open_register(helcim),
        {"click": ".paymentmethods .paymentmethod .payment-name:contains(Card (helcim))"},
        {"shot": "pos_helcim_waiting", "wait": ".paymentline .electronic_status:contains(DY6L)"},
        {"pay": "DY6L"},
        {"shot": "pos_helcim_receipt", "wait": ".receipt-screen .pos-receipt:contains(Reference: )"},
        *open_register(hesabe),
        {"click": ".paymentmethods .paymentmethod .payment-name:contains(Card (hesabe))"},
        {"shot": "pos_hesabe_waiting", "wait": ".posbridge_simulate_declined"},
        {"click": ".posbridge_simulate_declined"},
        {"shot": "pos_hesabe_declined", "wait": ".modal-dialog"},
        {"click": ".modal-footer .btn-primary"},
        {"shot": "pos_hesabe_retry", "wait": ".posbridge_choose_terminal"},
        {"click": ".posbridge_choose_terminal"},
        {"shot": "pos_terminal_picker", "wait": ".modal .selection-item"},
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series")
    ap.add_argument("--odoo-src")
    ap.add_argument("--out", default=str(E.LOGS / "screens"))
    ap.add_argument("--lang", default="", help="the admin's language for the run, e.g. ar_001")
    ap.add_argument("--port", type=int, default=18400)
    ap.add_argument("--pos", action="store_true", help="the Point of Sale's screens (pos_posbridge)")
    args = ap.parse_args()
    args.series = E.series(args.series, args.odoo_src).name
    out = Path(args.out) / args.series / (args.lang or "en") / ("pos" if args.pos else "")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    ns = argparse.Namespace(series=args.series, odoo_src=args.odoo_src, odoo_python=None, no_install=False,
                            template=None, admin_password="admin", port=args.port, sandbox_port=0,
                            keep_db=False, install_timeout=150, partners=3, confirmation_pdf=False)
    # threaded (--workers=0): the browser's websocket reaches Odoo without the proxy a prefork server needs
    modules = ("posbridge", "pos_posbridge") if args.pos else ("posbridge",)
    stack = P.Stack(ns, "screens", modules=modules, helcim_limits="off", cron_threads=0, workers=0)
    try:
        stack.start()
        stack.setup_data(1)
        admin = stack.admin_rpc
        if args.lang:
            lang_id = admin.kw("res.lang", "search", [("code", "=", args.lang), ("active", "in", [True, False])])
            admin.kw("res.lang", "write", lang_id, {"active": True})
            admin.kw("base.language.install", "lang_install",
                     admin.kw("base.language.install", "create", {"lang_ids": [(6, 0, lang_id)]}))
            admin.kw("res.users", "write", [admin.uid], {"lang": args.lang})
        admin_user = admin.uid
        if args.pos:
            admin.kw("product.product", "write", [stack.product_id], {"available_in_pos": True})
            registers = {r["vendor"]: r["config"] for r in P.Pos(stack, per_vendor=1).registers}
            script = {"base": stack.base, "out": str(out), "sandbox": stack.sandbox_url,
                      "steps": pos_steps(registers["helcim"], registers["hesabe"], args.series)}
            return shoot(stack, out, script)
        terminal = stack.terminals["DY6L"]
        admin.kw("posbridge.terminal", "write", [terminal], {"user_ids": [(6, 0, [admin_user])]})
        order = P.create_order(admin, stack, "CAD", 42.0)
        kwd_order = P.create_order(admin, stack, "KWD", 12.5)
        provider = stack.providers["helcim_terminal"]
        hesabe = stack.providers["hesabe_pos"]
        admin.kw("payment.provider", "write", [hesabe], {"hesabe_link_enabled": True})
        admin.kw("res.partner", "write", [stack.partner_ids[1]], {"phone": "+965 5000 1234"})
        invoice = admin.kw("account.move", "create", {
            "move_type": "out_invoice", "partner_id": stack.partner_ids[0], "currency_id": stack.currency_ids["KWD"],
            "invoice_line_ids": [(0, 0, {"product_id": stack.product_id, "quantity": 1, "price_unit": 20.0})]})
        admin.kw("account.move", "action_post", [invoice])
        script = {"base": stack.base, "out": str(out), "sandbox": stack.sandbox_url,
                  "steps": steps(order, provider, kwd_order, invoice, hesabe)}
        return shoot(stack, out, script)
    finally:
        stack.close()


def shoot(stack: P.Stack, out: Path, script: dict[str, object]) -> int:
    cmd = [stack.python, str(HERE / "cdp.py"), json.dumps(script)]
    r = subprocess.run(cmd, env=P.clean_env_for(stack.python), cwd="/", timeout=300)
    for png in sorted(out.glob("*.png")):
        E.say(f"screenshot: {png}")
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
