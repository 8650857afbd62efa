"""Payment links: Gulf mobile numbers as Hesabe takes them, and each channel's request, down to
the wire and over real HTTP to the sandbox."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

import posbridge
from posbridge import hesabe, sandbox


@pytest.mark.parametrize(
    ("typed", "country", "expected"),
    [
        ("+965 5000 1234", "965", ("965", "50001234", "+965 5000 1234")),
        ("00965-5000-1234", "965", ("965", "50001234", "+965 5000 1234")),
        ("50001234", "965", ("965", "50001234", "+965 5000 1234")),
        ("9000 1234", "965", ("965", "90001234", "+965 9000 1234")),
        ("(+966) 50 123 4567", "965", ("966", "501234567", "+966 50 123 4567")),
        ("050 123 4567", "966", ("966", "501234567", "+966 50 123 4567")),
        ("+971 55 123 4567", "965", ("971", "551234567", "+971 55 123 4567")),
        ("+973 3600 1234", "965", ("973", "36001234", "+973 3600 1234")),
        ("+974 5555 1234", "965", ("974", "55551234", "+974 5555 1234")),
        ("+968 9123 4567", "965", ("968", "91234567", "+968 9123 4567")),
    ],
)
def test_gulf_mobile_numbers(typed: str, country: str, expected: tuple) -> None:
    number = hesabe.parse_mobile(typed, default_country=country)
    assert (number.country_code, number.number, str(number)) == expected


@pytest.mark.parametrize(
    ("typed", "country", "says"),
    [
        ("", "965", "required"),
        ("123", "965", "8 digits"),
        ("+965 1234 5678", "965", "starting with"),
        ("+965 5000 12345", "965", "8 digits"),
        ("+44 7700 900123", "965", "Gulf"),
        ("55 123 4567", "44", "not a Gulf calling code"),
        ("5000 1234 ext 2", "965", "not a phone number"),
        ("+966 40 123 4567", "965", "starting with 5"),
    ],
)
def test_refused_mobile_numbers(typed: str, country: str, says: str) -> None:
    with pytest.raises(posbridge.ValidationError, match=says) as caught:
        hesabe.parse_mobile(typed, default_country=country)
    assert caught.value.field == "mobile_number"


def test_channels_to_hesabe_fields() -> None:
    assert {c: tuple(hesabe.link_delivery(c).values()) for c in hesabe.LINK_CHANNELS} == {
        "sms": (1, 0), "whatsapp": (1, 1), "email": (0, 2), "url": (0, 3)}
    with pytest.raises(posbridge.ValidationError, match="channel"):
        hesabe.link_delivery("fax")


@pytest.mark.parametrize("channel", list(hesabe.LINK_CHANNELS))
def test_each_channel_creates_a_link_at_the_sandbox(channel: str) -> None:
    mobile = hesabe.parse_mobile("+966 50 123 4567")
    with sandbox.Sandbox() as sb:
        client = hesabe.Client(**sb.hesabe_credentials)
        params = dict(
            amount=Decimal("12.500"), customer_name="Fatima", mobile_number=mobile.number,
            country_code=mobile.country_code, customer_email="fatima@example.com", reference_number=f"SO042-{channel}",
            payment_types=[hesabe.PAYMENT_TYPES["knet"], hesabe.PAYMENT_TYPES["cards"]], language="ar",
            **hesabe.link_delivery(channel),
        )
        _method, _path, body = client.wire("create_invoice", **params)
        sent = json.loads(hesabe.Codec(sb.hesabe_credentials["secret_key"], sb.hesabe_credentials["iv"]).decrypt(
            json.loads(body)["data"]))
        assert (sent["invoiceType"], sent["invoiceSubType"]) == tuple(str(v) for v in hesabe.LINK_CHANNELS[channel])
        assert (sent["mobileNumber"], sent["countryCode"]) == ("501234567", "966")
        invoice = client.create_invoice(**params)
        assert invoice.url and invoice.token and invoice.state == "unpaid"
        assert client.invoice(invoice.id).reference_number == f"SO042-{channel}"
