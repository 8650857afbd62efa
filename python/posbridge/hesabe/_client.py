"""Hesabe's Smart POS and Merchant API clients, sync and async (``specs/hesabe.md``)."""

from __future__ import annotations

import base64
import datetime
import os
import re
import time
from decimal import Decimal
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Type, TypeVar, Union

from .. import _native
from .._call import Call, amount_text, async_client, date_text, operation, optional_amount, sync_client, text
from .._records import Record
from ..errors import ConfigError, TimeoutError
from ._models import Ack, BulkInvoice, Invoice, OpenInvoice, Page, PosInvoice, Profile, Refund, Terminal, Transaction

SANDBOX_URL: str = _native.HESABE_SANDBOX_URL
PRODUCTION_URL: str = _native.HESABE_PRODUCTION_URL

R = TypeVar("R", bound=Record)
#: Money is Decimal (int and decimal text are accepted; floats are refused).
Money = Union[Decimal, int, str]
#: A date, or its ``YYYY-MM-DD`` text.
DateLike = Union[datetime.date, str]
_PAGE_IN_URL = re.compile(r"[?&]page=(\d+)")

#: Environment variables read by :meth:`Client.from_env` (and the CLI).
ENV = {
    "merchant_code": "HESABE_MERCHANT_CODE",
    "access_code": "HESABE_ACCESS_CODE",
    "secret_key": "HESABE_SECRET_KEY",
    "iv": "HESABE_IV",
    "username": "HESABE_USERNAME",
    "password": "HESABE_PASSWORD",
    "base_url": "HESABE_BASE_URL",
}


def _envelope_response(envelope: Any) -> Any:
    return envelope.get("response") if isinstance(envelope, dict) else None


def _one(cls: Type[R]) -> Callable[[Any], R]:
    return lambda env: cls.from_raw(_envelope_response(env))


def _many(cls: Type[R]) -> Callable[[Any], List[R]]:
    def parse(env: Any) -> List[R]:
        response = _envelope_response(env)
        if isinstance(response, dict):
            response = response.get("data", [])
        return [cls.from_raw(item) for item in response or []]

    return parse


def _ack(env: Any) -> Ack:
    return Ack(message=str(env.get("message", "")) if isinstance(env, dict) else "", raw=_envelope_response(env))


def _page_number(url: Any) -> Optional[int]:
    match = _PAGE_IN_URL.search(url) if isinstance(url, str) else None
    return int(match.group(1)) if match else None


def _page(cls: Type[R], page: int, *list_keys: str) -> Callable[[Any], Page[R]]:
    """A page of ``cls``; the list sits at ``response[.key].data`` with its ``pagination``."""

    def parse(env: Any) -> Page[R]:
        response = _envelope_response(env)
        container = response
        stats = None
        if isinstance(response, dict):
            stats = response.get("stats")
            for key in list_keys:
                if isinstance(response.get(key), dict):
                    container = response[key]
                    break
        rows = container.get("data") if isinstance(container, dict) else container
        pagination = container.get("pagination") if isinstance(container, dict) else None
        pagination = pagination if isinstance(pagination, dict) else {}
        items = [cls.from_raw(row) for row in rows or []] if isinstance(rows, list) else []

        def count(key: str) -> Optional[int]:
            value = pagination.get(key)
            try:
                return int(value) if value is not None else None
            except (TypeError, ValueError):
                return None

        return Page(
            items=items,
            page=page,
            total=count("total"),
            count=count("count"),
            next_page=_page_number(pagination.get("next_page_url")),
            previous_page=_page_number(pagination.get("previous_page_url")),
            stats=stats if isinstance(stats, dict) else None,
            raw=response,
        )

    return parse


def _found(env: Any) -> Optional[PosInvoice]:
    response = _envelope_response(env)
    return PosInvoice.from_raw(response) if isinstance(response, dict) else None


def _pos_invoice_params(
    terminal_id: Any, amount: Any, customer_name: Any, customer_email: Any, customer_phone: Any, invoice_number: Any, description: Any
) -> Dict[str, Any]:
    """The POS invoice fields shared by create and resend, checked and converted."""
    return {
        "terminal_id": text(terminal_id, "terminal_id"),
        "amount": amount_text(amount),
        "customer_name": text(customer_name, "customer_name"),
        "customer_email": text(customer_email, "customer_email"),
        "customer_phone": text(customer_phone, "customer_phone"),
        "invoice_number": text(invoice_number, "invoice_number"),
        "description": text(description, "description"),
    }


def _invoice_item(item: Mapping[str, Any]) -> Dict[str, Any]:
    """One invoice of a split/EMI list, as the native layer takes it."""
    known = {
        "amount", "invoice_type", "invoice_sub_type", "customer_name", "mobile_number", "country_code",
        "customer_email", "reference_number", "payment_types", "description", "expires_at", "language", "webhook",
    }
    unknown = set(item) - known
    if unknown:
        from ..errors import ValidationError

        raise ValidationError(f"invoices: unknown field(s) {sorted(unknown)}", "invoices")
    params = {k: v for k, v in item.items() if v is not None}
    params["amount"] = amount_text(item.get("amount"))
    if "expires_at" in params:
        params["expires_at"] = date_text(params["expires_at"], "expires_at")
    if "payment_types" in params:
        params["payment_types"] = list(params["payment_types"])
    return params


class _Operations:
    """Every Hesabe operation, defined once; :class:`Client` and :class:`AsyncClient` run them."""

    _native: _native.HesabeClient

    # -- authentication -----------------------------------------------------------------

    @operation
    def login(self) -> Call[Ack]:
        """Logs in now (checks the credentials). Optional: every call logs in on its own,
        refreshes the token before its 900 s expiry, and logs in once more if it is rejected."""
        return Call("login", {}, _ack)

    @operation
    def profile(self) -> Call[Profile]:
        """The merchant's profile."""
        return Call("profile", {}, _one(Profile))

    # -- Smart POS ------------------------------------------------------------------------

    @operation
    def terminals(self) -> Call[List[Terminal]]:
        """The Smart POS terminals registered to the merchant."""
        return Call("terminals", {}, _many(Terminal))

    @operation
    def create_pos_invoice(
        self,
        *,
        terminal_id: str,
        amount: Money,
        customer_name: str,
        customer_email: Optional[str] = None,
        customer_phone: Optional[str] = None,
        invoice_number: Optional[str] = None,
        description: Optional[str] = None,
    ) -> Call[PosInvoice]:
        """Pushes an invoice to a Smart POS terminal; the customer pays on the device.

        :param terminal_id: the terminal's ``TerminalID`` (see :meth:`terminals`).
        :param amount: KWD as :class:`~decimal.Decimal`, at most 3 decimals, greater than zero.
        :param invoice_number: your own reference (e.g. the sale order); pass one so that a lost
            reply can be reconciled with :meth:`find_pos_invoice`.
        :return: the POS invoice, ``status`` 0 (pending).
        :raise ValidationError: bad input; nothing was sent.
        :raise OutcomeUnknownError: sent, but no usable reply: reconcile, never resend blindly.

        >>> inv = client.create_pos_invoice(terminal_id="29708454", amount=Decimal("0.100"),
        ...                                 customer_name="Salman", description="test")
        """
        return Call(
            "create_pos_invoice",
            _pos_invoice_params(terminal_id, amount, customer_name, customer_email, customer_phone, invoice_number, description),
            _one(PosInvoice),
        )

    @operation
    def resend_pos_invoice(
        self,
        *,
        transaction_id: str,
        terminal_id: str,
        amount: Money,
        customer_name: str,
        customer_email: Optional[str] = None,
        customer_phone: Optional[str] = None,
        invoice_number: Optional[str] = None,
        description: Optional[str] = None,
    ) -> Call[PosInvoice]:
        """Pushes an existing POS invoice to the terminal again (the same invoice, not a new one).

        :param transaction_id: the ``transaction_id`` of the invoice, from its creation.
        """
        params = {"transaction_id": text(transaction_id, "transaction_id")}
        params.update(_pos_invoice_params(terminal_id, amount, customer_name, customer_email, customer_phone, invoice_number, description))
        return Call(
            "resend_pos_invoice",
            params,
            _one(PosInvoice),
        )

    @operation
    def pos_invoices(self, page: int = 1) -> Call[Page[PosInvoice]]:
        """One page of POS invoices, newest first."""
        return Call("pos_invoices", {"page": page}, _page(PosInvoice, page))

    @operation
    def pos_invoice(self, id: Union[int, str]) -> Call[PosInvoice]:
        """One POS invoice by its ``id``; its ``status`` tells whether it was paid."""
        return Call("pos_invoice", {"id": text(id, "id")}, _one(PosInvoice))

    @operation
    def find_pos_invoice(
        self,
        *,
        invoice_number: Optional[str] = None,
        transaction_id: Optional[str] = None,
        terminal_id: Optional[str] = None,
        amount: Optional[Money] = None,
        max_pages: int = 5,
    ) -> Call[Optional[PosInvoice]]:
        """Looks for a POS invoice by ``invoice_number`` or ``transaction_id`` (optionally also
        terminal and amount) among the newest ``max_pages`` pages. Run it after
        :class:`~posbridge.OutcomeUnknownError` to learn whether the invoice exists before
        creating it again.

        :return: the invoice, or ``None`` when it is not there.
        """
        return Call(
            "find_pos_invoice",
            {
                "invoice_number": text(invoice_number, "invoice_number"),
                "transaction_id": text(transaction_id, "transaction_id"),
                "terminal_id": text(terminal_id, "terminal_id"),
                "amount": optional_amount(amount, "amount"),
                "max_pages": max_pages,
            },
            _found,
        )

    @operation
    def pos_transactions(
        self,
        page: int = 1,
        *,
        from_date: Optional[DateLike] = None,
        to_date: Optional[DateLike] = None,
        payment_status: Optional[int] = None,
    ) -> Call[Page[Transaction]]:
        """POS card transactions (the transaction report with serviceType 6):
        ``payment_status`` 1 success, 0 failed."""
        return Call(
            "pos_transactions",
            {
                "page": page,
                "from_date": date_text(from_date, "from_date"),
                "to_date": date_text(to_date, "to_date"),
                "payment_status": payment_status,
            },
            _page(Transaction, page, "transaction_list"),
        )

    @operation
    def transactions(
        self,
        page: int = 1,
        *,
        from_date: Optional[DateLike] = None,
        to_date: Optional[DateLike] = None,
        service_type: Optional[int] = None,
        payment_type: Optional[int] = None,
        payment_status: Optional[int] = None,
        search: Optional[str] = None,
    ) -> Call[Page[Transaction]]:
        """The transaction report, every service (or one ``service_type``: 2 invoices,
        3 payment gateway, 6 POS, 7 open invoices)."""
        return Call(
            "transactions",
            {
                "page": page,
                "from_date": date_text(from_date, "from_date"),
                "to_date": date_text(to_date, "to_date"),
                "service_type": service_type,
                "payment_type": payment_type,
                "payment_status": payment_status,
                "search": text(search, "search"),
            },
            _page(Transaction, page, "transaction_list"),
        )

    # -- Merchant API: invoices ---------------------------------------------------------

    @operation
    def create_invoice(
        self,
        *,
        amount: Money,
        invoice_type: int = 0,
        invoice_sub_type: Optional[int] = None,
        customer_name: Optional[str] = None,
        mobile_number: Optional[str] = None,
        country_code: Optional[str] = None,
        customer_email: Optional[str] = None,
        reference_number: Optional[str] = None,
        payment_types: Optional[Sequence[int]] = None,
        description: Optional[str] = None,
        expires_at: Optional[DateLike] = None,
        language: Optional[str] = None,
        webhook: Optional[str] = None,
    ) -> Call[Invoice]:
        """Creates a quick invoice (a payment link).

        :param invoice_type: 0 a URL you share (default), 1 an SMS sent by Hesabe (needs
            ``mobile_number``).
        :param invoice_sub_type: 0 SMS, 1 WhatsApp, 2 Email (needs ``customer_email``), 3 URL.
        :param payment_types: Hesabe payment type ids offered (``allocatePayType``; default
            KNET 1 and MPGS 2).
        :param expires_at: a :class:`datetime.date` or ``"YYYY-MM-DD"``; default 30 days after
            today, Kuwait time. Hesabe's docs mark ``expiresAt``, ``invoiceSubType`` and
            ``allocatePayType`` required, so they are always sent (``invoice_sub_type``
            defaults to 3 URL, or 0 SMS for ``invoice_type=1``).
        :param webhook: where Hesabe POSTs an unsigned JSON webhook once the invoice is paid;
            read it with :func:`posbridge.hesabe.parse_webhook`, then confirm by
            :meth:`invoice` before trusting it.
        """
        return Call("create_invoice", self._invoice_params(locals()), _one(Invoice))

    @staticmethod
    def _invoice_params(args: Mapping[str, Any]) -> Dict[str, Any]:
        return _invoice_item({k: v for k, v in args.items() if k != "self"})

    @operation
    def create_subscription_invoice(
        self,
        *,
        amount: Money,
        recurrences: int,
        start_date: DateLike,
        on_demand: bool = False,
        invoice_type: int = 0,
        invoice_sub_type: Optional[int] = None,
        customer_name: Optional[str] = None,
        mobile_number: Optional[str] = None,
        country_code: Optional[str] = None,
        customer_email: Optional[str] = None,
        reference_number: Optional[str] = None,
        payment_types: Optional[Sequence[int]] = None,
        description: Optional[str] = None,
        expires_at: Optional[DateLike] = None,
        language: Optional[str] = None,
        webhook: Optional[str] = None,
    ) -> Call[Invoice]:
        """Creates a monthly subscription invoice of ``recurrences`` payments from ``start_date``;
        ``on_demand`` charges only when you capture, else payments are automatic."""
        args = dict(locals())
        params = self._invoice_params({k: v for k, v in args.items() if k not in ("recurrences", "start_date", "on_demand")})
        params.update(recurrences=recurrences, start_date=date_text(start_date, "start_date"), on_demand=bool(on_demand))
        return Call("create_subscription_invoice", params, _one(Invoice))

    @operation
    def create_split_invoice(self, invoices: Iterable[Mapping[str, Any]]) -> Call[List[Invoice]]:
        """Creates a split invoice: one payment split over several invoices, each a mapping
        with the keyword arguments of :meth:`create_invoice`."""
        return Call("create_split_invoice", {"invoices": [_invoice_item(i) for i in invoices]}, _many(Invoice))

    @operation
    def create_emi_invoice(self, invoices: Iterable[Mapping[str, Any]]) -> Call[List[Invoice]]:
        """Creates an EMI (HeStallMent) invoice: one invoice per instalment, each a mapping
        with the keyword arguments of :meth:`create_invoice`."""
        return Call("create_emi_invoice", {"invoices": [_invoice_item(i) for i in invoices]}, _many(Invoice))

    @operation
    def invoices(
        self,
        page: int = 1,
        *,
        from_date: Optional[DateLike] = None,
        to_date: Optional[DateLike] = None,
        search: Optional[str] = None,
        invoice_type: Optional[int] = None,
    ) -> Call[Page[Invoice]]:
        """The invoice dashboard: one page of invoices, with Hesabe's counts in ``stats``."""
        return Call(
            "invoices",
            {
                "page": page,
                "from_date": date_text(from_date, "from_date"),
                "to_date": date_text(to_date, "to_date"),
                "search": text(search, "search"),
                "invoice_type": invoice_type,
            },
            _page(Invoice, page, "invoices"),
        )

    @operation
    def invoice(self, id: Union[int, str]) -> Call[Invoice]:
        """One invoice by its ``id``."""
        return Call("invoice", {"id": text(id, "id")}, _one(Invoice))

    @operation
    def resend_invoice(self, id: Union[int, str], *, mobile_number: str, country_code: Optional[str] = None) -> Call[Invoice]:
        """Sends an invoice's link again by SMS."""
        return Call(
            "resend_invoice",
            {"id": text(id, "id"), "mobile_number": text(mobile_number, "mobile_number"), "country_code": text(country_code, "country_code")},
            _one(Invoice),
        )

    @operation
    def cancel_invoice(self, token: str) -> Call[Ack]:
        """Cancels an unpaid invoice, addressed by its ``token`` (not its id)."""
        return Call("cancel_invoice", {"token": text(token, "token")}, _ack)

    # -- Merchant API: refunds ----------------------------------------------------------

    @operation
    def request_refund(self, token: str, amount: Optional[Money] = None) -> Call[Refund]:
        """Requests a refund of a paid transaction (its payment ``token``): the whole of it, or
        ``amount`` (partial). Hesabe reviews it: the refund starts ``pending``."""
        return Call("request_refund", {"token": text(token, "token"), "amount": optional_amount(amount, "amount")}, _one(Refund))

    @operation
    def refunds(self, page: int = 1, *, from_date: Optional[DateLike] = None, to_date: Optional[DateLike] = None, search: Optional[str] = None) -> Call[Page[Refund]]:
        """Refund requests, with Hesabe's totals in ``stats``."""
        return Call(
            "refunds",
            {"page": page, "from_date": date_text(from_date, "from_date"), "to_date": date_text(to_date, "to_date"), "search": text(search, "search")},
            _page(Refund, page, "refund_request_list"),
        )

    @operation
    def refund(self, id: Union[int, str]) -> Call[Refund]:
        """One refund request."""
        return Call("refund", {"id": text(id, "id")}, _one(Refund))

    @operation
    def cancel_refund(self, id: Union[int, str]) -> Call[Ack]:
        """Cancels a refund request that is still pending."""
        return Call("cancel_refund", {"id": text(id, "id")}, _ack)

    # -- Merchant API: open invoices ----------------------------------------------------

    @operation
    def create_open_invoice(
        self,
        *,
        title: str,
        expiry_date: DateLike,
        amount: Optional[Money] = None,
        min_amount: Optional[Money] = None,
        max_amount: Optional[Money] = None,
        description: Optional[str] = None,
    ) -> Call[OpenInvoice]:
        """Creates an open invoice: a fixed ``amount``, or a range the customer chooses in."""
        return Call(
            "create_open_invoice",
            {
                "title": text(title, "title"),
                "expiry_date": date_text(expiry_date, "expiry_date"),
                "amount": optional_amount(amount, "amount"),
                "min_amount": optional_amount(min_amount, "min_amount"),
                "max_amount": optional_amount(max_amount, "max_amount"),
                "description": text(description, "description"),
            },
            _one(OpenInvoice),
        )

    @operation
    def open_invoices(self, page: int = 1, *, from_date: Optional[DateLike] = None, to_date: Optional[DateLike] = None, search: Optional[str] = None) -> Call[Page[OpenInvoice]]:
        """Open invoices."""
        return Call(
            "open_invoices",
            {"page": page, "from_date": date_text(from_date, "from_date"), "to_date": date_text(to_date, "to_date"), "search": text(search, "search")},
            _page(OpenInvoice, page),
        )

    @operation
    def update_open_invoice(self, id: Union[int, str], *, expiry_date: DateLike) -> Call[OpenInvoice]:
        """Sets a new expiry date. Hesabe answers with the open invoice under a **new id**."""
        return Call("update_open_invoice", {"id": text(id, "id"), "expiry_date": date_text(expiry_date, "expiry_date")}, _one(OpenInvoice))

    @operation
    def cancel_open_invoice(self, id: Union[int, str]) -> Call[Ack]:
        """Cancels an open invoice."""
        return Call("cancel_open_invoice", {"id": text(id, "id")}, _ack)

    # -- Merchant API: bulk invoices ----------------------------------------------------

    @operation
    def upload_bulk_invoices(self, file: bytes, *, file_type: str = "csv", scheduled: bool = False) -> Call[Ack]:
        """Uploads a CSV or XLSX file of invoices (Hesabe's template), to send in bulk or on a
        schedule."""
        if not isinstance(file, (bytes, bytearray)):
            from ..errors import ValidationError

            raise ValidationError("file: expected the file's bytes", "file")
        return Call(
            "upload_bulk_invoices",
            {"file_base64": base64.b64encode(bytes(file)).decode("ascii"), "file_type": text(file_type, "file_type"), "scheduled": bool(scheduled)},
            _ack,
        )

    @operation
    def bulk_invoices(self, page: int = 1, *, scheduled: bool = False) -> Call[Page[BulkInvoice]]:
        """Bulk (or, with ``scheduled``, scheduled) invoices."""
        return Call("bulk_invoices", {"page": page, "scheduled": bool(scheduled)}, _page(BulkInvoice, page))

    @operation
    def edit_bulk_invoice(
        self,
        id: Union[int, str],
        *,
        amount: Money,
        name: str,
        phone: str,
        email: Optional[str] = None,
        reference_number: Optional[str] = None,
    ) -> Call[BulkInvoice]:
        """Changes a bulk SMS invoice that has not been sent (``phone`` with country code)."""
        return Call(
            "edit_bulk_invoice",
            {
                "id": text(id, "id"),
                "amount": amount_text(amount),
                "name": text(name, "name"),
                "phone": text(phone, "phone"),
                "email": text(email, "email"),
                "reference_number": text(reference_number, "reference_number"),
            },
            _one(BulkInvoice),
        )

    @operation
    def delete_bulk_invoice(self, id: Union[int, str]) -> Call[Ack]:
        """Deletes a bulk SMS invoice."""
        return Call("delete_bulk_invoice", {"id": text(id, "id")}, _ack)

    @operation
    def send_bulk_invoices(self, ids: Iterable[Union[int, str]]) -> Call[Ack]:
        """Sends bulk invoices to their customers by SMS."""
        return Call("send_bulk_invoices", {"ids": [text(i, "ids") for i in ids]}, _ack)


class _Base(_Operations):
    def __init__(
        self,
        *,
        merchant_code: str,
        access_code: str,
        secret_key: Union[str, bytes],
        iv: Union[str, bytes],
        username: str,
        password: str,
        base_url: str = SANDBOX_URL,
        timeout: float = 10.0,
        request_block: int = 16,
    ) -> None:
        self._native = _native.HesabeClient(
            merchant_code=merchant_code,
            access_code=access_code,
            secret_key=secret_key,
            iv=iv,
            username=username,
            password=password,
            base_url=base_url,
            timeout=timeout,
            request_block=request_block,
        )

    @classmethod
    def from_env(cls: Any, environ: Optional[Mapping[str, str]] = None, **overrides: Any) -> Any:
        """Builds a client from ``HESABE_MERCHANT_CODE``, ``HESABE_ACCESS_CODE``,
        ``HESABE_SECRET_KEY``, ``HESABE_IV``, ``HESABE_USERNAME``, ``HESABE_PASSWORD`` and
        (optional) ``HESABE_BASE_URL``; keyword arguments take precedence."""
        env = os.environ if environ is None else environ
        kwargs: Dict[str, Any] = {}
        for name, var in ENV.items():
            if var in env:
                kwargs[name] = env[var]
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        missing = [ENV[n] for n in ENV if n != "base_url" and n not in kwargs]
        if missing:
            raise ConfigError(f"missing Hesabe settings: {', '.join(missing)}")
        return cls(**kwargs)

    @property
    def merchant_code(self) -> str:
        return self._native.merchant_code

    @property
    def base_url(self) -> str:
        return self._native.base_url

    def wire(self, operation: str, **params: Any) -> Any:
        """The request an operation sends, as ``(method, path_and_query, body)``, without sending
        it (for debugging and tests): ``client.wire("terminals")``."""
        method = getattr(_Operations, operation, None)
        if method is None or not getattr(method, "_posbridge_operation", False):
            raise ConfigError(f"unknown Hesabe operation {operation!r}")
        call = method(self, **params)
        return self._native.wire(call.operation, call.params)

    def __repr__(self) -> str:
        return f"hesabe.{type(self).__name__}(merchant_code={self.merchant_code!r}, base_url={self.base_url!r})"


@sync_client(_Operations)
class Client(_Base):
    """Hesabe Smart POS and Merchant API client (blocking; the GIL is released while it waits).

    Safe to share between threads; usable after ``os.fork()`` (a child gets its own
    connections and session). Build it with the merchant's credentials::

        client = hesabe.Client(merchant_code=..., access_code=..., secret_key=..., iv=...,
                               username=..., password=..., base_url=hesabe.SANDBOX_URL)
    """

    def wait_for_pos_invoice(self, id: Union[int, str], *, timeout: float = 120.0, interval: float = 2.0) -> PosInvoice:
        """Polls a POS invoice until the customer has paid or the card was declined.

        :raise TimeoutError: still pending after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            invoice: PosInvoice = self.pos_invoice(id)  # type: ignore[assignment]
            if invoice.is_final:
                return invoice
            if time.monotonic() + interval > deadline:
                raise TimeoutError(f"POS invoice {id} still {invoice.state} after {timeout:g} s")
            time.sleep(interval)


@async_client(_Operations)
class AsyncClient(_Base):
    """The asyncio twin of :class:`Client`: the same methods, each a coroutine."""

    async def wait_for_pos_invoice(self, id: Union[int, str], *, timeout: float = 120.0, interval: float = 2.0) -> PosInvoice:
        """Polls a POS invoice until the customer has paid or the card was declined.

        :raise TimeoutError: still pending after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            invoice: PosInvoice = await self.pos_invoice(id)  # type: ignore[misc]
            if invoice.is_final:
                return invoice
            if time.monotonic() + interval > deadline:
                raise TimeoutError(f"POS invoice {id} still {invoice.state} after {timeout:g} s")
            import asyncio

            await asyncio.sleep(interval)
