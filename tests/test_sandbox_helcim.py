"""The Helcim half of ``sandbox.Sandbox()`` from Python: plain HTTP (``requests``) against
``sb.helcim_url``, the customer at the device, and signed webhooks caught by a local receiver and
checked here with the standard library's HMAC, independently of the Rust verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any, Dict, Iterator, List

import pytest
import requests

import posbridge
from posbridge import sandbox

from helpers import FakeHesabe, Recorded, floats_in

HOOK = "/payment/card/hook"


def purchase(sb: sandbox.Sandbox, code: str, body: Dict[str, Any], token: str = sandbox.HELCIM_API_TOKEN) -> requests.Response:
    return requests.post(f"{sb.helcim_url}/devices/{code}/payment/purchase", json=body, headers={"api-token": token}, timeout=5)


def signature_ok(rec: Recorded) -> bool:
    """Helcim's scheme: base64(HMAC-SHA256(base64decode(token), id.timestamp.body))."""
    key = base64.b64decode(sandbox.HELCIM_VERIFIER_TOKEN)
    signed = f"{rec.header('webhook-id')}.{rec.header('webhook-timestamp')}.".encode() + rec.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, rec.header("webhook-signature") or "")


def wait_for(receiver: FakeHesabe, n: int) -> List[Recorded]:
    deadline = time.monotonic() + 10
    while len(receiver.to("POST", HOOK)) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    got = receiver.to("POST", HOOK)
    assert len(got) == n, got
    return got


@pytest.fixture
def receiver() -> Iterator[FakeHesabe]:
    with FakeHesabe(routes={("POST", HOOK): lambda rec: (200, {})}) as fake:
        yield fake


@pytest.fixture
def helcim_sb(receiver: FakeHesabe) -> Iterator[sandbox.Sandbox]:
    with sandbox.Sandbox(helcim_retry_scale=0.001, helcim_webhook_url=receiver.url + HOOK) as sb:
        yield sb


def test_urls_tokens_and_credentials(sb: sandbox.Sandbox) -> None:
    assert sb.helcim_url == sb.url + "/v2"
    assert sb.helcim_credentials == {"api_token": sandbox.HELCIM_API_TOKEN, "base_url": sb.helcim_url, "currency": "CAD"}
    assert sandbox.HELCIM_CREDENTIALS == {"api_token": sb.helcim_api_token, "currency": "CAD"}
    assert sb.helcim_verifier_token == sandbox.HELCIM_VERIFIER_TOKEN
    assert len(base64.b64decode(sb.helcim_verifier_token)) == 32
    tokens = {sandbox.HELCIM_API_TOKEN, sandbox.HELCIM_POSITIVE_TOKEN, sandbox.HELCIM_READ_ONLY_TOKEN}
    assert len(tokens) == 3
    for token in tokens:
        reply = requests.get(f"{sb.helcim_url}/connection-test", headers={"api-token": token}, timeout=5)
        assert (reply.status_code, reply.json()) == (200, {"message": "Connection Successful"})
        assert reply.headers["minute-limit-remaining"].isdigit() and reply.headers["hour-limit-remaining"].isdigit()
    assert requests.get(f"{sb.helcim_url}/devices", timeout=5).json() == {"errors": "Unauthorized"}
    assert sandbox.HELCIM_API_TOKEN not in repr(sb)


def test_purchase_paid_at_the_device_sends_a_signed_webhook(helcim_sb: sandbox.Sandbox, receiver: FakeHesabe) -> None:
    sb = helcim_sb
    reply = purchase(sb, "DY6L", {"currency": "CAD", "transactionAmount": 10.9, "invoiceNumber": "SO042"})
    assert (reply.status_code, reply.content) == (202, b"")
    transaction = sb.helcim_complete("DY6L", outcome="approved", card_type="VI")
    assert transaction["amount"] == Decimal("10.90") and str(transaction["amount"]) == "10.90"
    assert floats_in(transaction) == []
    assert (transaction["status"], transaction["cardType"], transaction["invoiceNumber"]) == ("APPROVED", "VI", "SO042")

    [rec] = wait_for(receiver, 1)
    assert signature_ok(rec)
    assert json.loads(rec.body) == {"id": str(transaction["transactionId"]), "type": "cardTransaction"}
    assert (rec.header("webhook-id") or "").startswith("msg_")
    assert abs(int(rec.header("webhook-timestamp") or 0) - time.time()) < 10

    fetched = requests.get(f"{sb.helcim_url}/card-transactions/{transaction['transactionId']}", headers={"api-token": sb.helcim_api_token}, timeout=5)
    assert json.loads(fetched.text, parse_float=Decimal) == transaction
    [delivery] = sb.helcim_deliveries()
    assert delivery == {"webhook_id": rec.header("webhook-id"), "type": "cardTransaction", "attempt": 1, "url": sb.helcim_webhook_url, "status": 200, "delivered": True}
    stats = sb.stats()
    assert (stats["purchases_started"], stats["card_transactions"], stats["webhooks_delivered"], stats["webhook_attempts"]) == (1, 1, 1, 1)


def test_cancel_timeout_and_errors(helcim_sb: sandbox.Sandbox, receiver: FakeHesabe) -> None:
    sb = helcim_sb
    assert purchase(sb, "NBL7", {"currency": "CAD", "transactionAmount": 1, "invoiceNumber": "SO043"}).status_code == 202
    data = sb.helcim_complete("NBL7", "cancelled")
    assert (data["deviceCode"], data["transactionAmount"], data["invoiceNumber"]) == ("NBL7", Decimal("1"), "SO043")
    assert data["cancelledAt"].endswith("Z")
    [rec] = wait_for(receiver, 1)
    assert signature_ok(rec) and json.loads(rec.body)["type"] == "terminalCancel"

    assert purchase(sb, "NBL7", {"currency": "CAD", "transactionAmount": 1}).status_code == 202
    assert sb.helcim_complete("NBL7", "timeout") == {}
    with pytest.raises(posbridge.ValidationError):
        sb.helcim_complete("NBL7")
    with pytest.raises(posbridge.NotFoundError):
        sb.helcim_complete("ZZZZ")
    with pytest.raises(posbridge.ConfigError):
        sb.helcim_webhook_url = "not a url"
    busy = purchase(sb, "JFHP", {"currency": "CAD", "transactionAmount": 1})
    assert (busy.status_code, busy.json()) == (409, {"errors": ["device with code JFHP not listening"]})
    sb.helcim_set_listening("JFHP", True)
    assert purchase(sb, "JFHP", {"currency": "CAD", "transactionAmount": 1}).status_code == 202
    forbidden = purchase(sb, "DY6L", {"currency": "CAD", "transactionAmount": 1}, token=sandbox.HELCIM_READ_ONLY_TOKEN)
    assert (forbidden.status_code, forbidden.json()) == (403, {"errors": "No access permission"})
    sb.helcim_webhook_url = None
    assert sb.helcim_webhook_url is None


def test_debit_refund_after_the_batch_closes(helcim_sb: sandbox.Sandbox) -> None:
    sb = helcim_sb
    assert purchase(sb, "DY6L", {"currency": "CAD", "transactionAmount": 20}).status_code == 202
    original = sb.helcim_complete("DY6L")
    refund = {"transactionAmount": 5, "originalTransactionId": original["transactionId"]}
    url = f"{sb.helcim_url}/devices/XY7Z/payment/refund"
    open_batch = requests.post(url, json=refund, headers={"api-token": sb.helcim_api_token}, timeout=5)
    assert open_batch.status_code == 400 and "reverse" in open_batch.json()["errors"]["originalTransactionId"]
    assert sb.helcim_close_batch() == original["cardBatchId"]
    positive = requests.post(url, json=refund, headers={"api-token": sandbox.HELCIM_POSITIVE_TOKEN}, timeout=5)
    assert positive.status_code == 403
    assert requests.post(url, json=refund, headers={"api-token": sb.helcim_api_token}, timeout=5).status_code == 202
    refunded = sb.helcim_complete("XY7Z")
    assert (refunded["type"], refunded["amount"], refunded["cardNumber"]) == ("refund", Decimal("5.00"), original["cardNumber"])


def test_webhook_faults_and_retries(receiver: FakeHesabe) -> None:
    answers = iter([503, 200, 200, 200])
    receiver.routes[("POST", HOOK)] = lambda rec: (next(answers, 200), {})
    with sandbox.Sandbox(helcim_retry_scale=0.001, helcim_webhook_url=receiver.url + HOOK) as sb:
        sb.inject_fault("duplicate_webhook")
        sb.inject_fault("bad_signature")
        assert purchase(sb, "DY6L", {"currency": "CAD", "transactionAmount": 3}).status_code == 202
        sb.helcim_complete("DY6L", "declined")
        got = wait_for(receiver, 3)
        assert len({rec.header("webhook-id") for rec in got}) == 1
        assert [signature_ok(rec) for rec in got] == [False, True, True]
        deadline = time.monotonic() + 5
        while len(sb.helcim_deliveries()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        attempts = [(d["attempt"], d["status"], d["delivered"]) for d in sb.helcim_deliveries()]
        assert attempts == [(1, 503, False), (2, 200, True), (1, 200, True)]
    for kind in ("duplicate_webhook", "bad_signature", "stale_timestamp"):
        assert kind in sandbox.FAULTS


def test_signature_rotation_signs_twice(receiver: FakeHesabe) -> None:
    """During a token rotation the header carries the retiring key's signature first; only the
    second, by the merchant's token, verifies, and posbridge's verifier accepts the delivery."""
    receiver.routes[("POST", HOOK)] = lambda rec: (200, {})
    with sandbox.Sandbox(helcim_webhook_url=receiver.url + HOOK, helcim_signature_rotation=True) as sb:
        assert purchase(sb, "DY6L", {"currency": "CAD", "transactionAmount": 4}).status_code == 202
        sb.helcim_complete("DY6L", "approved")
        [rec] = wait_for(receiver, 1)
        entries = (rec.header("webhook-signature") or "").split(" ")
        assert len(entries) == 2 and all(e.startswith("v1,") for e in entries)
        as_single = [signature_ok(Recorded(rec.method, rec.path, {**rec.headers, "webhook-signature": e}, rec.body)) for e in entries]
        assert as_single == [False, True]
        event = posbridge.helcim.verify_webhook(rec.headers, rec.body, sandbox.HELCIM_VERIFIER_TOKEN)
        assert event.type == "cardTransaction"


def test_options(sb: sandbox.Sandbox) -> None:
    with sandbox.Sandbox(helcim_limits=(5, 2, 100)) as limited:
        headers = {"api-token": limited.helcim_api_token}
        codes = [requests.get(f"{limited.helcim_url}/devices", headers=headers, timeout=5).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
    with sandbox.Sandbox(helcim_limits=None, helcim_idempotency_replay=True) as replaying:
        key = {"api-token": replaying.helcim_api_token, "idempotency-key": "0f8fad5b-d9cb-469f-a165-70867728950e"}
        url = f"{replaying.helcim_url}/devices/DY6L/payment/purchase"
        body = {"currency": "CAD", "transactionAmount": 1}
        assert [requests.post(url, json=body, headers=key, timeout=5).status_code for _ in range(2)] == [202, 202]
        assert replaying.stats()["purchases_started"] == 1
    with pytest.raises(posbridge.ConfigError):
        sandbox.Sandbox(helcim_retry_scale=2.0)
    with pytest.raises(posbridge.ConfigError):
        sandbox.Sandbox(helcim_limits=(0, 1, 1))
