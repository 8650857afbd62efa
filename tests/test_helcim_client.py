"""The Helcim client against the embedded sandbox over real HTTP, sync and async: every
endpoint and refusal, the customer's three outcomes, signed webhooks with retries and
duplicates, and no double purchase under any injected fault."""

from __future__ import annotations

import asyncio
import os
import time
from decimal import Decimal
from typing import Iterator

import pytest

from posbridge import (
    ApiError,
    ConfigError,
    AuthError,
    DeviceNotListeningError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    helcim,
    sandbox,
)

from test_runtime import _in_child

UNLIMITED = None


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.Sandbox]:
    with sandbox.Sandbox(helcim_limits=UNLIMITED, helcim_retry_scale=0.001) as server:
        yield server


@pytest.fixture
def client(sb: sandbox.Sandbox) -> helcim.Client:
    return helcim.Client(**sb.helcim_credentials)


@pytest.fixture
def receiver(sb: sandbox.Sandbox) -> Iterator[helcim.WebhookReceiver]:
    with helcim.WebhookReceiver(sb.helcim_verifier_token) as r:
        sb.helcim_webhook_url = r.url
        yield r
    sb.helcim_webhook_url = None


def started(sb: sandbox.Sandbox) -> int:
    return int(sb.stats()["purchases_started"])


def attempts_of(sb: sandbox.Sandbox, webhook_id: str) -> list:
    """The delivery attempts of one message, once the delivered one is logged (the sandbox logs
    an attempt after the receiver has answered it)."""
    deadline = time.monotonic() + 5
    while True:
        attempts = [d for d in sb.helcim_deliveries() if d["webhook_id"] == webhook_id]
        if (attempts and attempts[-1]["delivered"]) or time.monotonic() > deadline:
            return attempts
        time.sleep(0.01)


def test_devices_device_and_ping(client: helcim.Client) -> None:
    devices = client.devices()
    assert {"DY6L", "NBL7", "XY7Z", "JSV5", "JFHP"} <= {d.code for d in devices}
    assert devices.rate_limit is not None and devices.rate_limit.hour_remaining is not None
    assert [d.code for d in client.devices("y6")] == ["DY6L"]
    assert client.devices("QQ") == []
    assert len(client.devices(limit=2)) == 2
    assert client.device("nbl7").date_created
    assert client.ping(" dy6l ").device_code == "DY6L"
    with pytest.raises(DeviceNotListeningError, match="JFHP"):
        client.ping("JFHP")
    with pytest.raises(NotFoundError):
        client.device("ZZZZ")
    assert "Connection Successful" in client.connection_test()


def test_purchase_approved_end_to_end(sb: sandbox.Sandbox, client: helcim.Client, receiver: helcim.WebhookReceiver) -> None:
    payment = client.purchase("DY6L", Decimal("10.99"), "CAD", invoice_number="SO-APPROVED", customer_code="CST-9")
    assert payment.status_code == 202 and not payment.is_paid
    sb.helcim_complete("DY6L", outcome="approved")
    (event,) = receiver.wait_for(1)
    assert isinstance(event, helcim.CardTransactionEvent)
    transaction = client.event_transaction(event)
    assert (transaction.status, transaction.type, transaction.amount, transaction.currency) == ("APPROVED", "purchase", Decimal("10.99"), "CAD")
    assert (transaction.invoice_number, transaction.customer_code, transaction.card_type) == ("SO-APPROVED", "CST-9", "IN")
    assert transaction.is_approved and transaction.is_debit
    assert [t.transaction_id for t in client.find_card_transactions("SO-APPROVED", Decimal("10.99"))] == [transaction.transaction_id]
    assert client.find_card_transactions("SO-APPROVED", Decimal("1.00")) == []
    assert client.card_transaction(str(transaction.transaction_id)) == transaction


def test_declined_is_a_card_transaction_too(sb: sandbox.Sandbox, client: helcim.Client, receiver: helcim.WebhookReceiver) -> None:
    client.purchase("NBL7", Decimal("3.50"), invoice_number="SO-DECLINED")
    sb.helcim_complete("NBL7", outcome="declined", card_type="VI")
    transaction = client.event_transaction(receiver.wait_for(1)[0])
    assert (transaction.status, transaction.is_approved, transaction.card_batch_id, transaction.card_type) == ("DECLINED", False, 0, "VI")


def test_cancelled_on_the_device(sb: sandbox.Sandbox, client: helcim.Client, receiver: helcim.WebhookReceiver) -> None:
    client.purchase("XY7Z", Decimal("7.25"), invoice_number="SO-CANCEL")
    sb.helcim_complete("XY7Z", outcome="cancelled")
    (event,) = receiver.wait_for(1)
    assert isinstance(event, helcim.TerminalCancelEvent)
    assert (event.device_code, event.currency, event.transaction_amount, event.invoice_number) == ("XY7Z", "CAD", Decimal("7.25"), "SO-CANCEL")
    assert event.cancelled_at and event.cancelled_at.endswith("Z")
    assert client.find_card_transactions("SO-CANCEL") == []


def test_timeout_on_the_device_sends_nothing(sb: sandbox.Sandbox, client: helcim.Client, receiver: helcim.WebhookReceiver) -> None:
    client.purchase("JSV5", Decimal("1.00"), invoice_number="SO-TIMEOUT")
    assert sb.helcim_complete("JSV5", outcome="timeout") == {}
    time.sleep(0.1)
    assert receiver.events == [] and client.find_card_transactions("SO-TIMEOUT") == []
    with pytest.raises(TimeoutError):
        client.wait_for_transaction("SO-TIMEOUT", timeout=0.2, interval=0.05)


def test_busy_and_not_listening_devices(sb: sandbox.Sandbox, client: helcim.Client) -> None:
    client.purchase("DY6L", Decimal("2.00"), invoice_number="SO-BUSY-1")
    before = started(sb)
    with pytest.raises(ApiError, match="busy") as info:
        client.purchase("DY6L", Decimal("2.00"), invoice_number="SO-BUSY-2")
    assert info.value.status_code == 409 and not isinstance(info.value, DeviceNotListeningError)
    sb.helcim_complete("DY6L", outcome="timeout")
    sb.helcim_set_listening("NBL7", False)
    try:
        with pytest.raises(DeviceNotListeningError):
            client.purchase("NBL7", Decimal("2.00"))
    finally:
        sb.helcim_set_listening("NBL7", True)
    assert started(sb) == before


def test_tokens_and_permissions(sb: sandbox.Sandbox) -> None:
    url = sb.helcim_url
    with pytest.raises(AuthError) as info:
        helcim.Client(api_token="not-a-token", base_url=url).devices()
    assert info.value.status_code == 401
    read_only = helcim.Client(api_token=sandbox.HELCIM_READ_ONLY_TOKEN, base_url=url, currency="CAD")
    assert read_only.devices()
    with pytest.raises(AuthError) as info:
        read_only.purchase("DY6L", Decimal("1.00"))
    assert info.value.status_code == 403
    positive = helcim.Client(api_token=sandbox.HELCIM_POSITIVE_TOKEN, base_url=url, currency="CAD")
    with pytest.raises(AuthError) as info:
        positive.refund("DY6L", Decimal("1.00"), 25764675)
    assert info.value.status_code == 403


def test_debit_refund_rules(sb: sandbox.Sandbox, client: helcim.Client, receiver: helcim.WebhookReceiver) -> None:
    client.purchase("DY6L", Decimal("20.00"), invoice_number="SO-REFUND")
    original = client.event_transaction(_after(receiver, lambda: sb.helcim_complete("DY6L")))
    with pytest.raises(ApiError, match="open batch|reverse"):
        client.refund("DY6L", Decimal("5.00"), original.transaction_id)
    sb.helcim_close_batch()
    with pytest.raises(ApiError) as info:
        client.refund("DY6L", Decimal("20.01"), original.transaction_id)
    assert info.value.status_code == 400
    refund = client.refund("DY6L", Decimal("5"), original.transaction_id)
    assert (refund.operation, refund.amount, refund.original_transaction_id) == ("refund", Decimal("5.00"), original.transaction_id)
    refunded = client.event_transaction(_after(receiver, lambda: sb.helcim_complete("DY6L")))
    assert (refunded.type, refunded.status, refunded.amount) == ("refund", "APPROVED", Decimal("5.00"))
    client.purchase("NBL7", Decimal("9.00"), invoice_number="SO-CREDIT")
    credit = client.event_transaction(_after(receiver, lambda: sb.helcim_complete("NBL7", card_type="VI")))
    sb.helcim_close_batch()
    with pytest.raises(ApiError, match="(?i)credit|payment api"):
        client.refund("NBL7", Decimal("1.00"), credit.transaction_id)


def _after(receiver: helcim.WebhookReceiver, action: object) -> object:
    count = len(receiver.events)
    action()  # type: ignore[operator]
    return receiver.wait_for(count + 1)[-1]


def test_the_sandbox_refuses_another_currency(sb: sandbox.Sandbox) -> None:
    no_currency = helcim.Client(api_token=sandbox.HELCIM_API_TOKEN, base_url=sb.helcim_url)
    before = started(sb)
    with pytest.raises(ApiError, match="currency") as info:
        no_currency.purchase("DY6L", Decimal("1.00"), "USD")
    assert info.value.status_code == 400 and started(sb) == before


@pytest.mark.parametrize("fault, processed", [("http500", 0), ("drop_reply", 1), ("delay", 1)])
def test_no_double_purchase_under_faults(sb: sandbox.Sandbox, fault: str, processed: int, receiver: helcim.WebhookReceiver) -> None:
    client = helcim.Client(**sb.helcim_credentials, timeout=0.5)
    number = f"SO-FAULT-{fault}"
    before = started(sb)
    sb.inject_fault(fault, path="/v2/devices/JSV5/payment/purchase", delay=1.5)
    with pytest.raises(OutcomeUnknownError) as info:
        client.purchase("JSV5", Decimal("12.34"), invoice_number=number)
    assert info.value.invoice_number == number and info.value.idempotency_key
    time.sleep(1.2 if fault == "delay" else 0.05)
    assert started(sb) == before + processed, "sent exactly once, never retried"
    if processed:
        sb.helcim_complete("JSV5")
        receiver.wait_for(1)
        (found,) = client.find_card_transactions(number, Decimal("12.34"))
        assert found.is_approved
    else:
        assert client.find_card_transactions(number) == []


def test_webhook_retries_keep_the_id(sb: sandbox.Sandbox, client: helcim.Client) -> None:
    failures = []

    def flaky(event: object) -> None:
        if len(failures) < 2:
            failures.append(event)
            raise RuntimeError("database busy")

    with helcim.WebhookReceiver(sb.helcim_verifier_token, on_event=flaky) as receiver:
        sb.helcim_webhook_url = receiver.url
        client.purchase("XY7Z", Decimal("4.00"), invoice_number="SO-RETRY")
        sb.helcim_complete("XY7Z")
        (event,) = receiver.wait_for(1, timeout=15)
    sb.helcim_webhook_url = None
    attempts = attempts_of(sb, event.webhook_id)
    assert [d["attempt"] for d in attempts] == [1, 2, 3] and [d["status"] for d in attempts] == [500, 500, 200]
    assert {f.webhook_id for f in failures} == {event.webhook_id}  # type: ignore[attr-defined]


def test_duplicate_deliveries_are_taken_once(sb: sandbox.Sandbox, client: helcim.Client, receiver: helcim.WebhookReceiver) -> None:
    sb.inject_fault("duplicate_webhook")
    client.purchase("DY6L", Decimal("6.00"), invoice_number="SO-DUP")
    sb.helcim_complete("DY6L")
    receiver.wait_for(1)
    deadline = time.monotonic() + 5
    while receiver.duplicates < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(receiver.events) == 1 and receiver.duplicates == 1


@pytest.mark.parametrize("fault, reason", [("bad_signature", "no webhook signature matches"), ("stale_timestamp", "too old")])
def test_untrusted_deliveries_are_refused_then_the_retry_is_taken(
    sb: sandbox.Sandbox, client: helcim.Client, receiver: helcim.WebhookReceiver, fault: str, reason: str
) -> None:
    sb.inject_fault(fault)
    client.purchase("NBL7", Decimal("8.00"), invoice_number=f"SO-{fault}")
    sb.helcim_complete("NBL7")
    (event,) = receiver.wait_for(1, timeout=10)
    assert any(reason in r for r in receiver.rejected)
    attempts = attempts_of(sb, event.webhook_id)
    assert attempts[0]["status"] == 401 and attempts[-1]["delivered"]


def test_rate_limits() -> None:
    with sandbox.Sandbox(helcim_limits=(5, 3, 3000)) as small:
        client = helcim.Client(**small.helcim_credentials)
        remaining = [client.devices().rate_limit.minute_remaining for _ in range(3)]  # type: ignore[union-attr]
        assert remaining == [2, 1, 0]
        with pytest.raises(RateLimitedError) as info:
            client.devices()
        assert info.value.status_code == 429 and info.value.retry_after == 60


def test_idempotency_replay_when_the_sandbox_honours_it() -> None:
    with sandbox.Sandbox(helcim_idempotency_replay=True) as replaying:
        client = helcim.Client(**replaying.helcim_credentials)
        key = "SO042-attempt-1-0123456789abcdef"
        first = client.purchase("DY6L", Decimal("5.00"), invoice_number="SO042", idempotency_key=key)
        again = client.purchase("DY6L", Decimal("5.00"), invoice_number="SO042", idempotency_key=key)
        assert first.idempotency_key == again.idempotency_key == key
        assert replaying.stats()["purchases_started"] == 1
        with pytest.raises(ApiError) as info:
            client.purchase("DY6L", Decimal("6.00"), invoice_number="SO042", idempotency_key=key)
        assert info.value.status_code == 409


def test_a_transaction_visible_late_is_fetched_with_retries() -> None:
    with sandbox.Sandbox(helcim_transaction_delay=0.4, helcim_retry_scale=0.001) as slow:
        with helcim.WebhookReceiver(slow.helcim_verifier_token) as receiver:
            slow.helcim_webhook_url = receiver.url
            client = helcim.Client(**slow.helcim_credentials)
            client.purchase("DY6L", Decimal("1.00"), invoice_number="SO-LATE")
            slow.helcim_complete("DY6L")
            (event,) = receiver.wait_for(1)
            with pytest.raises(NotFoundError):
                client.card_transaction(event.transaction_id)  # type: ignore[attr-defined]
            assert client.event_transaction(event).invoice_number == "SO-LATE"


def test_async_client(sb: sandbox.Sandbox, receiver: helcim.WebhookReceiver) -> None:
    async def main() -> None:
        client = helcim.AsyncClient(**sb.helcim_credentials)
        devices, ping = await asyncio.gather(client.devices(), client.ping("DY6L"))
        assert "DY6L" in {d.code for d in devices} and ping.status_code == 202
        payment = await client.purchase("DY6L", Decimal("15.00"), invoice_number="SO-ASYNC")
        assert payment.status_code == 202
        sb.helcim_complete("DY6L")
        event = await asyncio.to_thread(lambda: receiver.wait_for(1)[0])
        transaction = await client.event_transaction(event)
        assert transaction.invoice_number == "SO-ASYNC" and transaction.is_approved
        assert [t.transaction_id for t in await client.find_card_transactions("SO-ASYNC")] == [transaction.transaction_id]
        with pytest.raises(DeviceNotListeningError):
            await client.purchase("JFHP", Decimal("1.00"))
        with pytest.raises(OutcomeUnknownError):
            sb.inject_fault("http500", path="/v2/devices/DY6L/payment/purchase")
            await client.purchase("DY6L", Decimal("1.00"), invoice_number="SO-ASYNC-500")

    asyncio.run(main())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_client_works_in_a_forked_child(sb: sandbox.Sandbox) -> None:
    client = helcim.Client(**sb.helcim_credentials)
    aclient = helcim.AsyncClient(**sb.helcim_credentials)
    assert client.devices() and asyncio.run(aclient.devices())
    before = started(sb)

    def child() -> None:
        assert client.ping("DY6L").status_code == 202
        client.purchase("DY6L", Decimal("1.00"), invoice_number="SO-FORK")
        assert asyncio.run(aclient.ping("NBL7")).status_code == 202

    assert _in_child(child) == 0
    assert started(sb) == before + 1
    sb.helcim_complete("DY6L", outcome="timeout")
    assert client.devices()


def test_suspected_duplicate_declined_when_the_check_is_on() -> None:
    """Helcim's suspected-duplicate check (spec §7.3): same card, cardholder and amount as an
    approved purchase from the last 5 minutes → declined, with `errors` saying why. Another
    amount or card is not a duplicate; with the check off (the default) nothing is declined."""
    with sandbox.Sandbox(helcim_limits=UNLIMITED, helcim_duplicate_check=True) as checked:
        client = helcim.Client(**checked.helcim_credentials)

        def pay(amount: str, card_type: str = "IN") -> helcim.CardTransaction:
            client.purchase("DY6L", Decimal(amount))
            record = checked.helcim_complete("DY6L", "approved", card_type=card_type)
            return client.card_transaction(record["transactionId"])

        first = pay("25.00")
        assert first.is_approved and first.errors is None
        again = pay("25.00")
        assert not again.is_approved and again.status == "DECLINED" and again.card_batch_id == 0
        assert again.errors == "Transaction Declined: DECLINED - Suspected duplicate transaction in the last 5 minutes."
        assert pay("25.01").is_approved
        assert pay("25.00", card_type="VI").is_approved
    with sandbox.Sandbox(helcim_limits=UNLIMITED) as unchecked:
        client = helcim.Client(**unchecked.helcim_credentials)
        for _ in range(2):
            client.purchase("DY6L", Decimal("25.00"))
            assert unchecked.helcim_complete("DY6L", "approved")["status"] == "APPROVED"


def test_fee_saver_surcharges_approved_credit_card_purchases() -> None:
    """In-person Fee Saver (spec §10 #16): an approved credit-card purchase is charged the
    amount plus the surcharge; Interac debit and declined purchases are not surcharged."""
    with sandbox.Sandbox(helcim_limits=UNLIMITED, helcim_fee_saver=3.5) as fee:
        client = helcim.Client(**fee.helcim_credentials)

        def pay(amount: str, card_type: str, outcome: str = "approved") -> helcim.CardTransaction:
            started = client.purchase("NBL7", Decimal(amount), invoice_number=f"FS-{card_type}-{outcome}")
            record = fee.helcim_complete("NBL7", outcome, card_type=card_type)
            transaction = client.card_transaction(record["transactionId"])
            assert transaction.invoice_number == started.invoice_number
            return transaction

        assert pay("100.00", "VI").amount == Decimal("103.50")
        assert pay("10.99", "MC").amount == Decimal("11.37")
        assert pay("100.00", "IN").amount == Decimal("100.00")
        assert pay("100.00", "VI", "declined").amount == Decimal("100.00")
        # What the merchant finds by invoice number is what was charged.
        [found] = client.find_card_transactions("FS-VI-approved")
        assert found.amount == Decimal("103.50")
    for bad in (-1, 10.5, 3.555, float("nan")):
        with pytest.raises(ConfigError):
            sandbox.Sandbox(helcim_fee_saver=bad)


def test_refund_declines_at_the_device_when_asked() -> None:
    """Spec §10 #8's other reading: an open-batch original or an over-refund is taken (202),
    then declined at the device with `errors`; a refund within the rules still goes through,
    and a refund that was taken but will be declined does not use up what is left."""
    with sandbox.Sandbox(helcim_limits=UNLIMITED, helcim_refund_declines=True) as sb:
        client = helcim.Client(**sb.helcim_credentials)
        client.purchase("DY6L", Decimal("20.00"), invoice_number="SO-RD")
        original = sb.helcim_complete("DY6L", "approved")["transactionId"]

        def refund(amount: str) -> helcim.CardTransaction:
            started = client.refund("DY6L", Decimal(amount), original)
            assert started.status_code == 202
            return client.card_transaction(sb.helcim_complete("DY6L", "approved")["transactionId"])

        open_batch = refund("5.00")
        assert (open_batch.type, open_batch.status) == ("refund", "DECLINED")
        assert open_batch.errors is not None and "open batch" in open_batch.errors
        sb.helcim_close_batch()
        too_much = refund("20.01")
        assert too_much.status == "DECLINED" and "exceeds" in (too_much.errors or "")
        assert refund("20.00").is_approved
        client.purchase("NBL7", Decimal("9.00"))
        credit = sb.helcim_complete("NBL7", "approved", card_type="VI")["transactionId"]
        sb.helcim_close_batch()
        with pytest.raises(ApiError, match="(?i)credit|payment api"):  # still a 400: not an §10 #8 case
            client.refund("NBL7", Decimal("1.00"), credit)
