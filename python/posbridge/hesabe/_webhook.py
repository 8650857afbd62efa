"""The webhook Hesabe POSTs when an invoice or checkout is paid (``specs/hesabe.md`` §7.5).

It is plain JSON, unsigned and unencrypted: anyone can send one. Parse it to learn which
invoice to look at, then confirm by a lookup (``client.invoice(id)`` or ``client.invoices(
search=reference_number)``) and act on what Hesabe answers there, never on the webhook itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Union

from ..errors import DecodeError

__all__ = ["InvoiceWebhookEvent", "parse_webhook"]


@dataclass(frozen=True)
class InvoiceWebhookEvent:
    """What a Hesabe payment webhook claims: unverified until confirmed by a lookup."""

    #: The payment token (merchant code, unix time, digits), as refunds name the payment.
    token: str
    #: KWD, 3 decimals.
    amount: Decimal
    #: The invoice's (or checkout's order) reference number.
    reference_number: str
    #: ``"SUCCESSFUL"`` in Hesabe's sample; other values as they come.
    status: str
    payment_type: str
    service_type: str
    #: ``"YYYY-MM-DD HH:MM:SS"``, Kuwait time.
    datetime: str
    #: The decoded JSON, ``blocks`` included.
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @property
    def successful(self) -> bool:
        """Whether the webhook claims a successful payment (confirm it by a lookup)."""
        return self.status.upper() == "SUCCESSFUL"


def _text(body: Dict[str, Any], name: str, required: bool = True) -> str:
    value = body.get(name)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and (value.strip() or not required):
        return value.strip()
    if value is None and not required:
        return ""
    raise DecodeError(f"the Hesabe webhook has no {name}")


def parse_webhook(body: Union[bytes, str]) -> InvoiceWebhookEvent:
    """Reads the body of a Hesabe payment webhook; :class:`~posbridge.DecodeError` if it is not one.

    Never trust it on its own (it is unsigned): confirm by a lookup before marking anything paid.

    >>> event = parse_webhook(b'{"token":"84221716951937729753667644493","amount":"49.000",'
    ...     b'"reference_number":"1695193758","status":"SUCCESSFUL","payment_type":"KNET",'
    ...     b'"service_type":"Payment Gateway","datetime":"2023-09-20 10:09:36"}')
    >>> event.amount, event.successful
    (Decimal('49.000'), True)
    """
    try:
        decoded = json.loads(body)
    except (ValueError, TypeError) as e:
        raise DecodeError(f"the Hesabe webhook is not JSON: {e}") from None
    if not isinstance(decoded, dict):
        raise DecodeError("the Hesabe webhook is not a JSON object")
    amount_text = _text(decoded, "amount")
    try:
        amount = Decimal(amount_text)
    except InvalidOperation:
        raise DecodeError(f"the Hesabe webhook's amount is not a number: {amount_text!r}") from None
    if not amount.is_finite():
        raise DecodeError(f"the Hesabe webhook's amount is not a number: {amount_text!r}")
    return InvoiceWebhookEvent(
        token=_text(decoded, "token"),
        amount=amount.quantize(Decimal("0.001")),
        reference_number=_text(decoded, "reference_number"),
        status=_text(decoded, "status"),
        payment_type=_text(decoded, "payment_type", required=False),
        service_type=_text(decoded, "service_type", required=False),
        datetime=_text(decoded, "datetime", required=False),
        raw=decoded,
    )
