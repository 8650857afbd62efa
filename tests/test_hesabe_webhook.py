"""The unsigned webhook Hesabe POSTs when a Merchant API invoice is paid (specs/hesabe.md §7.5),
over real HTTP from the sandbox to a small local receiver; and parse_webhook on its own."""

from __future__ import annotations

import json
import queue
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, List, Tuple

import pytest

import posbridge
from posbridge import hesabe, sandbox


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST (path, headers, body)."""

    def __init__(self) -> None:
        self.posts: "queue.Queue[Tuple[str, dict, bytes]]" = queue.Queue()
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                posts.put((self.path, dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hesabe/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def collect(self, wait: float) -> List[Tuple[str, dict, bytes]]:
        got = []
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(self.posts.get(timeout=left))
            except queue.Empty:
                break
        return got


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def _paid_invoice(sb: sandbox.Sandbox, url: str) -> Tuple[hesabe.Client, hesabe.Invoice]:
    client = hesabe.Client(**sb.hesabe_credentials)
    invoice = client.create_invoice(amount=Decimal("12.500"), reference_number="SO1001", webhook=url)
    sb.hesabe_pay_invoice(invoice.token)
    return client, invoice


def test_paid_invoice_posts_an_unsigned_webhook_confirmed_by_lookup(receiver: Receiver) -> None:
    with sandbox.Sandbox() as sb:
        client, invoice = _paid_invoice(sb, receiver.url)
        (path, headers, body), *more = receiver.collect(wait=0.5) or [(None, {}, b"")]
        assert path == "/hesabe/webhook" and not more
        assert not any(h.lower().startswith("webhook-") or h.lower() == "authorization" for h in headers)
        event = hesabe.parse_webhook(body)
        assert (event.amount, event.reference_number, event.status, event.successful) == (Decimal("12.500"), "SO1001", "SUCCESSFUL", True)
        assert event.token.startswith("842217") and event.payment_type == "KNET" and event.datetime
        assert event.raw["blocks"][0]["text"]["text"] == "TRANSACTION SUCCESSFUL"
        # Never trust the webhook: look the invoice up.
        confirmed = client.invoice(invoice.id)
        assert confirmed.invoice_status == 1 and confirmed.amount == event.amount
        assert confirmed.raw["transaction"]["token"] == event.token


def test_webhook_faults_drop_or_repeat_it(receiver: Receiver) -> None:
    with sandbox.Sandbox() as sb:
        sb.inject_fault("hesabe_webhook_drop", path="/hesabe/")
        _paid_invoice(sb, receiver.url)
        assert receiver.collect(wait=0.4) == []
        sb.inject_fault("hesabe_webhook_duplicate")
        _paid_invoice(sb, receiver.url)
        posts = receiver.collect(wait=0.6)
        assert len(posts) == 2 and posts[0][2] == posts[1][2]
        _paid_invoice(sb, receiver.url)
        assert len(receiver.collect(wait=0.4)) == 1


def test_deliveries_are_logged_with_the_receivers_answer(receiver: Receiver) -> None:
    with sandbox.Sandbox() as sb:
        sb.inject_fault("hesabe_webhook_duplicate")
        _client, invoice = _paid_invoice(sb, receiver.url)
        receiver.collect(wait=0.6)
        _paid_invoice(sb, "http://127.0.0.1:9/nobody-listens")
        deadline = time.monotonic() + 5
        while len(sb.hesabe_deliveries()) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        first, copy, lost = sb.hesabe_deliveries()
        assert (first["attempt"], copy["attempt"]) == (1, 2)
        assert all(d["reference_number"] == "SO1001" and d["token"].startswith("842217") for d in (first, copy, lost))
        assert (first["status"], first["delivered"], first["url"]) == (200, True, receiver.url)
        assert (lost["status"], lost["delivered"]) == ("could not connect", False)
        assert sandbox.Remote(sb.url).hesabe_deliveries() == sb.hesabe_deliveries()


def test_invoice_without_webhook_sends_none(receiver: Receiver) -> None:
    with sandbox.Sandbox() as sb:
        client = hesabe.Client(**sb.hesabe_credentials)
        sb.hesabe_pay_invoice(client.create_invoice(amount=Decimal("1.000")).token)
        assert receiver.collect(wait=0.3) == []


def test_client_always_sends_the_fields_hesabe_requires() -> None:
    with sandbox.Sandbox() as sb:
        client = hesabe.Client(**sb.hesabe_credentials)
        _method, _path, body = client.wire("create_invoice", amount=Decimal("1.000"))
        codec = hesabe.Codec(sb.hesabe_credentials["secret_key"], sb.hesabe_credentials["iv"])
        sent = codec.decrypt_json(json.loads(body)["data"])
        assert (sent["invoiceSubType"], sent["allocatePayType"], len(sent["expiresAt"])) == ("3", "1,2", 10)
        invoice = client.create_invoice(amount=Decimal("1.000"))
        assert invoice.raw["expires_at"] and invoice.raw["payment_method"] == ["1", "2"] and invoice.raw["invoice_sub_type"] == 3


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b"null", b'{"token":"1"}', b'{"token":"1","amount":"x","reference_number":"r","status":"SUCCESSFUL"}',
     b'{"token":"1","amount":"NaN","reference_number":"r","status":"SUCCESSFUL"}', b"\xff\xfe", b'{"amount":"1.000","reference_number":"r","status":"S"}'],
)
def test_parse_webhook_refuses_junk(body: bytes) -> None:
    with pytest.raises(posbridge.DecodeError):
        hesabe.parse_webhook(body)


def test_parse_webhook_reads_the_spec_sample() -> None:
    event = hesabe.parse_webhook(
        '{"blocks":[],"token":"84221716951937729753667644493","amount":"49.000","reference_number":"1695193758",'
        '"status":"SUCCESSFUL","payment_type":"KNET","service_type":"Payment Gateway","datetime":"2023-09-20 10:09:36"}'
    )
    assert event == hesabe.InvoiceWebhookEvent(
        token="84221716951937729753667644493", amount=Decimal("49.000"), reference_number="1695193758", status="SUCCESSFUL",
        payment_type="KNET", service_type="Payment Gateway", datetime="2023-09-20 10:09:36", raw={},
    )
