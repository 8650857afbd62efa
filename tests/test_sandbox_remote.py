"""``sandbox.Remote``: a sandbox in another process (``posbridge sandbox --port``) driven over
its ``/_sandbox/`` controls with the same methods and answers as the embedded one; also the
Hesabe customer who cancels on the terminal, and a paid POS invoice refunded by its token."""

from __future__ import annotations

import inspect
from decimal import Decimal
from typing import Iterator

import pytest

import posbridge
from posbridge import helcim, hesabe, sandbox

from helpers import SEED_CREATE, closed_port, sandbox_in_another_process


@pytest.fixture
def remote(sb: sandbox.Sandbox) -> sandbox.Remote:
    return sandbox.Remote(sb.url + "/")


def test_same_methods_as_the_embedded_sandbox() -> None:
    def public(cls: type) -> set:
        return {n for n, _ in inspect.getmembers(cls) if not n.startswith("_")}

    assert public(sandbox.Sandbox) - {"close"} <= public(sandbox.Remote)
    for name in public(sandbox.Sandbox) - {"close", "url"}:
        embedded, remote = getattr(sandbox.Sandbox, name), getattr(sandbox.Remote, name)
        assert embedded is remote, f"{name} is defined once, for both"


def test_where_it_is(sb: sandbox.Sandbox, remote: sandbox.Remote) -> None:
    assert (remote.url, remote.port, remote.hesabe_url, remote.helcim_url) == (sb.url, sb.port, sb.hesabe_url, sb.helcim_url)
    assert remote.hesabe_credentials == sb.hesabe_credentials and remote.helcim_credentials == sb.helcim_credentials
    assert (remote.helcim_api_token, remote.helcim_verifier_token) == (sb.helcim_api_token, sb.helcim_verifier_token)
    assert remote.is_running() and repr(remote) == f"sandbox.Remote(url={sb.url!r})"
    assert set(remote.stats()) == set(sb.stats())
    for bad in ("127.0.0.1:8070", "ftp://x", "http://127.0.0.1:8070/?x=1"):
        with pytest.raises(posbridge.ConfigError):
            sandbox.Remote(bad)


def test_nothing_there() -> None:
    gone = sandbox.Remote(f"http://127.0.0.1:{closed_port()}", timeout=2)
    assert not gone.is_running()
    with pytest.raises(posbridge.ConnectError):
        gone.hesabe_pay("1")


def test_the_hesabe_customer(sb: sandbox.Sandbox, remote: sandbox.Remote, client: hesabe.Client) -> None:
    paid, declined, cancelled = (client.create_pos_invoice(**SEED_CREATE) for _ in range(3))
    assert remote.hesabe_pay(paid.transaction_id).is_paid
    assert remote.hesabe_decline(declined.transaction_id).state == "failed"
    gone = remote.hesabe_cancel(cancelled.transaction_id)
    assert isinstance(gone, hesabe.PosInvoice) and (gone.state, gone.status, gone.is_final) == ("cancelled", 3, True)
    assert client.pos_invoice(cancelled.id or 0).state == "cancelled"
    with pytest.raises(posbridge.ValidationError) as not_pending:
        remote.hesabe_pay(cancelled.transaction_id)
    assert not_pending.value.field == "transaction_id" and "cancelled" in str(not_pending.value)
    with pytest.raises(posbridge.NotFoundError):
        remote.hesabe_cancel("000")
    invoice = client.create_invoice(amount=Decimal("3.000"), customer_name="Remote")
    assert remote.hesabe_pay_invoice(invoice.token).state == "paid"
    remote.hesabe_expire_tokens()
    assert client.pos_invoice(paid.id or 0).is_paid  # logs in again


def test_the_helcim_customer(sb: sandbox.Sandbox, remote: sandbox.Remote) -> None:
    client = helcim.Client(**remote.helcim_credentials)
    client.purchase("NBL7", Decimal("10.90"), invoice_number="SO300")
    transaction = remote.helcim_complete("NBL7", "approved", card_type="MC")
    assert transaction["amount"] == Decimal("10.90") and transaction["cardType"] == "MC"
    assert remote.helcim_close_batch() == transaction["cardBatchId"]
    remote.helcim_set_listening("NBL7", False)
    with pytest.raises(posbridge.DeviceNotListeningError):
        client.ping("NBL7")
    remote.helcim_set_listening("NBL7", True)
    with pytest.raises(posbridge.NotFoundError):
        remote.helcim_set_listening("ZZZZ", True)
    with pytest.raises(posbridge.ValidationError):
        remote.helcim_complete("NBL7")  # nothing on its screen
    assert remote.helcim_deliveries() == sb.helcim_deliveries()


def test_webhook_url_and_faults(sb: sandbox.Sandbox, remote: sandbox.Remote) -> None:
    remote.helcim_webhook_url = "http://127.0.0.1:8069/payment/card/webhook"
    assert remote.helcim_webhook_url == sb.helcim_webhook_url == "http://127.0.0.1:8069/payment/card/webhook"
    for named in ("http://127.0.0.1:8069/payment/helcim/webhook", "https://HELCIM.example/x"):
        with pytest.raises(posbridge.ConfigError, match="helcim"):
            remote.helcim_webhook_url = named
        with pytest.raises(posbridge.ConfigError, match="helcim"):
            sb.helcim_webhook_url = named
    assert remote.helcim_webhook_url == "http://127.0.0.1:8069/payment/card/webhook"
    remote.helcim_webhook_url = None
    assert sb.helcim_webhook_url is None

    client = helcim.Client(**remote.helcim_credentials)
    remote.inject_fault("http500", path="/v2/devices", method="GET", times=2)
    with pytest.raises(posbridge.ApiError):
        client.devices()
    remote.clear_faults()
    assert client.devices()
    remote.inject_fault("delay", path="/v2/connection-test", delay=0.05)
    assert client.connection_test() == "Connection Successful"
    with pytest.raises(posbridge.ConfigError):
        remote.inject_fault("meteor")


def test_a_paid_pos_invoice_is_refunded_by_its_transaction_token(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    invoice = client.create_pos_invoice(terminal_id="29708454", amount=Decimal("5.000"), customer_name="Fahad", invoice_number="SO301")
    sb.hesabe_pay(invoice.transaction_id)
    # The payment is the POS transaction (service type 6) whose order reference is the invoice's
    # transaction_id; its token names it in a refund request.
    [payment] = [t for t in client.pos_transactions().items if t.order_reference_number == invoice.transaction_id]
    assert payment.state == "success" and payment.amount == Decimal("5.000")
    partial = client.request_refund(payment.token, Decimal("1.500"))
    assert (partial.state, partial.amount, partial.balance_amount, partial.refund_method) == ("pending", Decimal("1.500"), Decimal("3.500"), "2")
    with pytest.raises(posbridge.ApiError, match="3.500"):
        client.request_refund(payment.token, Decimal("3.501"))
    rest = client.request_refund(payment.token)
    assert (rest.amount, rest.balance_amount, rest.refund_method) == (Decimal("3.500"), Decimal("0.000"), "1")
    assert sb.hesabe_set_refund_status(rest.id or 0, 1).state == "approved"


@pytest.fixture
def sandbox_on_a_fixed_port() -> Iterator[str]:
    port = closed_port()
    with sandbox_in_another_process("--host", "127.0.0.1", "--port", str(port)) as info:
        assert info["url"] == f"http://127.0.0.1:{port}"
        yield info["url"]


def test_a_sandbox_in_another_process(sandbox_on_a_fixed_port: str) -> None:
    remote = sandbox.Remote(sandbox_on_a_fixed_port)
    client = hesabe.Client(**remote.hesabe_credentials)
    invoice = client.create_pos_invoice(**SEED_CREATE)
    assert remote.hesabe_pay(invoice.transaction_id).is_paid
    assert client.pos_invoice(invoice.id or 0).is_paid
    assert remote.stats()["pos_invoices_created"] == 1
