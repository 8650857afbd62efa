"""Hesabe's objects as typed records (``specs/hesabe.md`` §5, §6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, Generic, List, Optional, TypeVar

from .._records import Record as _Record, vendor


class Record(_Record):
    """A Hesabe object; its money fields are KWD with 3 decimals."""

    _money_places = 3

__all__ = [
    "Terminal",
    "PosInvoice",
    "Transaction",
    "Invoice",
    "Refund",
    "OpenInvoice",
    "BulkInvoice",
    "Profile",
    "Page",
    "Ack",
    "POS_STATUS",
]

#: POS invoice ``status`` values. Hesabe documents only 0 (created); the others follow its
#: Merchant API conventions and are the posbridge sandbox's model (see specs/hesabe.md §10).
POS_STATUS = {0: "pending", 1: "paid", 2: "failed", 3: "cancelled"}
_INVOICE_STATUS = {0: "unpaid", 1: "paid", 3: "cancelled"}
_REFUND_STATUS = {0: "pending", 1: "approved", 2: "rejected"}
_PAYMENT_STATUS = {0: "failed", 1: "success", 2: "refund", 3: "refund failed", 4: "authorized", 5: "cancelled"}


@dataclass(frozen=True, repr=False)
class Terminal(Record):
    """A Smart POS terminal. Pass :attr:`terminal_id` to :meth:`Client.create_pos_invoice`."""

    terminal_id: str = vendor("TerminalID")
    terminal_name: str = vendor("TerminalName")
    id: Optional[int] = None
    #: Hesabe's internal sequence number of the terminal (vendor field ``Terminal_ID``).
    terminal_seq_id: Optional[int] = vendor("Terminal_ID")
    terminal_type: Optional[int] = vendor("TerminalType")
    pos_type: Optional[int] = vendor("PosType")
    merchant_id: Optional[int] = vendor("MerchantId")
    merchant_name: Optional[str] = vendor("MerchantName")
    merchant_code: Optional[str] = vendor("MerchantCode")
    remark1: Optional[str] = vendor("Remark1")
    remark2: Optional[str] = vendor("Remark2")
    knet_value: Optional[Decimal] = vendor("KnetValue")
    mpgs_value: Optional[Decimal] = vendor("MpgsValue")
    gcc_value: Optional[Decimal] = vendor("GccValue")
    status: Optional[int] = vendor("Status")
    start_date: Optional[str] = vendor("StartDate")
    end_date: Optional[str] = vendor("EndDate")
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def active(self) -> bool:
        """Whether Hesabe lists the terminal as active (``Status`` 1)."""
        return self.status == 1


@dataclass(frozen=True, repr=False)
class PosInvoice(Record):
    """An invoice pushed to a Smart POS terminal."""

    id: Optional[int] = None
    transaction_id: str = ""
    invoice_number: str = ""
    amount: Optional[Decimal] = None
    terminal_id: str = ""
    terminal_name: Optional[str] = None
    merchant_id: Optional[int] = None
    merchant_name: Optional[str] = None
    customer_name: Optional[str] = None
    customer_email: Optional[str] = None
    customer_phone: Optional[str] = None
    description: Optional[str] = None
    status: Optional[int] = None
    created_by: Optional[int] = None
    created_by_name: Optional[str] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def state(self) -> str:
        """``"pending"``, ``"paid"``, ``"failed"``, ``"cancelled"`` or ``"unknown"``."""
        return POS_STATUS.get(self.status, "unknown") if self.status is not None else "unknown"

    @property
    def is_paid(self) -> bool:
        return self.state == "paid"

    @property
    def is_final(self) -> bool:
        """True once the customer has acted on the terminal (paid, failed) or it was cancelled."""
        return self.state in ("paid", "failed", "cancelled")


@dataclass(frozen=True, repr=False)
class Transaction(Record):
    """A row of the transaction report (POS transactions are ``service_type_id`` 6)."""

    id: Optional[int] = None
    token: str = ""
    amount: Optional[Decimal] = None
    admin_charge: Optional[Decimal] = None
    commission: Optional[Decimal] = None
    payment_status: Optional[int] = None
    service_type_id: Optional[int] = None
    order_reference_number: Optional[str] = None
    transaction_payment_id: Optional[str] = None
    auth: Optional[str] = None
    transaction_reference_number: Optional[str] = None
    transaction_id: Optional[str] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def state(self) -> str:
        """``"success"``, ``"failed"``, ``"refund"``, ... from ``payment_status``."""
        return _PAYMENT_STATUS.get(self.payment_status, "unknown") if self.payment_status is not None else "unknown"


@dataclass(frozen=True, repr=False)
class Invoice(Record):
    """A Merchant API invoice (quick, subscription, split, EMI): a payment link."""

    id: Optional[int] = None
    token: str = ""
    access_key: Optional[str] = None
    reference_number: Optional[str] = None
    amount: Optional[Decimal] = None
    invoice_type: Optional[int] = None
    invoice_sub_type: Optional[int] = None
    invoice_status: Optional[int] = None
    description: Optional[str] = None
    url: Optional[str] = None
    expires_at: Optional[str] = None
    merchant_id: Optional[int] = None
    admin_charge: Optional[Decimal] = None
    service_charge: Optional[Decimal] = None
    discount: Optional[Decimal] = None
    subscription: Optional[int] = None
    customer: Optional[Dict[str, Any]] = None
    transaction: Optional[Dict[str, Any]] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def state(self) -> str:
        """``"unpaid"``, ``"paid"``, ``"cancelled"`` or ``"unknown"``."""
        return _INVOICE_STATUS.get(self.invoice_status, "unknown") if self.invoice_status is not None else "unknown"


@dataclass(frozen=True, repr=False)
class Refund(Record):
    """A refund request; Hesabe approves (1) or rejects (2) it after review."""

    id: Optional[int] = None
    token: str = ""
    amount: Optional[Decimal] = None
    status: Optional[int] = None
    refund_method: Optional[str] = None
    refund_at: Optional[str] = None
    document_number: Optional[str] = None
    transaction_date: Optional[str] = None
    order_reference_number: Optional[str] = None
    remarks: Optional[str] = None
    balance_amount: Optional[Decimal] = None
    merchant_id: Optional[int] = None
    created_at: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def state(self) -> str:
        """``"pending"``, ``"approved"``, ``"rejected"`` or ``"unknown"``."""
        return _REFUND_STATUS.get(self.status, "unknown") if self.status is not None else "unknown"


@dataclass(frozen=True, repr=False)
class OpenInvoice(Record):
    """An open invoice: a reusable link where the customer pays a fixed or chosen amount."""

    id: Optional[int] = None
    title: Optional[str] = None
    reference_number: Optional[str] = None
    description: Optional[str] = None
    type: Optional[int] = None
    fixed_amount: Optional[Decimal] = None
    min_amount: Optional[Decimal] = None
    max_amount: Optional[Decimal] = None
    paid_status: Optional[int] = None
    status: Optional[int] = None
    expiry_date: Optional[str] = None
    url: Optional[str] = None
    merchant_id: Optional[int] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, repr=False)
class BulkInvoice(Record):
    """An invoice from a bulk upload, sent by SMS on demand or on a schedule."""

    id: Optional[int] = None
    reference_number: Optional[str] = None
    name: Optional[str] = None
    phone: Optional[str] = None
    email: Optional[str] = None
    amount: Optional[Decimal] = None
    description: Optional[str] = None
    status: Optional[int] = None
    has_schedule: Optional[int] = None
    schedule_time: Optional[str] = None
    merchant_id: Optional[int] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, repr=False)
class Profile(Record):
    """The merchant's profile."""

    id: Optional[int] = None
    username: Optional[str] = None
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    email: Optional[str] = None
    business_name: Optional[str] = None
    merchant_code: Optional[str] = None
    merchant_name: Optional[str] = None
    is_active: Optional[bool] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list.

    :ivar items: the records on this page.
    :ivar total: how many there are in all, when Hesabe says.
    :ivar next_page: the number of the next page, or ``None`` on the last one.
    :ivar stats: the summary Hesabe sends beside some lists (refunds, invoices), else ``None``.
    """

    items: List[T]
    page: int = 1
    total: Optional[int] = None
    count: Optional[int] = None
    next_page: Optional[int] = None
    previous_page: Optional[int] = None
    stats: Optional[Dict[str, Any]] = None
    raw: Any = field(default=None, repr=False)

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class Ack:
    """A reply that carries no object (cancel, delete, send): Hesabe's message and raw reply."""

    message: str
    raw: Any = field(default=None, repr=False)
