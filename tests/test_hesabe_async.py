"""The asyncio Hesabe client: the same scenarios as the blocking one where the async path
differs (the awaitable bridge, errors raised at ``await``, concurrency on one loop)."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from decimal import Decimal

import pytest

import posbridge
from helpers import LOGIN, POS_TERMINALS, POS_TRANSACTION, SEED_CREATE, FakeHesabe, closed_port, floats_in, hits
from posbridge import hesabe, sandbox
from seeds import (
    ACCESS_CODE,
    IV,
    PASSWORD,
    SECRET_KEY,
    SEED_001_INVOICE_ID,
    SEED_001_REQUEST_HEX,
    SEED_001_RESPONSE_HEX,
    SEED_001_TRANSACTION_ID,
    SEED_003_TERMINALS,
    USERNAME,
)

TERMINAL = "29708454"


async def create(client: hesabe.AsyncClient, number: str, amount: str = "1.250") -> hesabe.PosInvoice:
    return await client.create_pos_invoice(terminal_id=TERMINAL, amount=Decimal(amount), customer_name="Sara", invoice_number=number)


def test_every_operation_is_a_coroutine_function() -> None:
    names = [n for n, f in vars(hesabe.Client).items() if callable(f) and not n.startswith("_")]
    assert {"terminals", "create_pos_invoice", "pos_invoice", "find_pos_invoice", "request_refund", "upload_bulk_invoices"} <= set(names)
    for name in names:
        if name in ("from_env", "wire"):
            continue
        assert inspect.iscoroutinefunction(getattr(hesabe.AsyncClient, name)), name
        assert not inspect.iscoroutinefunction(getattr(hesabe.Client, name)), name


async def test_seed_request_on_the_wire_async() -> None:
    routes = {("POST", POS_TRANSACTION): lambda rec: (200, {"response": SEED_001_RESPONSE_HEX})}
    with FakeHesabe(routes) as fake:
        client = hesabe.AsyncClient(
            merchant_code="842217", access_code=ACCESS_CODE, secret_key=SECRET_KEY, iv=IV,
            username=USERNAME, password=PASSWORD, base_url=fake.url,
        )
        assert client.wire("create_pos_invoice", **SEED_CREATE)[2] == '{"data":"%s"}' % SEED_001_REQUEST_HEX
        invoice = await client.create_pos_invoice(**SEED_CREATE)
        [login] = fake.to("POST", LOGIN)
        [sent] = fake.to("POST", POS_TRANSACTION)
    assert json.loads(login.body) == {"username": USERNAME, "password": PASSWORD}
    assert sent.body == b'{"data":"%s"}' % SEED_001_REQUEST_HEX.encode()
    assert sent.header("accessCode") == ACCESS_CODE
    assert sent.header("Authorization") == f"Bearer {fake.access_token}"
    assert sent.header("Accept") == "application/json" and sent.header("Content-Type") == "application/json"
    assert (invoice.id, invoice.transaction_id, invoice.amount) == (SEED_001_INVOICE_ID, SEED_001_TRANSACTION_ID, Decimal("0.1"))


async def test_terminals(aclient: hesabe.AsyncClient) -> None:
    terminals = await aclient.terminals()
    assert [(t.terminal_id, t.terminal_name) for t in terminals] == SEED_003_TERMINALS


async def test_create_pay_paid_and_decline_failed(sb: sandbox.Sandbox, aclient: hesabe.AsyncClient) -> None:
    paid_one = await create(aclient, "ASO-PAY", "1.500")
    declined = await create(aclient, "ASO-DECLINE", "2.500")
    assert paid_one.state == declined.state == "pending"
    assert paid_one.amount == Decimal("1.500") and isinstance(paid_one.amount, Decimal)
    sb.hesabe_pay(paid_one.transaction_id)
    sb.hesabe_decline(declined.transaction_id)
    assert (await aclient.pos_invoice(paid_one.id)).state == "paid"
    assert (await aclient.pos_invoice(declined.id)).state == "failed"
    assert (await aclient.wait_for_pos_invoice(paid_one.id, timeout=2, interval=0.05)).is_paid
    rows = {t.order_reference_number: t.state for t in (await aclient.pos_transactions()).items}
    assert rows[paid_one.transaction_id] == "success" and rows[declined.transaction_id] == "failed"


async def test_wait_for_pos_invoice_times_out(aclient: hesabe.AsyncClient) -> None:
    created = await create(aclient, "ASO-WAIT")
    with pytest.raises(posbridge.TimeoutError):
        await aclient.wait_for_pos_invoice(created.id, timeout=0.3, interval=0.05)


async def test_pagination_and_find() -> None:
    with sandbox.Sandbox() as sb:
        client = hesabe.AsyncClient(**sb.hesabe_credentials)
        created = [await create(client, f"ASO-P{n:02d}", f"{n}.100") for n in range(1, 12)]
        first, second = await client.pos_invoices(), await client.pos_invoices(page=2)
        found = await client.find_pos_invoice(invoice_number="ASO-P01")
        missing = await client.find_pos_invoice(invoice_number="ASO-NOPE")
    assert (len(first), first.total, first.next_page) == (10, 11, 2)
    assert (len(second), second.next_page) == (1, None)
    assert second.items[0].id == created[0].id
    assert found is not None and found.id == created[0].id and found.amount == Decimal("1.1")
    assert missing is None


async def test_concurrent_creates_are_distinct(sb: sandbox.Sandbox, aclient: hesabe.AsyncClient) -> None:
    before = sb.stats()["pos_invoices_created"]
    invoices = await asyncio.gather(*(create(aclient, f"ASO-G{n}", f"{n}.000") for n in range(1, 9)))
    assert sb.stats()["pos_invoices_created"] == before + 8
    assert len({i.id for i in invoices}) == 8 and len({i.transaction_id for i in invoices}) == 8
    assert [i.invoice_number for i in invoices] == [f"ASO-G{n}" for n in range(1, 9)]


async def test_merchant_api_refund_flow(sb: sandbox.Sandbox, aclient: hesabe.AsyncClient) -> None:
    profile = await aclient.profile()
    assert profile.merchant_code == "842217"
    invoice = await aclient.create_invoice(amount=Decimal("8.000"), customer_name="Async")
    payment_token = sb.hesabe_pay_invoice(invoice.token).transaction["token"]
    refund = await aclient.request_refund(payment_token, Decimal("3.000"))
    assert refund.state == "pending" and refund.amount == Decimal("3.000")
    assert (await aclient.refund(refund.id)).id == refund.id
    assert isinstance(await aclient.cancel_refund(refund.id), hesabe.Ack)
    opened = await aclient.create_open_invoice(title="Async", expiry_date="2030-01-01", amount=Decimal("1.000"))
    updated = await aclient.update_open_invoice(opened.id, expiry_date="2030-02-01")
    assert updated.id != opened.id
    for record in (profile, invoice, refund, opened, updated):
        assert floats_in(record.raw) == []


# -- errors, raised at await ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount", [1.5, Decimal("0"), Decimal("-2"), Decimal("1.0001"), Decimal("NaN"), Decimal("Infinity")], ids=str
)
async def test_validation_error_before_sending(sb: sandbox.Sandbox, amount: object) -> None:
    client = hesabe.AsyncClient(**sb.hesabe_credentials)
    before = sb.stats()["requests"]
    with pytest.raises(posbridge.ValidationError) as info:
        await client.create_pos_invoice(terminal_id=TERMINAL, amount=amount, customer_name="Sara")
    assert info.value.field == "amount"
    with pytest.raises(posbridge.ValidationError):
        await client.create_pos_invoice(terminal_id=TERMINAL, amount=Decimal("1"), customer_name="Sara", customer_email="nope")
    assert sb.stats()["requests"] == before


async def test_auth_error(sb: sandbox.Sandbox) -> None:
    client = hesabe.AsyncClient(**dict(sb.hesabe_credentials, password="bad-pass"))
    with pytest.raises(posbridge.AuthError) as info:
        await client.terminals()
    assert info.value.status_code == 401


async def test_not_found(aclient: hesabe.AsyncClient) -> None:
    with pytest.raises(posbridge.NotFoundError):
        await aclient.pos_invoice(123456789)


async def test_api_error_506(sb: sandbox.Sandbox) -> None:
    client = hesabe.AsyncClient(**dict(sb.hesabe_credentials, secret_key="k" * 32))
    with pytest.raises(posbridge.ApiError) as info:
        await client.terminals()
    assert (info.value.code, info.value.status_code) == (506, 200)


async def test_connect_error() -> None:
    client = hesabe.AsyncClient(**dict(sandbox.HESABE_CREDENTIALS, base_url=f"http://127.0.0.1:{closed_port()}"))
    with pytest.raises(posbridge.ConnectError):
        await client.terminals()


async def test_timeout_error(sb: sandbox.Sandbox) -> None:
    client = hesabe.AsyncClient(**sb.hesabe_credentials, timeout=0.5)
    await client.login()
    sb.inject_fault("delay", path=POS_TERMINALS, delay=2)
    started = time.monotonic()
    with pytest.raises(posbridge.TimeoutError):
        await client.terminals()
    assert time.monotonic() - started < 1.8


async def test_expired_token_one_relogin(sb: sandbox.Sandbox) -> None:
    client = hesabe.AsyncClient(**sb.hesabe_credentials)
    await client.terminals()
    logins = sb.stats()["logins"]
    sb.hesabe_expire_tokens()
    assert len(await client.terminals()) == 5
    assert sb.stats()["logins"] == logins + 1


async def test_concurrent_calls_share_one_login(sb: sandbox.Sandbox) -> None:
    client = hesabe.AsyncClient(**sb.hesabe_credentials)
    logins = sb.stats()["logins"]
    results = await asyncio.gather(*(client.terminals() for _ in range(6)))
    assert all(len(r) == 5 for r in results)
    assert sb.stats()["logins"] == logins + 1


async def test_short_token_ttl_refreshes() -> None:
    with sandbox.Sandbox(token_ttl=2) as sb:
        client = hesabe.AsyncClient(**sb.hesabe_credentials)
        await client.terminals()
        await asyncio.sleep(1.3)
        await client.terminals()
        stats = sb.stats()
    assert stats["refreshes"] >= 1 and stats["logins"] == 1


# -- faults --------------------------------------------------------------------------------------


async def _outcome_unknown(client: hesabe.AsyncClient, number: str) -> posbridge.OutcomeUnknownError:
    with pytest.raises(posbridge.OutcomeUnknownError) as info:
        await create(client, number)
    assert info.value.operation == "create_pos_invoice" and info.value.invoice_number == number
    assert info.value.reference["terminal_id"] == TERMINAL
    return info.value


async def test_http500_create_and_get(sb: sandbox.Sandbox, aclient: hesabe.AsyncClient) -> None:
    await aclient.login()
    sb.inject_fault("http500", path=POS_TRANSACTION)
    posted = hits(sb, "POST", POS_TRANSACTION)
    await _outcome_unknown(aclient, "ASO-500")
    assert hits(sb, "POST", POS_TRANSACTION) == posted + 1
    sb.inject_fault("http500", path=POS_TERMINALS)
    with pytest.raises(posbridge.ApiError) as info:
        await aclient.terminals()
    assert info.value.status_code == 500


async def test_drop_reply_on_create_created_once(sb: sandbox.Sandbox, aclient: hesabe.AsyncClient) -> None:
    await aclient.login()
    sb.inject_fault("drop_reply", path=POS_TRANSACTION)
    posted, created = hits(sb, "POST", POS_TRANSACTION), sb.stats()["pos_invoices_created"]
    await _outcome_unknown(aclient, "ASO-DROP")
    assert sb.stats()["pos_invoices_created"] == created + 1
    assert hits(sb, "POST", POS_TRANSACTION) == posted + 1
    assert (await aclient.find_pos_invoice(invoice_number="ASO-DROP")) is not None


async def test_delay_on_create_never_resent(sb: sandbox.Sandbox) -> None:
    client = hesabe.AsyncClient(**sb.hesabe_credentials, timeout=0.5)
    await client.login()
    sb.inject_fault("delay", path=POS_TRANSACTION, delay=1.0)
    posted = hits(sb, "POST", POS_TRANSACTION)
    await _outcome_unknown(client, "ASO-SLOW")
    await asyncio.sleep(0.7)
    assert hits(sb, "POST", POS_TRANSACTION) == posted + 1


@pytest.mark.parametrize("fault", ["malformed_hex", "wrong_key"])
async def test_unreadable_replies(sb: sandbox.Sandbox, aclient: hesabe.AsyncClient, fault: str) -> None:
    await aclient.login()
    sb.inject_fault(fault, path=POS_TERMINALS)
    with pytest.raises(posbridge.DecryptionError):
        await aclient.terminals()
    sb.inject_fault(fault, path=POS_TRANSACTION)
    await _outcome_unknown(aclient, f"ASO-{fault}")
