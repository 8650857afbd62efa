"""Helcim's Payment API credit-card refund (``refund_payment``) and
reversal (``reverse_payment``), sync and async, against the
embedded sandbox: the exact request, partial refunds up to the original, debit refused, the
refund announced by webhook, idempotency replays, and the one resend after a lost reply."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
import pytest

import posbridge
from posbridge import helcim, sandbox

from helpers import hits

REFUND = "/v2/payment/refund"
IP = "203.0.113.7"
KEY = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


@pytest.fixture
def client(sb: sandbox.Sandbox) -> helcim.Client:
    return helcim.Client(**sb.helcim_credentials)


def paid_purchase(sb: sandbox.Sandbox, client: helcim.Client, amount: str, invoice_number: str, card_type: str = "VI") -> helcim.CardTransaction:
    """A purchase paid on the device with ``card_type``, its batch then settled."""
    client.purchase("DY6L", Decimal(amount), invoice_number=invoice_number)
    sb.helcim_complete("DY6L", "approved", card_type)
    [purchase] = client.find_card_transactions(invoice_number)
    sb.helcim_close_batch()
    return purchase


def test_the_request_on_the_wire(client: helcim.Client) -> None:
    method, path, body, key = client.wire("refund_payment", original_transaction_id=25764674, amount=Decimal("4.5"), ip_address=IP, idempotency_key=KEY)
    assert (method, path, key) == ("POST", "/payment/refund", KEY)
    assert body == '{"originalTransactionId":25764674,"amount":4.50,"ipAddress":"203.0.113.7","ecommerce":false}'
    _, _, online, generated = client.wire("refund_payment", original_transaction_id="7", amount=1, ip_address="2001:db8::1", ecommerce=True)
    assert online is not None and online.endswith('"ipAddress":"2001:db8::1","ecommerce":true}')
    assert generated is not None and len(generated) == 36


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(amount=1.5), "amount"),
        (dict(amount=Decimal("1.001")), "amount"),
        (dict(amount=Decimal("0")), "amount"),
        (dict(ip_address="pos.example"), "ip_address"),
        (dict(ip_address=""), "ip_address"),
        (dict(ecommerce="yes"), "ecommerce"),
        (dict(original_transaction_id="12a"), "original_transaction_id"),
        (dict(currency="KWD"), "currency"),
        (dict(idempotency_key="short"), "idempotency_key"),
    ],
)
def test_bad_input_sends_nothing(sb: sandbox.Sandbox, client: helcim.Client, kwargs: dict, field: str) -> None:
    args = dict(original_transaction_id=1, amount=Decimal("1.00"), ip_address=IP)
    args.update(kwargs)
    before = hits(sb, "POST", REFUND)
    with pytest.raises(posbridge.ValidationError) as caught:
        client.refund_payment(**args)
    assert caught.value.field == field
    assert hits(sb, "POST", REFUND) == before


def test_partial_refunds_up_to_the_original(sb: sandbox.Sandbox, client: helcim.Client) -> None:
    purchase = paid_purchase(sb, client, "20.00", "SO200", "MC")
    assert purchase.transaction_id is not None and not purchase.is_debit
    refund = client.refund_payment(purchase.transaction_id, Decimal("4.00"), IP)
    assert isinstance(refund, helcim.CardTransaction)
    assert (refund.type, refund.status, refund.is_approved, refund.amount) == ("refund", "APPROVED", True, Decimal("4.00"))
    assert (refund.invoice_number, refund.card_type, refund.card_number) == ("SO200", "MC", purchase.card_number)
    assert refund.transaction_id != purchase.transaction_id
    assert client.card_transaction(refund.transaction_id or 0).type == "refund"
    with pytest.raises(posbridge.ApiError) as over:
        client.refund_payment(purchase.transaction_id, Decimal("16.01"), IP)
    assert over.value.status_code == 400 and "16.00" in over.value.message
    client.refund_payment(purchase.transaction_id, Decimal("16.00"), IP, ecommerce=True)
    listed = client.find_card_transactions("SO200")
    assert [(t.type, t.amount) for t in listed] == [("purchase", Decimal("20.00")), ("refund", Decimal("4.00")), ("refund", Decimal("16.00"))]


def test_debit_and_open_batch_are_refused(sb: sandbox.Sandbox, client: helcim.Client) -> None:
    debit = paid_purchase(sb, client, "10.00", "SO201", "IN")
    with pytest.raises(posbridge.ApiError) as refused:
        client.refund_payment(debit.transaction_id or 0, Decimal("1.00"), IP)
    assert refused.value.status_code == 400 and "on a device" in refused.value.message
    client.purchase("DY6L", Decimal("3.00"), invoice_number="SO202")
    sb.helcim_complete("DY6L", "approved", "VI")
    [open_batch] = client.find_card_transactions("SO202")
    with pytest.raises(posbridge.ApiError) as still_open:
        client.refund_payment(open_batch.transaction_id or 0, Decimal("1.00"), IP)
    assert "reverse" in still_open.value.message


def test_needs_an_admin_token(sb: sandbox.Sandbox, client: helcim.Client) -> None:
    purchase = paid_purchase(sb, client, "5.00", "SO203")
    positive = helcim.Client(api_token=sandbox.HELCIM_POSITIVE_TOKEN, base_url=sb.helcim_url)
    with pytest.raises(posbridge.AuthError):
        positive.refund_payment(purchase.transaction_id or 0, Decimal("1.00"), IP)


def test_the_refund_is_announced_by_webhook(sb: sandbox.Sandbox, client: helcim.Client) -> None:
    purchase = paid_purchase(sb, client, "8.00", "SO204")
    with helcim.WebhookReceiver(sb.helcim_verifier_token) as receiver:
        sb.helcim_webhook_url = receiver.url
        try:
            refund = client.refund_payment(purchase.transaction_id or 0, Decimal("8.00"), IP)
            [event] = receiver.wait_for(1, timeout=10)
        finally:
            sb.helcim_webhook_url = None
    assert isinstance(event, helcim.CardTransactionEvent) and event.transaction_id == str(refund.transaction_id)
    assert client.event_transaction(event).type == "refund"


def test_same_key_is_the_same_refund(sb: sandbox.Sandbox, client: helcim.Client) -> None:
    purchase = paid_purchase(sb, client, "9.00", "SO205")
    before = sb.stats()["payment_refunds"]
    first = client.refund_payment(purchase.transaction_id or 0, Decimal("2.00"), IP, idempotency_key=KEY)
    again = client.refund_payment(purchase.transaction_id or 0, Decimal("2.00"), IP, idempotency_key=KEY)
    assert first == again and first.raw == again.raw
    assert sb.stats()["payment_refunds"] == before + 1
    with pytest.raises(posbridge.ApiError) as conflict:
        client.refund_payment(purchase.transaction_id or 0, Decimal("3.00"), IP, idempotency_key=KEY)
    assert conflict.value.status_code == 409


def test_a_lost_reply_is_resent_once_with_the_same_key(sb: sandbox.Sandbox, client: helcim.Client) -> None:
    purchase = paid_purchase(sb, client, "12.00", "SO206")
    before = (hits(sb, "POST", REFUND), sb.stats()["payment_refunds"])
    sb.inject_fault("drop_reply", path=REFUND)
    refund = client.refund_payment(purchase.transaction_id or 0, Decimal("5.00"), IP)
    assert refund.is_approved and refund.amount == Decimal("5.00")
    # Two requests, one refund: the resend was answered with the first response.
    assert (hits(sb, "POST", REFUND), sb.stats()["payment_refunds"]) == (before[0] + 2, before[1] + 1)
    assert [t.amount for t in client.find_card_transactions("SO206") if t.type == "refund"] == [Decimal("5.00")]


def test_lost_twice_is_outcome_unknown_and_the_key_settles_it(sb: sandbox.Sandbox, client: helcim.Client) -> None:
    purchase = paid_purchase(sb, client, "12.00", "SO207")
    sb.inject_fault("drop_reply", path=REFUND, times=2)
    with pytest.raises(posbridge.OutcomeUnknownError) as unknown:
        client.refund_payment(purchase.transaction_id or 0, Decimal("5.00"), IP, idempotency_key=KEY.replace("3f", "4f"))
    error = unknown.value
    assert error.operation == "refund_payment" and error.idempotency_key == KEY.replace("3f", "4f")
    assert error.reference["original_transaction_id"] == str(purchase.transaction_id) and error.reference["amount"] == "5.00"
    assert "resent once" in error.message and sandbox.HELCIM_API_TOKEN not in error.message
    # Calling again with the key gets the refund that was made, not a second one.
    settled = client.refund_payment(purchase.transaction_id or 0, Decimal("5.00"), IP, idempotency_key=error.idempotency_key)
    assert [t.transaction_id for t in client.find_card_transactions("SO207") if t.type == "refund"] == [settled.transaction_id]


def test_a_5xx_is_outcome_unknown_without_a_resend(sb: sandbox.Sandbox, client: helcim.Client) -> None:
    purchase = paid_purchase(sb, client, "6.00", "SO208")
    before = hits(sb, "POST", REFUND)
    sb.inject_fault("http500", path=REFUND)
    with pytest.raises(posbridge.OutcomeUnknownError) as unknown:
        client.refund_payment(purchase.transaction_id or 0, Decimal("1.00"), IP)
    assert unknown.value.idempotency_key and hits(sb, "POST", REFUND) == before + 1


def test_async_twin(sb: sandbox.Sandbox) -> None:
    sync = helcim.Client(**sb.helcim_credentials)
    purchase = paid_purchase(sb, sync, "7.00", "SO209", "AX")

    async def refund() -> helcim.CardTransaction:
        result: helcim.CardTransaction = await helcim.AsyncClient(**sb.helcim_credentials).refund_payment(purchase.transaction_id or 0, Decimal("7.00"), IP)
        return result

    made = asyncio.run(refund())
    assert (made.type, made.amount, made.card_type) == ("refund", Decimal("7.00"), "AX")
    assert json.loads(json.dumps(made.raw, default=str))["invoiceNumber"] == "SO209"


# -- reverse_payment: the same day, before the batch settles -------------------------------

REVERSE = "/v2/payment/reverse"
REVERSE_KEY = "5a2504e0-4f89-41d3-9a0c-0305e82c3302"


def open_purchase(sb: sandbox.Sandbox, client: helcim.Client, amount: str, invoice_number: str, card_type: str = "VI") -> helcim.CardTransaction:
    """A purchase paid on the device, its batch still open."""
    client.purchase("DY6L", Decimal(amount), invoice_number=invoice_number)
    sb.helcim_complete("DY6L", "approved", card_type)
    [purchase] = client.find_card_transactions(invoice_number)
    return purchase


def test_reverse_on_the_wire(client: helcim.Client) -> None:
    method, path, body, key = client.wire("reverse_payment", card_transaction_id=25764674, ip_address=IP, idempotency_key=KEY)
    assert (method, path, key) == ("POST", "/payment/reverse", KEY)
    assert body == '{"cardTransactionId":25764674,"ipAddress":"203.0.113.7","ecommerce":false}'
    for bad, field in ((dict(card_transaction_id="x"), "card_transaction_id"), (dict(ip_address="nope"), "ip_address"),
                       (dict(idempotency_key="short"), "idempotency_key")):
        with pytest.raises(posbridge.ValidationError) as caught:
            client.reverse_payment(**{"card_transaction_id": 1, "ip_address": IP, **bad})
        assert caught.value.field == field


def test_reverse_the_same_day_gives_all_of_it_back_once(sb: sandbox.Sandbox, client: helcim.Client) -> None:
    purchase = open_purchase(sb, client, "11.00", "SO300")
    before = sb.stats()["payment_reversals"]
    with helcim.WebhookReceiver(sb.helcim_verifier_token) as receiver:
        sb.helcim_webhook_url = receiver.url
        try:
            reversal = client.reverse_payment(purchase.transaction_id or 0, IP, idempotency_key=REVERSE_KEY)
            [event] = receiver.wait_for(1, timeout=10)
        finally:
            sb.helcim_webhook_url = None
    assert (reversal.type, reversal.is_approved, reversal.amount, reversal.invoice_number) == ("reverse", True, Decimal("11.00"), "SO300")
    assert client.event_transaction(event).transaction_id == reversal.transaction_id
    assert client.reverse_payment(purchase.transaction_id or 0, IP, idempotency_key=REVERSE_KEY) == reversal, "a replay: the same reversal"
    assert sb.stats()["payment_reversals"] == before + 1
    with pytest.raises(posbridge.ApiError) as twice:
        client.reverse_payment(purchase.transaction_id or 0, IP)
    assert twice.value.status_code == 400 and "already" in twice.value.message
    sb.helcim_close_batch()
    with pytest.raises(posbridge.ApiError) as nothing_left:
        client.refund_payment(purchase.transaction_id or 0, Decimal("0.01"), IP)
    assert "0.00" in nothing_left.value.message


def test_reverse_after_the_batch_closed_is_refused_and_moves_nothing(sb: sandbox.Sandbox, client: helcim.Client) -> None:
    purchase = paid_purchase(sb, client, "6.00", "SO301")
    before = (sb.stats()["payment_reversals"], hits(sb, "POST", REVERSE))
    with pytest.raises(posbridge.ApiError) as settled:
        client.reverse_payment(purchase.transaction_id or 0, IP)
    assert settled.value.status_code == 400 and "refund it instead" in settled.value.message
    assert (sb.stats()["payment_reversals"], hits(sb, "POST", REVERSE)) == (before[0], before[1] + 1)
    assert [t.type for t in client.find_card_transactions("SO301")] == ["purchase"]
    positive = helcim.Client(api_token=sandbox.HELCIM_POSITIVE_TOKEN, base_url=sb.helcim_url)
    with pytest.raises(posbridge.AuthError):
        positive.reverse_payment(open_purchase(sb, client, "1.00", "SO303").transaction_id or 0, IP)


def test_reverse_async_twin(sb: sandbox.Sandbox) -> None:
    purchase = open_purchase(sb, helcim.Client(**sb.helcim_credentials), "4.25", "SO304", "MC")

    async def reverse() -> helcim.CardTransaction:
        result: helcim.CardTransaction = await helcim.AsyncClient(**sb.helcim_credentials).reverse_payment(purchase.transaction_id or 0, IP)
        return result

    made = asyncio.run(reverse())
    assert (made.type, made.amount, made.card_type) == ("reverse", Decimal("4.25"), "MC")
