"""The Helcim client against a fake Helcim that records the wire: headers, exact bodies, every
error body shape of the spec (§2.5), rate-limit headers, and what a lost reply becomes."""

from __future__ import annotations

import asyncio
import json
import re
import time
from decimal import Decimal

import pytest

from posbridge import (
    ApiError,
    AuthError,
    ConnectError,
    DeviceNotListeningError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ValidationError,
    helcim,
)

from helpers import DROP, FakeVendor, closed_port

PURCHASE = "/v2/devices/DY6L/payment/purchase"
REFUND = "/v2/devices/DY6L/payment/refund"
RATE = {"minute-limit-remaining": "83", "hour-limit-remaining": "3000"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def client(fake: FakeVendor, **kwargs) -> helcim.Client:
    return helcim.Client(api_token="test-token-123", base_url=fake.url + "/v2", currency="CAD", **kwargs)


def test_purchase_on_the_wire():
    with FakeVendor({("POST", PURCHASE): lambda r: (202, b"", RATE)}) as fake:
        started = client(fake).purchase(" dy6l ", Decimal("10.9"), "cad", invoice_number="SO042", customer_code="CST7")
        (req,) = fake.requests
        assert req.header("api-token") == "test-token-123"
        assert req.header("content-type") == "application/json" and req.header("accept") == "application/json"
        assert req.body == b'{"currency":"CAD","transactionAmount":10.90,"invoiceNumber":"SO042","customerCode":"CST7"}'
        assert UUID.match(req.header("idempotency-key"))
        assert started.idempotency_key == req.header("idempotency-key")
        assert (started.operation, started.device_code, started.amount, started.currency) == ("purchase", "DY6L", Decimal("10.90"), "CAD")
        assert (started.invoice_number, started.status_code, started.is_paid) == ("SO042", 202, False)
        assert started.rate_limit == helcim.RateLimit(minute_remaining=83, hour_remaining=3000)


def test_given_idempotency_key_and_client_currency():
    key = "order-SO042-attempt-0001-abcdef"
    with FakeVendor({("POST", PURCHASE): lambda r: (202, "")}) as fake:
        client(fake).purchase("DY6L", 5, idempotency_key=key)
        assert fake.requests[0].header("idempotency-key") == key
        assert json.loads(fake.requests[0].body) == {"currency": "CAD", "transactionAmount": 5}
        assert fake.requests[0].body == b'{"currency":"CAD","transactionAmount":5.00}'


def test_refund_on_the_wire():
    with FakeVendor({("POST", REFUND): lambda r: (202, b"")}) as fake:
        started = client(fake).refund("DY6L", Decimal("4.5"), 25764674)
        assert fake.requests[0].body == b'{"transactionAmount":4.50,"originalTransactionId":25764674,"currency":"CAD"}'
        assert started.original_transaction_id == 25764674 and started.operation == "refund"


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda c: c.purchase("DY6", Decimal("1")), "code"),
        (lambda c: c.purchase("DY6L!", Decimal("1")), "code"),
        (lambda c: c.purchase("DY6L", Decimal("1.001")), "amount"),
        (lambda c: c.purchase("DY6L", Decimal("0")), "amount"),
        (lambda c: c.purchase("DY6L", Decimal("-5")), "amount"),
        (lambda c: c.purchase("DY6L", Decimal("NaN")), "amount"),
        (lambda c: c.purchase("DY6L", 10.99), "amount"),
        (lambda c: c.purchase("DY6L", Decimal("1"), "USD"), "currency"),
        (lambda c: c.purchase("DY6L", Decimal("1"), "KWD"), "currency"),
        (lambda c: c.purchase("DY6L", Decimal("1"), idempotency_key="too-short"), "idempotency_key"),
        (lambda c: c.purchase("DY6L", Decimal("1"), idempotency_key="has spaces in it 0123456789"), "idempotency_key"),
        (lambda c: c.refund("DY6L", Decimal("1"), "12ab"), "original_transaction_id"),
        (lambda c: c.card_transaction("abc"), "id"),
        (lambda c: c.devices(offset=1, page=1), "page"),
        (lambda c: c.devices(limit=500), "limit"),
        (lambda c: c.card_transactions(date_from="14/01/2026"), "date_from"),
    ],
)
def test_bad_input_is_refused_before_sending(call, field):
    with FakeVendor() as fake:
        with pytest.raises(ValidationError) as info:
            call(client(fake))
        assert info.value.field == field
        assert fake.requests == []


def test_currency_needed_when_the_client_has_none():
    with FakeVendor() as fake:
        bare = helcim.Client(api_token="t", base_url=fake.url + "/v2")
        with pytest.raises(ValidationError, match="currency"):
            bare.purchase("DY6L", Decimal("1"))
        assert fake.requests == []


@pytest.mark.parametrize(
    "status, body, error, message",
    [
        (401, {"errors": "Unauthorized"}, AuthError, "Unauthorized"),
        (403, {"errors": "No access permission"}, AuthError, "No access permission"),
        (404, {"errors": ["Device Not Found"]}, NotFoundError, "Device Not Found"),
        (409, {"errors": ["device with code DY6L not listening"]}, DeviceNotListeningError, "not listening"),
        (409, {"errors": ["device with code DY6L is busy"]}, ApiError, "is busy"),
        (400, {"errors": {"currency": "Invalid currency"}}, ApiError, "currency: Invalid currency"),
        (400, {"status": "error", "errors": {"ERR_AMOUNT": [{"code": "x", "message": "Amount too large"}]}}, ApiError, "ERR_AMOUNT: Amount too large"),
        (400, {"message": "Bad request"}, ApiError, "Bad request"),
        (403, "<!DOCTYPE html><html><body>Blocked</body></html>", AuthError, "HTML page"),
    ],
)
def test_every_error_shape(status, body, error, message):
    with FakeVendor({("POST", PURCHASE): lambda r: (status, body)}) as fake:
        with pytest.raises(error, match=message) as info:
            client(fake).purchase("DY6L", Decimal("1"))
        assert type(info.value) is error
        assert info.value.status_code == status
        assert info.value.body is not None


def test_rate_limited_with_and_without_retry_after():
    with FakeVendor({("GET", "/v2/devices"): lambda r: (429, {"errors": "Too many requests"}, {"retry-after": "7", **RATE})}) as fake:
        with pytest.raises(RateLimitedError) as info:
            client(fake).devices()
        assert info.value.retry_after == 7
    spent = {"minute-limit-remaining": "40", "hour-limit-remaining": "0"}
    with FakeVendor({("GET", "/v2/devices"): lambda r: (429, {"errors": "Too many requests"}, spent)}) as fake:
        with pytest.raises(RateLimitedError) as info:
            client(fake).devices()
        assert info.value.retry_after == 3600
    with FakeVendor({("GET", "/v2/devices"): lambda r: (429, {"errors": "Too many requests"})}) as fake:
        with pytest.raises(RateLimitedError) as info:
            client(fake).devices()
        assert info.value.retry_after == 60


@pytest.mark.parametrize("reply", [(500, {"errors": ["Internal Server Error"]}), (502, "Bad Gateway"), (503, b"")])
def test_a_5xx_after_a_purchase_is_outcome_unknown_and_never_resent(reply):
    with FakeVendor({("POST", PURCHASE): lambda r: reply}) as fake:
        with pytest.raises(OutcomeUnknownError) as info:
            client(fake).purchase("DY6L", Decimal("10.99"), invoice_number="SO042")
        assert len(fake.requests) == 1
        error = info.value
        assert error.operation == "purchase"
        assert error.invoice_number == "SO042"
        assert error.idempotency_key == fake.requests[0].header("idempotency-key")
        assert error.reference["transaction_amount"] == "10.99" and error.reference["device_code"] == "DY6L"


def test_a_dropped_reply_is_outcome_unknown():
    with FakeVendor({("POST", PURCHASE): lambda r: (202, DROP)}) as fake:
        with pytest.raises(OutcomeUnknownError) as info:
            client(fake).purchase("DY6L", Decimal("1"), invoice_number="SO1")
        assert len(fake.requests) == 1 and info.value.invoice_number == "SO1"


def test_a_timeout_is_outcome_unknown():
    def slow(r):
        time.sleep(1.0)
        return 202, b""

    with FakeVendor({("POST", PURCHASE): slow}) as fake:
        with pytest.raises(OutcomeUnknownError, match="timed out"):
            client(fake, timeout=0.3).purchase("DY6L", Decimal("1"))
        assert len(fake.requests) == 1


def test_no_connection_means_nothing_was_sent():
    dead = helcim.Client(api_token="t", base_url=f"http://127.0.0.1:{closed_port()}/v2", currency="CAD")
    with pytest.raises(ConnectError):
        dead.purchase("DY6L", Decimal("1"))


def test_a_5xx_on_a_read_is_an_api_error():
    with FakeVendor({("GET", "/v2/devices/DY6L"): lambda r: (500, {"errors": ["Internal Server Error"]})}) as fake:
        with pytest.raises(ApiError) as info:
            client(fake).device("DY6L")
        assert not isinstance(info.value, OutcomeUnknownError) and info.value.status_code == 500


def test_reads_and_queries():
    device = {"code": "DY6L", "dateCreated": "2024-02-09 14:08:08", "extra": 1}
    routes = {
        ("GET", "/v2/devices"): lambda r: (200, [device], RATE),
        ("GET", "/v2/devices/DY6L"): lambda r: (200, device),
        ("GET", "/v2/devices/DY6L/ping"): lambda r: (202, b"", RATE),
        ("GET", "/v2/card-transactions"): lambda r: (200, [{"transactionId": 5, "amount": "10.99", "status": "APPROVED", "invoiceNumber": "SO042"}]),
    }
    with FakeVendor(routes) as fake:
        c = client(fake)
        devices = c.devices("y6", limit=10)
        assert fake.requests[-1].path == "/v2/devices?code=Y6&limit=10"
        assert [d.code for d in devices] == ["DY6L"] and devices[0].date_created == "2024-02-09 14:08:08"
        assert devices[0].raw["extra"] == 1 and devices.rate_limit.minute_remaining == 83
        assert c.device("dy6l").code == "DY6L"
        ping = c.ping("DY6L")
        assert (ping.device_code, ping.status_code, ping.rate_limit.hour_remaining) == ("DY6L", 202, 3000)
        found = c.find_card_transactions("SO042", Decimal("10.99"))
        assert fake.requests[-1].path == "/v2/card-transactions?invoiceNumber=SO042"
        assert [t.transaction_id for t in found] == [5] and found[0].amount == Decimal("10.99") and found[0].is_approved
        assert c.find_card_transactions("SO042", Decimal("11")) == []
        c.card_transactions(invoice_number="SO 1", date_from="2026-01-01", card_batch_id=3, limit=5)
        assert fake.requests[-1].path == "/v2/card-transactions?dateFrom=2026-01-01&invoiceNumber=SO%201&cardBatchId=3&limit=5"


def test_devices_not_found_is_an_empty_list_but_a_wrong_path_is_not():
    with FakeVendor({("GET", "/v2/devices"): lambda r: (404, {"errors": ["Devices Not Found"]})}) as fake:
        assert client(fake).devices("ZZ") == []
    with FakeVendor() as fake:
        with pytest.raises(NotFoundError):
            helcim.Client(api_token="t", base_url=fake.url + "/v3").devices()


def test_card_transaction_retries_a_404_only_when_asked():
    calls = []

    def appears_late(r):
        calls.append(r)
        return (404, {"errors": ["Not Found"]}) if len(calls) < 3 else (200, {"transactionId": 42, "status": "DECLINED", "amount": 1})

    with FakeVendor({("GET", "/v2/card-transactions/42"): appears_late}) as fake:
        with pytest.raises(NotFoundError):
            client(fake).card_transaction(42)
        calls.clear()
        transaction = client(fake).card_transaction(42, not_found_retries=3)
        assert (transaction.transaction_id, transaction.status, transaction.is_approved, len(calls)) == (42, "DECLINED", False, 3)
        assert transaction.amount == Decimal("1.00")


def test_async_client_same_wire_and_errors():
    async def main():
        with FakeVendor({("POST", PURCHASE): lambda r: (202, b""), ("GET", "/v2/devices/XY7Z/ping"): lambda r: (409, {"errors": ["device with code XY7Z not listening"]})}) as fake:
            c = helcim.AsyncClient(api_token="t", base_url=fake.url + "/v2", currency="CAD")
            started = await c.purchase("DY6L", Decimal("2.5"), invoice_number="SO9")
            assert fake.requests[0].body == b'{"currency":"CAD","transactionAmount":2.50,"invoiceNumber":"SO9"}'
            assert started.idempotency_key
            with pytest.raises(DeviceNotListeningError):
                await c.ping("xy7z")

    asyncio.run(main())


def test_wire_and_repr_never_show_the_token():
    c = helcim.Client(api_token="super-secret-token-value", base_url="http://127.0.0.1:1/v2", currency="CAD")
    method, path, body, key = c.wire("purchase", code="DY6L", amount=Decimal("1"))
    assert (method, path, body) == ("POST", "/devices/DY6L/payment/purchase", '{"currency":"CAD","transactionAmount":1.00}')
    assert "super-secret" not in repr(c) and "super-secret" not in repr(c._native)
    with pytest.raises(ConnectError) as info:
        c.devices()
    assert "super-secret" not in str(info.value)


def test_client_side_rate_limiter_keeps_five_in_flight():
    in_flight, peak = [0], [0]
    import threading

    lock = threading.Lock()

    def slow(r):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.1)
        with lock:
            in_flight[0] -= 1
        return 200, []

    with FakeVendor({("GET", "/v2/devices"): slow}) as fake:
        limited = client(fake, rate_limit=True)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(12) as pool:
            list(pool.map(lambda _: limited.devices(), range(12)))
        assert peak[0] <= 5 and len(fake.requests) == 12
