"""helcim.verify_webhook: the spec's vectors, every kind of tampering, every header form, and
the typed events. All refusals are SignatureError; nothing here touches the network."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from decimal import Decimal

import pytest

from posbridge import ConfigError, DecodeError, SignatureError, helcim

TOKEN = "c2ltdWxhdG9yLXRlc3QtdmVyaWZpZXIta2V5LTMyYiE="
TS = 1716412291
BODY_1 = b'{"id":"25764674","type":"cardTransaction"}'
SIG_1 = "v1,NC+lLrWdZAC6+mqCfTaSAyOCC5D4olDajSwEWzjNGfc="
BODY_2 = b'{"type":"terminalCancel","data":{"deviceCode":"NBL7","currency":"CAD","transactionAmount":1,"cancelledAt":"2026-01-14T18:38:18Z"}}'
SIG_2 = "v1,MiNHsG66e07PXx0/nkM6sGpCqBS1IJCXGo437YKGd9M="


def sign(body: bytes, webhook_id: str = "msg_sim_0001", ts: int = TS, token: str = TOKEN) -> str:
    """The peer's (Python's) signature, to cross-check the native one."""
    key = base64.b64decode(token)
    mac = hmac.new(key, f"{webhook_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(webhook_id: str = "msg_sim_0001", ts: object = TS, signature: str = SIG_1) -> dict:
    return {"webhook-id": webhook_id, "webhook-timestamp": str(ts), "webhook-signature": signature}


def test_spec_vector_1_card_transaction():
    event = helcim.verify_webhook(headers(), BODY_1, TOKEN, now=TS)
    assert isinstance(event, helcim.CardTransactionEvent)
    assert isinstance(event, helcim.WebhookEvent)
    assert (event.type, event.transaction_id, event.webhook_id, event.timestamp) == ("cardTransaction", "25764674", "msg_sim_0001", TS)
    assert event.raw == {"id": "25764674", "type": "cardTransaction"}


def test_spec_vector_2_terminal_cancel():
    event = helcim.verify_webhook(headers("msg_sim_0002", signature=SIG_2), BODY_2, TOKEN, now=TS)
    assert isinstance(event, helcim.TerminalCancelEvent)
    assert (event.device_code, event.currency, event.cancelled_at, event.invoice_number) == ("NBL7", "CAD", "2026-01-14T18:38:18Z", None)
    assert event.transaction_amount == Decimal("1") and isinstance(event.transaction_amount, Decimal)


def test_python_and_native_signatures_agree():
    assert sign(BODY_1) == SIG_1
    assert sign(BODY_2, "msg_sim_0002") == SIG_2


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h, b: (h, b'{"id":"25764675","type":"cardTransaction"}'), id="body"),
        pytest.param(lambda h, b: (h, BODY_1 + b" "), id="body-whitespace"),
        pytest.param(lambda h, b: ({**h, "webhook-id": "msg_sim_0003"}, b), id="id"),
        pytest.param(lambda h, b: ({**h, "webhook-timestamp": str(TS + 1)}, b), id="timestamp"),
        pytest.param(lambda h, b: ({**h, "webhook-signature": SIG_1.replace("v1,", "v2,")}, b), id="version"),
        pytest.param(lambda h, b: ({**h, "webhook-signature": "v1," + SIG_1[3:][::-1]}, b), id="signature"),
        pytest.param(lambda h, b: ({**h, "webhook-signature": "v1,"}, b), id="empty-signature"),
        pytest.param(lambda h, b: ({**h, "webhook-signature": "v1,!!!notbase64"}, b), id="not-base64"),
        pytest.param(lambda h, b: ({**h, "webhook-signature": SIG_1[:-4]}, b), id="truncated"),
        pytest.param(lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), id="no-id"),
        pytest.param(lambda h, b: ({k: v for k, v in h.items() if k != "webhook-timestamp"}, b), id="no-timestamp"),
        pytest.param(lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b), id="no-signature"),
        pytest.param(lambda h, b: ({**h, "webhook-timestamp": "1716412291.5"}, b), id="fractional-timestamp"),
        pytest.param(lambda h, b: ({**h, "webhook-timestamp": "yesterday"}, b), id="word-timestamp"),
        pytest.param(lambda h, b: ({**h, "webhook-id": ""}, b), id="empty-id"),
    ],
)
def test_tampering_is_refused(tamper):
    h, b = tamper(headers(), BODY_1)
    with pytest.raises(SignatureError):
        helcim.verify_webhook(h, b, TOKEN, now=TS)


def test_another_key_is_refused():
    other = base64.b64encode(b"another-verifier-key-of-32-bytes").decode()
    with pytest.raises(SignatureError, match="no webhook signature matches"):
        helcim.verify_webhook(headers(), BODY_1, other, now=TS)


def test_timestamps_outside_the_tolerance_are_refused_both_ways():
    assert helcim.verify_webhook(headers(), BODY_1, TOKEN, now=TS + 300).webhook_id == "msg_sim_0001"
    assert helcim.verify_webhook(headers(), BODY_1, TOKEN, now=TS - 300).webhook_id == "msg_sim_0001"
    with pytest.raises(SignatureError, match="too old"):
        helcim.verify_webhook(headers(), BODY_1, TOKEN, now=TS + 301)
    with pytest.raises(SignatureError, match="future"):
        helcim.verify_webhook(headers(), BODY_1, TOKEN, now=TS - 301)
    assert helcim.verify_webhook(headers(), BODY_1, TOKEN, tolerance=3600, now=TS + 3000).timestamp == TS
    with pytest.raises(SignatureError):
        helcim.verify_webhook(headers(), BODY_1, TOKEN)  # the clock: 2024's timestamp is stale


def test_fresh_delivery_against_the_clock():
    now = int(time.time())
    body = b'{"id":"1","type":"cardTransaction"}'
    event = helcim.verify_webhook(headers("msg_now", now, sign(body, "msg_now", now)), body, TOKEN)
    assert event.transaction_id == "1"


def test_any_of_several_signatures_may_match():
    rotated = f"v1,{base64.b64encode(b'x' * 32).decode()} v1a,zzz {SIG_1}"
    assert helcim.verify_webhook(headers(signature=rotated), BODY_1, TOKEN, now=TS).transaction_id == "25764674"


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda h: {k.upper(): v for k, v in h.items()}, id="upper-case-mapping"),
        pytest.param(lambda h: {k.title(): v for k, v in h.items()}, id="title-case-mapping"),
        pytest.param(lambda h: [("Content-Type", "application/json")] + list(h.items()), id="pairs"),
        pytest.param(lambda h: [(k.encode(), v.encode()) for k, v in h.items()], id="asgi-bytes"),
    ],
)
def test_header_forms(form):
    assert helcim.verify_webhook(form(headers()), BODY_1, TOKEN, now=TS).webhook_id == "msg_sim_0001"


@pytest.mark.parametrize("token", ["whsec_" + TOKEN, TOKEN.rstrip("="), f"  {TOKEN}\n", TOKEN.encode()])
def test_token_forms(token):
    assert helcim.verify_webhook(headers(), BODY_1, token, now=TS).transaction_id == "25764674"


def test_switching_tokens_never_reuses_the_last_key():
    """verify_webhook keeps the last token's key per thread: a different token is keyed anew."""
    other = base64.b64encode(b"another-verifier-key-of-32-bytes").decode()
    body = b'{"id":"7","type":"cardTransaction"}'
    signed_other = headers("msg_other", TS, sign(body, "msg_other", TS, other))
    for _ in range(2):
        assert helcim.verify_webhook(headers(), BODY_1, TOKEN, now=TS).transaction_id == "25764674"
        with pytest.raises(SignatureError):
            helcim.verify_webhook(signed_other, body, TOKEN, now=TS)
        assert helcim.verify_webhook(signed_other, body, other, now=TS).transaction_id == "7"
        with pytest.raises(SignatureError):
            helcim.verify_webhook(headers(), BODY_1, other, now=TS)
    with pytest.raises(ConfigError):
        helcim.verify_webhook(headers(), BODY_1, "not base64 at all!", now=TS)
    assert helcim.verify_webhook(headers(), BODY_1, TOKEN, now=TS).transaction_id == "25764674"


def test_dict_headers_in_mixed_spellings_and_types():
    mixed = {"Webhook-Id": "msg_sim_0001", "webhook-timestamp": str(TS), "WEBHOOK-SIGNATURE": SIG_1}
    assert helcim.verify_webhook(mixed, BODY_1, TOKEN, now=TS).webhook_id == "msg_sim_0001"
    as_bytes = {b"webhook-id": b" msg_sim_0001 ", b"webhook-timestamp": str(TS).encode(), b"webhook-signature": SIG_1.encode()}
    event = helcim.verify_webhook(as_bytes, BODY_1, TOKEN, now=TS)
    assert event.webhook_id == "msg_sim_0001" and type(event.webhook_id) is str
    # A lower-case value that is not text does not hide another spelling's.
    odd = {**headers(), "webhook-id": 12345, "Webhook-ID": "msg_sim_0001"}
    assert helcim.verify_webhook(odd, BODY_1, TOKEN, now=TS).webhook_id == "msg_sim_0001"


@pytest.mark.parametrize("now", [TS, float(TS), TS + 0.999, Decimal(TS)])
def test_now_as_int_or_float(now):
    assert helcim.verify_webhook(headers(), BODY_1, TOKEN, now=now).timestamp == TS


@pytest.mark.parametrize("now", [float("nan"), float("inf"), 2**70, "1716412291"])
def test_bad_now_is_a_config_error(now):
    with pytest.raises(ConfigError, match="now"):
        helcim.verify_webhook(headers(), BODY_1, TOKEN, now=now)


def test_bad_token_is_a_config_error():
    with pytest.raises(ConfigError):
        helcim.verify_webhook(headers(), BODY_1, "not base64 at all!", now=TS)


def test_body_forms():
    assert helcim.verify_webhook(headers(), bytearray(BODY_1), TOKEN, now=TS).transaction_id == "25764674"
    assert helcim.verify_webhook(headers(), BODY_1.decode(), TOKEN, now=TS).transaction_id == "25764674"
    with pytest.raises(SignatureError):
        helcim.verify_webhook(headers(), 42, TOKEN, now=TS)
    with pytest.raises(SignatureError):
        helcim.verify_webhook(42, BODY_1, TOKEN, now=TS)


def test_events_kept_as_they_come():
    body = b'{"id":25764674,"type":"cardTransaction"}'
    assert helcim.verify_webhook(headers(signature=sign(body)), body, TOKEN, now=TS).transaction_id == "25764674"
    body = b'{"type":"connectedAccount","apiToken":"secret","connectedAccountId":7}'
    event = helcim.verify_webhook(headers(signature=sign(body)), body, TOKEN, now=TS)
    assert type(event) is helcim.WebhookEvent and event.type == "connectedAccount"
    body = b'{"type":"terminalCancel","data":{"deviceCode":"DY6L","transactionAmount":"10.99","invoiceNumber":"SO043"}}'
    event = helcim.verify_webhook(headers(signature=sign(body)), body, TOKEN, now=TS)
    assert (event.transaction_amount, event.invoice_number, event.currency) == (Decimal("10.99"), "SO043", None)


def test_signed_but_unreadable_bodies_are_decode_errors():
    for body in (b"not json", b"[]", b"{}", b'{"type":"cardTransaction"}'):
        with pytest.raises(DecodeError):
            helcim.verify_webhook(headers(signature=sign(body)), body, TOKEN, now=TS)


def test_no_secret_in_errors_or_reprs():
    with pytest.raises(SignatureError) as info:
        helcim.verify_webhook(headers(), BODY_1 + b"x", TOKEN, now=TS)
    assert TOKEN not in str(info.value) and "simulator-test" not in str(info.value)
    event = helcim.verify_webhook(headers(), BODY_1, TOKEN, now=TS)
    assert repr(event) == 'CardTransactionEvent(transaction_id="25764674", webhook_id="msg_sim_0001")'
