"""The blocking Hesabe client against the embedded sandbox (real HTTP), plus a tiny fake Hesabe
that records the exact bytes on the wire: every operation, every error type, every fault."""

from __future__ import annotations

import datetime
import json
import time
from decimal import Decimal
from typing import Any, Callable

import pytest

import posbridge
from helpers import (
    LOGIN,
    POS_INVOICES,
    POS_TERMINALS,
    POS_TRANSACTION,
    SEED_CREATE,
    FakeHesabe,
    closed_port,
    floats_in,
    hits,
)
from posbridge import hesabe, sandbox
from seeds import (
    ACCESS_CODE,
    IV,
    PASSWORD,
    SECRET_KEY,
    SECRETS,
    SEED_001_INVOICE_ID,
    SEED_001_REQUEST_HEX,
    SEED_001_RESPONSE_HEX,
    SEED_001_TRANSACTION_ID,
    SEED_003_TERMINALS,
    USERNAME,
)

TERMINAL = "29708454"


def create(client: hesabe.Client, number: str, amount: str = "1.250", **extra: Any) -> hesabe.PosInvoice:
    return client.create_pos_invoice(terminal_id=TERMINAL, amount=Decimal(amount), customer_name="Sara", invoice_number=number, **extra)


# -- the seed request, byte for byte ------------------------------------------------------------


def test_wire_of_seed_example_is_the_seed_ciphertext(client: hesabe.Client) -> None:
    method, path, body = client.wire("create_pos_invoice", **SEED_CREATE)
    assert (method, path) == ("POST", POS_TRANSACTION)
    assert body == '{"data":"%s"}' % SEED_001_REQUEST_HEX


def test_wire_of_terminals_is_the_seed_003_query(client: hesabe.Client) -> None:
    method, path, body = client.wire("terminals")
    assert (method, path, body) == ("GET", POS_TERMINALS + "?data=0e7898bd7464d0c402fe8a949d9cbf9b826ccb9b83b56fa003373275f1947a65", None)


def test_wire_sends_nothing(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    before = sb.stats()["requests"]
    client.wire("create_pos_invoice", **SEED_CREATE)
    assert sb.stats()["requests"] == before


def test_seed_request_on_the_wire_and_seed_reply_decoded() -> None:
    routes = {("POST", POS_TRANSACTION): lambda rec: (200, {"response": SEED_001_RESPONSE_HEX})}
    with FakeHesabe(routes) as fake:
        client = hesabe.Client(
            merchant_code="842217", access_code=ACCESS_CODE, secret_key=SECRET_KEY, iv=IV,
            username=USERNAME, password=PASSWORD, base_url=fake.url,
        )
        invoice = client.create_pos_invoice(**SEED_CREATE)
        [login] = fake.to("POST", LOGIN)
        [sent] = fake.to("POST", POS_TRANSACTION)

    assert json.loads(login.body) == {"username": USERNAME, "password": PASSWORD}
    assert sent.body == b'{"data":"%s"}' % SEED_001_REQUEST_HEX.encode()
    assert sent.header("accessCode") == ACCESS_CODE
    assert sent.header("Authorization") == f"Bearer {fake.access_token}"
    assert sent.header("Accept") == "application/json"
    assert sent.header("Content-Type") == "application/json"
    assert sent.path == POS_TRANSACTION
    # Hesabe's own reply ciphertext, decoded into the typed result
    assert invoice.id == SEED_001_INVOICE_ID
    assert invoice.transaction_id == SEED_001_TRANSACTION_ID
    assert invoice.amount == Decimal("0.1") and isinstance(invoice.amount, Decimal)
    assert invoice.terminal_id == TERMINAL and invoice.terminal_name == "A99"
    assert invoice.state == "pending"
    assert invoice.raw["created_at"] == "2025-11-12 11:25:27"


def test_reply_built_with_codec_block_32_is_read() -> None:
    codec = hesabe.Codec(SECRET_KEY, IV)
    terminals = [{"TerminalID": "T1", "TerminalName": "Front desk", "Terminal_ID": 9, "Status": 1, "KnetValue": "0.250"}]
    envelope = json.dumps({"status": True, "message": "Terminal List", "response": terminals})
    routes = {("GET", POS_TERMINALS): lambda rec: (200, {"response": codec.encrypt(envelope, block=32)})}
    with FakeHesabe(routes) as fake:
        client = hesabe.Client(**dict(sandbox.HESABE_CREDENTIALS, base_url=fake.url))
        [t] = client.terminals()
        [sent] = fake.to("GET", POS_TERMINALS)
    assert (t.terminal_id, t.terminal_name, t.terminal_seq_id, t.active, t.knet_value) == ("T1", "Front desk", 9, True, Decimal("0.250"))
    assert sent.path.endswith("?data=0e7898bd7464d0c402fe8a949d9cbf9b826ccb9b83b56fa003373275f1947a65")
    assert sent.header("accessCode") == ACCESS_CODE and sent.header("Authorization") == f"Bearer {fake.access_token}"


# -- Smart POS ----------------------------------------------------------------------------------


def test_terminals_are_seed_003(client: hesabe.Client) -> None:
    terminals = client.terminals()
    assert [(t.terminal_id, t.terminal_name) for t in terminals] == SEED_003_TERMINALS
    a99 = next(t for t in terminals if t.terminal_id == "29708454")
    assert a99.terminal_name == "A99" and a99.terminal_seq_id == 187 and a99.id == 279
    assert a99.knet_value == Decimal("0.100") and isinstance(a99.mpgs_value, Decimal)
    assert terminals[0].active and not a99.active
    assert a99.raw["TerminalID"] == "29708454" and a99.raw["Terminal_ID"] == 187


def test_create_pay_at_terminal_paid(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    created = create(client, "SO-PAY-1", "1.250", customer_email="sara@example.com", customer_phone="+96555551234", description="Sale order")
    assert created.state == "pending" and created.status == 0 and not created.is_final
    assert created.amount == Decimal("1.250") and isinstance(created.amount, Decimal)
    assert (created.invoice_number, created.terminal_id, created.customer_name) == ("SO-PAY-1", TERMINAL, "Sara")
    assert created.transaction_id.startswith(TERMINAL + "84")
    assert client.pos_invoice(created.id).state == "pending"

    sb.hesabe_pay(created.transaction_id)
    paid = client.pos_invoice(created.id)
    assert paid.state == "paid" and paid.is_paid and paid.is_final
    assert (paid.id, paid.transaction_id, paid.amount) == (created.id, created.transaction_id, Decimal("1.25"))
    assert paid.customer_email == "sara@example.com" and paid.customer_phone == "+96555551234"
    assert client.wait_for_pos_invoice(created.id, timeout=2, interval=0.05).is_paid


def test_decline_at_terminal_failed(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    created = create(client, "SO-DECLINE-1", "2.000")
    sb.hesabe_decline(created.transaction_id)
    failed = client.pos_invoice(created.id)
    assert failed.state == "failed" and not failed.is_paid and failed.is_final


def test_wait_for_pos_invoice_times_out_while_pending(client: hesabe.Client) -> None:
    created = create(client, "SO-WAIT-1")
    started = time.monotonic()
    with pytest.raises(posbridge.TimeoutError):
        client.wait_for_pos_invoice(created.id, timeout=0.3, interval=0.05)
    assert time.monotonic() - started < 2


def test_pos_invoices_pagination() -> None:
    with sandbox.Sandbox() as sb:
        client = hesabe.Client(**sb.hesabe_credentials)
        created = [create(client, f"SO-PAGE-{n:02d}", f"{n}.000") for n in range(1, 14)]
        first = client.pos_invoices()
        second = client.pos_invoices(page=2)
        third = client.pos_invoices(page=3)
    assert len(first) == 10 and first.total == 13 and first.next_page == 2 and first.previous_page is None
    assert len(second) == 3 and second.next_page is None and second.previous_page == 1 and second.page == 2
    assert len(third) == 0 and third.next_page is None
    # newest first, every invoice exactly once
    assert [i.invoice_number for i in first.items] == [f"SO-PAGE-{n:02d}" for n in range(13, 3, -1)]
    assert [i.id for i in list(first) + list(second)] == [c.id for c in reversed(created)]
    assert all(isinstance(i.amount, Decimal) for i in first.items)
    assert second.items[-1].amount == Decimal("1")


def test_pos_transactions_show_paid_and_failed() -> None:
    with sandbox.Sandbox() as sb:
        client = hesabe.Client(**sb.hesabe_credentials)
        paid = create(client, "SO-TX-PAID", "3.500")
        failed = create(client, "SO-TX-FAIL", "4.250")
        create(client, "SO-TX-PENDING", "5.000")
        sb.hesabe_pay(paid.transaction_id)
        sb.hesabe_decline(failed.transaction_id)
        report = client.pos_transactions()
        only_paid = client.pos_transactions(payment_status=1)
    rows = {t.order_reference_number: t for t in report.items}
    assert set(rows) == {paid.transaction_id, failed.transaction_id}
    assert rows[paid.transaction_id].payment_status == 1 and rows[paid.transaction_id].state == "success"
    assert rows[failed.transaction_id].payment_status == 0 and rows[failed.transaction_id].state == "failed"
    assert rows[paid.transaction_id].amount == Decimal("3.500") and rows[failed.transaction_id].amount == Decimal("4.250")
    assert all(t.service_type_id == 6 and isinstance(t.amount, Decimal) for t in report.items)
    assert [t.order_reference_number for t in only_paid.items] == [paid.transaction_id]


def test_resend_pushes_the_same_invoice_again(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    created = create(client, "SO-RESEND-1", "6.000")
    before = sb.stats()["pos_invoices_created"]
    again = client.resend_pos_invoice(
        transaction_id=created.transaction_id, terminal_id=TERMINAL, amount=Decimal("6.000"), customer_name="Sara", invoice_number="SO-RESEND-1"
    )
    assert (again.id, again.transaction_id, again.state) == (created.id, created.transaction_id, "pending")
    assert sb.stats()["pos_invoices_created"] == before
    sb.hesabe_pay(created.transaction_id)
    with pytest.raises(posbridge.ApiError):  # a paid invoice cannot be pushed again
        client.resend_pos_invoice(transaction_id=created.transaction_id, terminal_id=TERMINAL, amount=Decimal("6.000"), customer_name="Sara")


def test_resend_of_unknown_transaction_is_not_found(client: hesabe.Client) -> None:
    with pytest.raises(posbridge.NotFoundError):
        client.resend_pos_invoice(transaction_id="2970845484000000000000000", terminal_id=TERMINAL, amount=Decimal("1"), customer_name="Sara")


def test_find_pos_invoice(client: hesabe.Client) -> None:
    created = create(client, "SO-FIND-1", "7.125")
    found = client.find_pos_invoice(invoice_number="SO-FIND-1")
    assert found is not None and found.id == created.id and found.transaction_id == created.transaction_id
    by_tx = client.find_pos_invoice(transaction_id=created.transaction_id)
    assert by_tx is not None and by_tx.invoice_number == "SO-FIND-1"
    assert client.find_pos_invoice(invoice_number="SO-FIND-1", amount=Decimal("7.125")) is not None
    assert client.find_pos_invoice(invoice_number="SO-FIND-1", amount=Decimal("7.126")) is None
    assert client.find_pos_invoice(invoice_number="SO-NEVER-CREATED") is None


def test_find_pos_invoice_needs_a_key(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    before = sb.stats()["requests"]
    with pytest.raises(posbridge.ValidationError):
        client.find_pos_invoice()
    assert sb.stats()["requests"] == before


# -- Merchant API: every operation at least once -------------------------------------------------


def test_login_and_profile(client: hesabe.Client) -> None:
    ack = client.login()
    assert isinstance(ack, hesabe.Ack)
    profile = client.profile()
    assert profile.merchant_code == "842217" and profile.business_name == "TestHome1"
    assert isinstance(profile.raw, dict)


def test_invoices_create_list_detail_resend_cancel(client: hesabe.Client) -> None:
    quick = client.create_invoice(amount=Decimal("5.000"), customer_name="Ali", customer_email="ali@example.com", description="Order 17")
    assert quick.state == "unpaid" and quick.amount == Decimal("5.000") and quick.token and quick.url
    sub = client.create_subscription_invoice(amount=Decimal("2.500"), recurrences=3, start_date=datetime.date(2030, 1, 1), customer_name="Bo")
    assert sub.subscription == 1 and sub.amount == Decimal("2.500")
    split = client.create_split_invoice([dict(amount=Decimal("1.000"), customer_name="A"), dict(amount=Decimal("2.500"), customer_name="B")])
    assert [i.amount for i in split] == [Decimal("1.000"), Decimal("2.500")] and all(i.invoice_type == 6 for i in split)
    emi = client.create_emi_invoice([dict(amount=Decimal("1.000"), customer_name="C"), dict(amount=Decimal("1.000"), customer_name="C")])
    assert len(emi) == 2 and all(i.invoice_type == 7 for i in emi)

    listed = client.invoices()
    ids = {i.id for i in listed.items}
    assert {quick.id, sub.id, *(i.id for i in split), *(i.id for i in emi)} <= ids
    assert all(isinstance(i.amount, Decimal) for i in listed.items)

    detail = client.invoice(quick.id)
    assert (detail.id, detail.token, detail.amount) == (quick.id, quick.token, Decimal("5.000"))
    resent = client.resend_invoice(quick.id, mobile_number="55551234", country_code="965")
    assert resent.id == quick.id

    ack = client.cancel_invoice(quick.token)
    assert isinstance(ack, hesabe.Ack) and ack.message
    assert client.invoice(quick.id).state == "cancelled"


def test_unknown_invoice_is_not_found(client: hesabe.Client) -> None:
    with pytest.raises(posbridge.NotFoundError):
        client.invoice(99999999)


def test_refunds_after_a_paid_invoice(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    invoice = client.create_invoice(amount=Decimal("10.000"), customer_name="Refundee")
    paid = sb.hesabe_pay_invoice(invoice.token)
    assert paid.state == "paid" and paid.transaction is not None
    payment_token = paid.transaction["token"]
    assert payment_token != invoice.token and payment_token.startswith("842217")
    assert payment_token in {t.token for t in client.transactions(service_type=2).items}

    partial = client.request_refund(payment_token, Decimal("4.000"))
    assert partial.state == "pending" and partial.amount == Decimal("4.000") and partial.token == payment_token
    assert partial.balance_amount == Decimal("6.000")
    page = client.refunds()
    assert partial.id in {r.id for r in page.items} and page.stats is not None
    assert client.refund(partial.id).amount == Decimal("4.000")

    assert isinstance(client.cancel_refund(partial.id), hesabe.Ack)
    with pytest.raises(posbridge.NotFoundError):
        client.refund(partial.id)

    full = client.request_refund(payment_token)
    assert full.amount == Decimal("10.000") and full.refund_method == "1"
    assert sb.hesabe_set_refund_status(full.id, 1).state == "approved"
    assert client.refund(full.id).state == "approved"
    with pytest.raises(posbridge.ApiError):  # only pending refunds can be cancelled
        client.cancel_refund(full.id)


def test_open_invoices(client: hesabe.Client) -> None:
    ranged = client.create_open_invoice(title="Donation", expiry_date=datetime.date(2030, 1, 1), min_amount=Decimal("1.000"), max_amount=Decimal("10.000"))
    fixed = client.create_open_invoice(title="Ticket", expiry_date="2030-06-30", amount=Decimal("3.500"), description="Entry")
    assert (ranged.min_amount, ranged.max_amount, ranged.type) == (Decimal("1.000"), Decimal("10.000"), 1)
    assert (fixed.fixed_amount, fixed.type) == (Decimal("3.500"), 0)
    assert {ranged.id, fixed.id} <= {o.id for o in client.open_invoices().items}

    updated = client.update_open_invoice(ranged.id, expiry_date=datetime.date(2031, 1, 1))
    assert updated.id != ranged.id and updated.expiry_date == "2031-01-01" and updated.title == "Donation"
    ids = {o.id for o in client.open_invoices().items}
    assert updated.id in ids and ranged.id not in ids

    assert isinstance(client.cancel_open_invoice(updated.id), hesabe.Ack)
    assert updated.id not in {o.id for o in client.open_invoices().items}


def test_bulk_invoices(client: hesabe.Client) -> None:
    csv = b"name,phone,email,amount,reference_number\nAli,96555551234,ali@example.com,1.500,BULK-R1\nBo,96555551235,,2.000,BULK-R2\n"
    ack = client.upload_bulk_invoices(csv)
    assert isinstance(ack, hesabe.Ack) and ack.message
    page = client.bulk_invoices()
    rows = {b.reference_number: b for b in page.items}
    assert {"BULK-R1", "BULK-R2"} <= set(rows)
    assert rows["BULK-R1"].amount == Decimal("1.500") and rows["BULK-R1"].status == 0
    assert client.bulk_invoices(scheduled=True).items == []

    edited = client.edit_bulk_invoice(rows["BULK-R2"].id, amount=Decimal("3.000"), name="Bob", phone="96555550000")
    assert (edited.id, edited.amount, edited.name, edited.phone) == (rows["BULK-R2"].id, Decimal("3.000"), "Bob", "96555550000")

    assert isinstance(client.send_bulk_invoices([rows["BULK-R1"].id]), hesabe.Ack)
    after = {b.reference_number: b for b in client.bulk_invoices().items}
    assert after["BULK-R1"].status == 1 and after["BULK-R2"].status == 0
    assert "BULK-R1" in {i.reference_number for i in client.invoices().items}  # the SMS invoice exists

    assert isinstance(client.delete_bulk_invoice(rows["BULK-R2"].id), hesabe.Ack)
    assert "BULK-R2" not in {b.reference_number for b in client.bulk_invoices().items}


def test_upload_refuses_non_bytes(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    before = sb.stats()["requests"]
    with pytest.raises(posbridge.ValidationError):
        client.upload_bulk_invoices("name,phone\n")  # type: ignore[arg-type]
    assert sb.stats()["requests"] == before


def test_results_carry_no_float_anywhere(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    created = create(client, "SO-NOFLOAT", "0.105")
    sb.hesabe_pay(created.transaction_id)
    results = [
        created, client.pos_invoice(created.id), *client.terminals(), *client.pos_invoices().items, *client.pos_transactions().items,
        client.profile(), *client.invoices().items, *client.refunds().items, *client.open_invoices().items, *client.bulk_invoices().items,
    ]
    for record in results:
        assert floats_in(record.raw) == [], record
        for name, value in vars(record).items():
            assert not isinstance(value, float), (record, name)
    assert client.pos_invoice(created.id).amount == Decimal("0.105")


# -- ValidationError: nothing is sent ------------------------------------------------------------

_BAD_CREATE = {
    "float": dict(amount=1.5),
    "float-int-like": dict(amount=2.0),
    "bool": dict(amount=True),
    "zero": dict(amount=Decimal("0")),
    "zero-3dp": dict(amount=Decimal("0.000")),
    "negative": dict(amount=Decimal("-1.000")),
    "4-decimals": dict(amount=Decimal("1.0001")),
    "nan": dict(amount=Decimal("NaN")),
    "snan": dict(amount=Decimal("sNaN")),
    "infinity": dict(amount=Decimal("Infinity")),
    "-infinity": dict(amount=Decimal("-Infinity")),
    "huge": dict(amount=Decimal("1e12")),
    "bad-email": dict(customer_email="not-an-email"),
    "bad-email-2": dict(customer_email="a@b"),
    "bad-phone": dict(customer_phone="12ab5678"),
    "short-phone": dict(customer_phone="123"),
    "empty-name": dict(customer_name=""),
    "blank-name": dict(customer_name="   "),
    "long-name": dict(customer_name="x" * 101),
    "long-description": dict(description="d" * 256),
    "long-invoice-number": dict(invoice_number="n" * 101),
    "control-chars": dict(customer_name="Sara\nBcc: x"),
    "empty-terminal": dict(terminal_id=""),
}


@pytest.mark.parametrize("override", list(_BAD_CREATE.values()), ids=list(_BAD_CREATE))
def test_create_validation_error_before_sending(sb: sandbox.Sandbox, override: dict) -> None:
    client = hesabe.Client(**sb.hesabe_credentials)  # fresh: not even logged in yet
    before = sb.stats()
    params = dict(terminal_id=TERMINAL, amount=Decimal("1.250"), customer_name="Sara")
    params.update(override)
    with pytest.raises(posbridge.ValidationError) as info:
        client.create_pos_invoice(**params)
    assert isinstance(info.value, ValueError)
    assert info.value.field == next(iter(override)), info.value
    after = sb.stats()
    assert after["requests"] == before["requests"] and after["pos_invoices_created"] == before["pos_invoices_created"]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.create_invoice(amount=0.5),
        lambda c: c.create_invoice(amount=Decimal("1.2345")),
        lambda c: c.request_refund("8422171234567890", Decimal("-1")),
        lambda c: c.create_open_invoice(title="x", expiry_date="2030-13-01", amount=Decimal("1")),
        lambda c: c.edit_bulk_invoice(1, amount=Decimal("NaN"), name="x", phone="96555551234"),
        lambda c: c.pos_invoice("../../etc/passwd"),
        lambda c: c.pos_invoices(page=0),
        lambda c: c.resend_pos_invoice(transaction_id="1/2", terminal_id=TERMINAL, amount=Decimal("1"), customer_name="x"),
    ],
    ids=["invoice-float", "invoice-4dp", "refund-negative", "open-bad-date", "bulk-nan", "id-path", "page-0", "resend-bad-tx"],
)
def test_merchant_validation_error_before_sending(sb: sandbox.Sandbox, call: Callable[[hesabe.Client], Any]) -> None:
    client = hesabe.Client(**sb.hesabe_credentials)
    before = sb.stats()["requests"]
    with pytest.raises(posbridge.ValidationError):
        call(client)
    assert sb.stats()["requests"] == before


# -- ConfigError ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "override",
    [
        dict(secret_key="short"),
        dict(secret_key=SECRET_KEY + "x"),
        dict(iv=IV[:-1]),
        dict(base_url="ftp://merchantapi.hesabe.com"),
        dict(base_url="merchantapi.hesabe.com"),
        dict(base_url="http://"),
        dict(base_url="https://host/api?x=1"),
        dict(timeout=0),
        dict(timeout=-1.0),
        dict(timeout=float("nan")),
        dict(password=""),
        dict(access_code=""),
        dict(merchant_code=" "),
    ],
    ids=["short-key", "long-key", "short-iv", "ftp-url", "no-scheme", "no-host", "query-in-url", "timeout-0",
         "timeout-negative", "timeout-nan", "empty-password", "empty-access-code", "blank-merchant-code"],
)
def test_config_error(sb: sandbox.Sandbox, override: dict) -> None:
    before = sb.stats()["requests"]
    with pytest.raises(posbridge.ConfigError) as info:
        hesabe.Client(**dict(sb.hesabe_credentials, **override))
    assert isinstance(info.value, ValueError)
    assert sb.stats()["requests"] == before


def test_base_url_trailing_slash_is_accepted(sb: sandbox.Sandbox) -> None:
    client = hesabe.Client(**dict(sb.hesabe_credentials, base_url=sb.hesabe_url + "/"))
    assert client.base_url == sb.hesabe_url
    assert len(client.terminals()) == 5


def test_from_env(sb: sandbox.Sandbox) -> None:
    env = {var: sb.hesabe_credentials[name] for name, var in hesabe.ENV.items()}
    assert len(hesabe.Client.from_env(env).terminals()) == 5
    del env["HESABE_PASSWORD"]
    with pytest.raises(posbridge.ConfigError) as info:
        hesabe.Client.from_env(env)
    assert "HESABE_PASSWORD" in str(info.value)


# -- what the vendor refuses ---------------------------------------------------------------------


def test_auth_error_on_bad_password(sb: sandbox.Sandbox) -> None:
    client = hesabe.Client(**dict(sb.hesabe_credentials, password="Wrong-Passw0rd!"))
    logins = sb.stats()["logins"]
    with pytest.raises(posbridge.AuthError) as info:
        client.terminals()
    assert info.value.status_code == 401
    assert isinstance(info.value, posbridge.ApiError)
    assert "Wrong-Passw0rd!" not in str(info.value.args)
    assert sb.stats()["logins"] == logins
    with pytest.raises(posbridge.AuthError):
        client.login()


def test_not_found_on_unknown_pos_invoice(client: hesabe.Client) -> None:
    with pytest.raises(posbridge.NotFoundError) as info:
        client.pos_invoice(987654321)
    assert isinstance(info.value, posbridge.ApiError) and info.value.status_code is not None


def test_api_error_506_when_the_sandbox_cannot_decrypt(sb: sandbox.Sandbox) -> None:
    client = hesabe.Client(**dict(sb.hesabe_credentials, secret_key="0123456789abcdef0123456789abcdef"))
    with pytest.raises(posbridge.ApiError) as info:
        client.terminals()
    assert info.value.code == 506 and info.value.status_code == 200
    assert type(info.value) is posbridge.ApiError
    assert "Invalid Request Data" in str(info.value)
    # on a create the refusal is just as certain: an ApiError, nothing created
    created = sb.stats()["pos_invoices_created"]
    with pytest.raises(posbridge.ApiError) as info:
        client.create_pos_invoice(terminal_id=TERMINAL, amount=Decimal("1.000"), customer_name="Sara", invoice_number="SO-506")
    assert info.value.code == 506 and not isinstance(info.value, posbridge.OutcomeUnknownError)
    assert sb.stats()["pos_invoices_created"] == created


def test_api_error_for_unknown_terminal(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    created = sb.stats()["pos_invoices_created"]
    with pytest.raises(posbridge.ApiError) as info:
        client.create_pos_invoice(terminal_id="nope", amount=Decimal("1.000"), customer_name="Sara")
    assert "terminal" in str(info.value).lower()
    assert sb.stats()["pos_invoices_created"] == created


# -- transport -----------------------------------------------------------------------------------


def test_connect_error_on_closed_port() -> None:
    client = hesabe.Client(**dict(sandbox.HESABE_CREDENTIALS, base_url=f"http://127.0.0.1:{closed_port()}"))
    with pytest.raises(posbridge.ConnectError) as info:
        client.terminals()
    assert isinstance(info.value, posbridge.TransportError)
    # nothing was sent, so a create is not "outcome unknown"
    with pytest.raises(posbridge.ConnectError):
        client.create_pos_invoice(terminal_id=TERMINAL, amount=Decimal("1.000"), customer_name="Sara")


def test_timeout_error_on_slow_get(sb: sandbox.Sandbox) -> None:
    client = hesabe.Client(**sb.hesabe_credentials, timeout=0.5)
    client.login()
    sb.inject_fault("delay", path=POS_TERMINALS, delay=2)
    started = time.monotonic()
    with pytest.raises(posbridge.TimeoutError) as info:
        client.terminals()
    assert time.monotonic() - started < 1.8
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, posbridge.TransportError)


# -- the session ---------------------------------------------------------------------------------


def test_expired_token_one_relogin(sb: sandbox.Sandbox) -> None:
    client = hesabe.Client(**sb.hesabe_credentials)
    client.terminals()
    before = sb.stats()
    sb.hesabe_expire_tokens()
    assert len(client.terminals()) == 5
    after = sb.stats()
    assert after["logins"] == before["logins"] + 1
    assert hits(sb, "GET", POS_TERMINALS) == before["by_path"][f"GET {POS_TERMINALS}"] + 2  # the 401, then the retry
    client.terminals()
    assert sb.stats()["logins"] == after["logins"]


def test_expired_token_on_create_creates_exactly_once(sb: sandbox.Sandbox) -> None:
    client = hesabe.Client(**sb.hesabe_credentials)
    client.login()
    sb.hesabe_expire_tokens()
    before = sb.stats()
    invoice = create(client, "SO-AFTER-401")
    after = sb.stats()
    assert after["pos_invoices_created"] == before["pos_invoices_created"] + 1
    assert after["logins"] == before["logins"] + 1
    assert client.find_pos_invoice(invoice_number="SO-AFTER-401").id == invoice.id


def test_short_token_ttl_refreshes() -> None:
    with sandbox.Sandbox(token_ttl=2) as sb:
        client = hesabe.Client(**sb.hesabe_credentials)
        client.terminals()
        time.sleep(1.3)  # past the renewal point (half of a 2 s token), before expiry
        client.terminals()
        time.sleep(1.3)
        client.terminals()
        stats = sb.stats()
    assert stats["refreshes"] >= 1
    assert stats["logins"] == 1


def test_sandbox_rejects_non_positive_ttl() -> None:
    for ttl in (0, -1):
        with pytest.raises(posbridge.ConfigError):
            sandbox.Sandbox(token_ttl=ttl)


# -- injected faults -----------------------------------------------------------------------------


def _outcome_unknown(sb: sandbox.Sandbox, client: hesabe.Client, number: str, amount: str = "1.250") -> posbridge.OutcomeUnknownError:
    with pytest.raises(posbridge.OutcomeUnknownError) as info:
        create(client, number, amount)
    err = info.value
    assert err.operation == "create_pos_invoice"
    assert err.invoice_number == number
    assert err.reference["invoice_number"] == number
    assert err.reference["terminal_id"] == TERMINAL
    assert Decimal(err.reference["amount"]) == Decimal(amount)
    return err


def test_http500_on_create_is_outcome_unknown_never_resent(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    client.login()
    sb.inject_fault("http500", path=POS_TRANSACTION)
    posted = hits(sb, "POST", POS_TRANSACTION)
    created = sb.stats()["pos_invoices_created"]
    _outcome_unknown(sb, client, "SO-500")
    assert hits(sb, "POST", POS_TRANSACTION) == posted + 1
    assert sb.stats()["pos_invoices_created"] == created  # http500 does not process the request
    assert client.find_pos_invoice(invoice_number="SO-500") is None


def test_http500_on_get_is_api_error_500(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    sb.inject_fault("http500", path=POS_TERMINALS)
    with pytest.raises(posbridge.ApiError) as info:
        client.terminals()
    assert info.value.status_code == 500
    assert not isinstance(info.value, posbridge.OutcomeUnknownError)
    assert len(client.terminals()) == 5  # used up


def test_drop_reply_on_create_created_exactly_once_and_found(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    client.login()
    sb.inject_fault("drop_reply", path=POS_TRANSACTION, method="POST")
    posted = hits(sb, "POST", POS_TRANSACTION)
    created = sb.stats()["pos_invoices_created"]
    err = _outcome_unknown(sb, client, "SO-DROP", "9.990")
    assert sb.stats()["pos_invoices_created"] == created + 1
    assert hits(sb, "POST", POS_TRANSACTION) == posted + 1  # the client never resent it
    found = client.find_pos_invoice(invoice_number=err.invoice_number)
    assert found is not None and found.amount == Decimal("9.990") and found.state == "pending"
    assert hits(sb, "POST", POS_TRANSACTION) == posted + 1


def test_delay_on_create_with_short_timeout_never_resent(sb: sandbox.Sandbox) -> None:
    client = hesabe.Client(**sb.hesabe_credentials, timeout=0.5)
    client.login()
    sb.inject_fault("delay", path=POS_TRANSACTION, delay=1.0)
    posted = hits(sb, "POST", POS_TRANSACTION)
    created = sb.stats()["pos_invoices_created"]
    started = time.monotonic()
    _outcome_unknown(sb, client, "SO-SLOW", "2.345")
    assert time.monotonic() - started < 0.95
    assert hits(sb, "POST", POS_TRANSACTION) == posted + 1
    assert sb.stats()["pos_invoices_created"] == created + 1  # processed before the reply was held back
    time.sleep(0.7)  # the held reply is gone; still exactly one request
    assert hits(sb, "POST", POS_TRANSACTION) == posted + 1
    assert client.find_pos_invoice(invoice_number="SO-SLOW") is not None


@pytest.mark.parametrize("fault", ["malformed_hex", "wrong_key"])
def test_unreadable_reply_on_get_is_decryption_error(sb: sandbox.Sandbox, client: hesabe.Client, fault: str) -> None:
    sb.inject_fault(fault, path=POS_TERMINALS)
    with pytest.raises(posbridge.DecryptionError):
        client.terminals()
    assert len(client.terminals()) == 5


@pytest.mark.parametrize("fault", ["malformed_hex", "wrong_key"])
def test_unreadable_reply_on_create_is_outcome_unknown(sb: sandbox.Sandbox, client: hesabe.Client, fault: str) -> None:
    client.login()
    number = f"SO-{fault.upper()}"
    sb.inject_fault(fault, path=POS_TRANSACTION)
    posted = hits(sb, "POST", POS_TRANSACTION)
    _outcome_unknown(sb, client, number)
    assert hits(sb, "POST", POS_TRANSACTION) == posted + 1
    assert client.find_pos_invoice(invoice_number=number) is not None  # it was processed


def test_fault_on_get_is_retried_by_nobody(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    client.login()
    sb.inject_fault("drop_reply", path=POS_TERMINALS)
    before = hits(sb, "GET", POS_TERMINALS)
    with pytest.raises(posbridge.TransportError):
        client.terminals()
    assert hits(sb, "GET", POS_TERMINALS) == before + 1


def test_unknown_fault_kind_is_refused(sb: sandbox.Sandbox) -> None:
    with pytest.raises(posbridge.ConfigError):
        sb.inject_fault("meteor")


# -- nothing secret in results -------------------------------------------------------------------


def test_result_and_client_reprs_show_no_secrets(sb: sandbox.Sandbox, client: hesabe.Client) -> None:
    created = create(client, "SO-REPR")
    shown = " ".join(
        repr(x)
        for x in (client, created, client.pos_invoices(), client.terminals(), client.profile(), client.invoices(), sb)
    )
    assert "842217" in repr(client) and sb.hesabe_url in repr(client)
    for secret in SECRETS:
        assert secret not in shown
