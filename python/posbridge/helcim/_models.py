"""Helcim's objects as typed records (``specs/helcim.md`` §4): fields are the vendor's
camelCase names in snake_case, money is :class:`~decimal.Decimal` with 2 places."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Optional, TypeVar

from .._records import Record as _Record, reply_field

__all__ = ["RateLimit", "Device", "Ping", "PaymentStarted", "CardTransaction", "ResultList"]

_UPPER_AFTER_UNDERSCORE = re.compile(r"_([a-z0-9])")


def _camel(name: str) -> str:
    return _UPPER_AFTER_UNDERSCORE.sub(lambda m: m.group(1).upper(), name)


@dataclass(frozen=True)
class RateLimit:
    """Helcim's allowance left after a call (``minute-limit-remaining``,
    ``hour-limit-remaining``): 100 a minute and 3000 an hour per merchant account."""

    minute_remaining: Optional[int] = None
    hour_remaining: Optional[int] = None


class Record(_Record):
    """A Helcim object; its money fields are CAD/USD with 2 decimals."""

    _money_places = 2

    @staticmethod
    def _vendor_key(name: str) -> str:
        return _camel(name)


T = TypeVar("T")


class ResultList(List[T]):
    """A list of results that also carries the reply's :class:`RateLimit`."""

    rate_limit: Optional[RateLimit] = None

    def __init__(self, items: Any = (), rate_limit: Optional[RateLimit] = None) -> None:
        super().__init__(items)
        self.rate_limit = rate_limit


@dataclass(frozen=True, repr=False)
class Device(Record):
    """A Smart Terminal or Card Reader registered to the account. Its 4-character ``code`` is
    shown on its screen; pass it to :meth:`Client.purchase`."""

    code: str = ""
    date_created: Optional[str] = None
    rate_limit: Optional[RateLimit] = reply_field()
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Ping:
    """The device answered a ping (202): it is paired and listening. A device that is not
    listening raises :class:`~posbridge.DeviceNotListeningError` instead."""

    device_code: str
    status_code: int = 202
    rate_limit: Optional[RateLimit] = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PaymentStarted:
    """Helcim accepted the request (202) and the device is asking for the card. **Not paid
    yet**: the outcome arrives as a ``cardTransaction`` (approved or declined) or
    ``terminalCancel`` webhook, or is found later with :meth:`Client.find_card_transactions`.

    :ivar operation: ``"purchase"`` or ``"refund"``.
    :ivar idempotency_key: the key sent (generated when none was given); keep it with the order.
    :ivar invoice_number: your reference, sent as ``invoiceNumber``; the key to reconcile by.
    """

    operation: str
    device_code: str
    amount: Decimal
    currency: str
    idempotency_key: str
    invoice_number: Optional[str] = None
    customer_code: Optional[str] = None
    original_transaction_id: Optional[int] = None
    status_code: int = 202
    rate_limit: Optional[RateLimit] = field(default=None, compare=False, repr=False)
    raw: Any = field(default=None, compare=False, repr=False)

    @property
    def is_paid(self) -> bool:
        """Always ``False``: a 202 only means the device was asked."""
        return False


@dataclass(frozen=True, repr=False)
class CardTransaction(Record):
    """A card transaction (``GET /card-transactions/{id}``). ``status`` is ``APPROVED`` or
    ``DECLINED``; ``type`` is ``purchase``, ``refund``, ...; ``card_type`` a two-letter code
    (``IN`` Interac, ``DB`` debit, ``VI`` Visa, ``MC`` Mastercard...)."""

    transaction_id: Optional[int] = None
    card_batch_id: Optional[int] = None
    date_created: Optional[str] = None
    status: str = ""
    user: Optional[str] = None
    type: Optional[str] = None
    amount: Optional[Decimal] = None
    currency: Optional[str] = None
    avs_response: Optional[str] = None
    cvv_response: Optional[str] = None
    card_type: Optional[str] = None
    approval_code: Optional[str] = None
    card_token: Optional[str] = None
    card_number: Optional[str] = None
    card_holder_name: Optional[str] = None
    customer_code: Optional[str] = None
    invoice_number: Optional[str] = None
    warning: Optional[str] = None
    #: A declined suspected duplicate carries Helcim's reason here.
    errors: Optional[str] = None
    rate_limit: Optional[RateLimit] = reply_field()
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_approved(self) -> bool:
        return self.status.upper() == "APPROVED"

    @property
    def is_debit(self) -> bool:
        """Interac or debit: refunded on the device; credit cards are refunded through the
        Payment API instead."""
        return (self.card_type or "").upper() in ("IN", "DB")
