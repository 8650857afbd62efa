"""Hesabe payment links (quick invoices, specs/hesabe.md §6.2): how each delivery channel is
asked of Hesabe, which payment methods a link may offer, and customer mobile numbers in the form
Hesabe takes them, the country calling code apart from the number.

>>> from posbridge import hesabe
>>> hesabe.parse_mobile("+965 5000 1234")
MobileNumber(country_code='965', number='50001234')
>>> str(hesabe.parse_mobile("050 123 4567", default_country="966"))
'+966 50 123 4567'
>>> hesabe.link_delivery("whatsapp")
{'invoice_type': 1, 'invoice_sub_type': 1}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Tuple

from ..errors import ValidationError

#: How each channel is asked of Hesabe: (``invoiceType``, ``invoiceSubType``). Hesabe sends the
#: link itself by SMS and by WhatsApp (``invoiceType`` 1, which needs the mobile number), by
#: e-mail with ``invoiceType`` 0 and the customer's e-mail; ``url`` only creates the link, which
#: the merchant shares. The docs list the sub-types (0 SMS, 1 WhatsApp, 2 Email, 3 URL) but not
#: which ``invoiceType`` goes with WhatsApp and e-mail [unknown]: this table is that assumption.
LINK_CHANNELS: Dict[str, Tuple[int, int]] = {"sms": (1, 0), "whatsapp": (1, 1), "email": (0, 2), "url": (0, 3)}

#: The payment methods a link may offer: ``allocatePayType`` ids (specs/hesabe.md §8.1).
PAYMENT_TYPES: Dict[str, int] = {"knet": 1, "cards": 2, "amex": 7, "apple_pay": 9}

#: Mobile numbers of the Gulf states: calling code -> (digits after it, what the first digit may be).
GCC_MOBILE: Dict[str, Tuple[int, str]] = {
    "965": (8, "4569"),  # Kuwait
    "966": (9, "5"),  # Saudi Arabia
    "971": (9, "5"),  # United Arab Emirates
    "973": (8, "36"),  # Bahrain
    "974": (8, "3567"),  # Qatar
    "968": (8, "79"),  # Oman
}


@dataclass(frozen=True)
class MobileNumber:
    """A Gulf mobile number as Hesabe takes it: ``country_code`` ``"965"``, ``number`` ``"50001234"``."""

    country_code: str
    number: str

    def __str__(self) -> str:
        """``+965 5000 1234``, ``+966 50 123 4567``."""
        n = self.number
        grouped = f"{n[:4]} {n[4:]}" if len(n) == 8 else f"{n[:2]} {n[2:5]} {n[5:]}"
        return f"+{self.country_code} {grouped}"


def parse_mobile(text: str, default_country: str = "965") -> MobileNumber:
    """A customer's mobile number as typed (``+965 5000 1234``, ``00965-50001234``,
    ``50001234``, ``0501234567`` with ``default_country="966"``), checked against the Gulf
    states' mobile numbering: :class:`ValidationError` (``field="mobile_number"``) otherwise.

    :param default_country: the calling code of a number typed without one (the customer's
        country), ``"965"`` by default.
    """
    raw = (text or "").strip()
    if not raw:
        raise ValidationError("a mobile number is required", "mobile_number")
    if re.search(r"[^\d\s+()\-./]", raw):
        raise ValidationError(f"{raw!r} is not a phone number", "mobile_number")
    digits = re.sub(r"\D", "", raw)
    international = re.match(r"^\(?\+", raw) is not None or digits.startswith("00")
    if digits.startswith("00"):
        digits = digits[2:]
    if international:
        code = next((c for c in GCC_MOBILE if digits.startswith(c)), None)
        if code is None:
            raise ValidationError(
                f"{raw!r}: Hesabe links go to Gulf mobile numbers (+{', +'.join(GCC_MOBILE)})", "mobile_number")
        number = digits[len(code):]
    else:
        code = default_country.lstrip("+")
        if code not in GCC_MOBILE:
            raise ValidationError(f"+{code} is not a Gulf calling code (+{', +'.join(GCC_MOBILE)})", "mobile_number")
        number = digits[1:] if digits.startswith("0") and len(digits) == GCC_MOBILE[code][0] + 1 else digits
    length, first = GCC_MOBILE[code]
    if len(number) != length or number[0] not in first:
        raise ValidationError(
            f"{raw!r} is not a mobile number of +{code}: {length} digits starting with {' or '.join(first)}",
            "mobile_number")
    return MobileNumber(code, number)


def link_delivery(channel: str) -> Dict[str, int]:
    """``create_invoice``'s ``invoice_type`` and ``invoice_sub_type`` for a channel: ``"sms"``,
    ``"whatsapp"``, ``"email"`` or ``"url"`` (:data:`LINK_CHANNELS`)."""
    try:
        invoice_type, sub_type = LINK_CHANNELS[channel]
    except KeyError:
        raise ValidationError(f"channel must be one of {', '.join(LINK_CHANNELS)}, not {channel!r}", "channel") from None
    return {"invoice_type": invoice_type, "invoice_sub_type": sub_type}
