"""Helcim's Payment Hardware API clients, sync and async (``specs/helcim.md``)."""

from __future__ import annotations

import asyncio
import datetime
import os
import time
from decimal import Decimal
from typing import Any, Callable, Dict, List, Mapping, Optional, Type, TypeVar, Union

from .. import _native
from .._call import Call, amount_text, async_client, date_text, operation, sync_client, text
from .._records import Record
from ..errors import ConfigError, TimeoutError, ValidationError
from ._models import CardTransaction, Device, PaymentStarted, Ping, RateLimit, ResultList

PRODUCTION_URL: str = _native.HELCIM_PRODUCTION_URL

R = TypeVar("R", bound=Record)
#: Money is Decimal (int and decimal text are accepted; floats are refused).
Money = Union[Decimal, int, str]
#: A date, or its ``YYYY-MM-DD`` text.
DateLike = Union[datetime.date, str]

#: Environment variables read by :meth:`Client.from_env` (and the CLI).
ENV = {
    "api_token": "HELCIM_API_TOKEN",
    "base_url": "HELCIM_BASE_URL",
    "currency": "HELCIM_CURRENCY",
}


def _rate(reply: Dict[str, Any]) -> RateLimit:
    return RateLimit(minute_remaining=reply.get("minute_remaining"), hour_remaining=reply.get("hour_remaining"))


def _one(cls: Type[R]) -> Callable[[Any], R]:
    return lambda reply: cls.from_raw(reply.get("body"), rate_limit=_rate(reply))


def _many(cls: Type[R]) -> Callable[[Any], ResultList[R]]:
    def parse(reply: Any) -> ResultList[R]:
        body = reply.get("body")
        rows = body if isinstance(body, list) else []
        return ResultList([cls.from_raw(row) for row in rows], rate_limit=_rate(reply))

    return parse


def _started(operation: str) -> Callable[[Any], PaymentStarted]:
    """The 202, described by what was sent as the native layer normalised it."""

    def parse(reply: Any) -> PaymentStarted:
        sent = reply["request"]
        original = sent.get("original_transaction_id")
        return PaymentStarted(
            operation=operation,
            device_code=sent["device_code"],
            amount=Decimal(sent["transaction_amount"]),
            currency=sent["currency"],
            idempotency_key=str(reply.get("idempotency_key") or ""),
            invoice_number=sent.get("invoice_number"),
            customer_code=sent.get("customer_code"),
            original_transaction_id=int(original) if original is not None else None,
            status_code=int(reply.get("status", 202)),
            rate_limit=_rate(reply),
            raw=reply.get("body"),
        )

    return parse


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{field}: expected True or False, got {type(value).__name__}", field)
    return value


def _code(code: Any) -> str:
    value = text(code, "code")
    if value is None:
        raise ValidationError("code: the device code is required", "code")
    return value


class _Operations:
    """Every Helcim operation, defined once; :class:`Client` and :class:`AsyncClient` run them."""

    _native: _native.HelcimClient

    @operation
    def connection_test(self) -> Call[str]:
        """Checks the token against ``GET /connection-test``; returns Helcim's message."""
        return Call("connection_test", {}, lambda reply: str((reply.get("body") or {}).get("message", "")))

    # -- devices ----------------------------------------------------------------------------

    @operation
    def devices(
        self, code: Optional[str] = None, *, limit: Optional[int] = None, offset: Optional[int] = None, page: Optional[int] = None
    ) -> Call[ResultList[Device]]:
        """The devices registered to the account (``code`` filters on part of the code).
        ``offset`` and ``page`` cannot be combined. Helcim answers "Devices Not Found" (404)
        when nothing matches; that is an empty list here."""
        return Call(
            "devices",
            {"code": text(code, "code"), "limit": limit, "offset": offset, "page": page},
            _many(Device),
        )

    @operation
    def device(self, code: str) -> Call[Device]:
        """One device by its code. :raise NotFoundError: unknown code."""
        return Call("device", {"code": _code(code)}, _one(Device))

    @operation
    def ping(self, code: str) -> Call[Ping]:
        """Shows a ping message on the device: checks that a stored code is right and the
        device is listening. :raise DeviceNotListeningError: asleep, signed out or in
        standalone mode. :raise NotFoundError: unknown code."""
        return Call(
            "ping",
            {"code": _code(code)},
            lambda reply: Ping(device_code=reply["request"]["device_code"], status_code=int(reply.get("status", 202)), rate_limit=_rate(reply)),
        )

    # -- payments on the device ---------------------------------------------------------

    @operation
    def purchase(
        self,
        code: str,
        amount: Money,
        currency: Optional[str] = None,
        invoice_number: Optional[str] = None,
        customer_code: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Call[PaymentStarted]:
        """Starts a purchase on the device: it lights up and asks for the card. Sent exactly
        once, never retried.

        :param code: the device code (4 letters or digits, any case).
        :param amount: :class:`~decimal.Decimal`, at most 2 decimals, greater than zero.
        :param currency: ``CAD`` or ``USD``, the merchant's core currency (defaults to the
            client's ``currency``).
        :param invoice_number: your reference (e.g. the sale order): Helcim links or creates
            the invoice, and it is how a lost outcome is found again.
        :param idempotency_key: 25–36 of ``[A-Za-z0-9_-]``; a UUID is generated when omitted.
        :return: :class:`PaymentStarted` (202): **not paid yet**; wait for the webhook.
        :raise ValidationError: bad input; nothing was sent.
        :raise DeviceNotListeningError: the device is not listening (409); nothing started.
        :raise OutcomeUnknownError: sent, but no usable reply (timeout, 5xx): reconcile with
            :meth:`find_card_transactions` and the webhook before trying again.

        >>> started = client.purchase("DY6L", Decimal("10.99"), "CAD", invoice_number="SO042")
        """
        return Call(
            "purchase",
            {
                "code": _code(code),
                "amount": amount_text(amount),
                "currency": text(currency, "currency"),
                "invoice_number": text(invoice_number, "invoice_number"),
                "customer_code": text(customer_code, "customer_code"),
                "idempotency_key": text(idempotency_key, "idempotency_key"),
            },
            _started("purchase"),
        )

    @operation
    def refund(
        self,
        code: str,
        amount: Money,
        original_transaction_id: Union[int, str],
        currency: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Call[PaymentStarted]:
        """Starts an in-person **debit** refund on the device: the customer must be there with
        the original card, the original must be an approved debit purchase in a closed batch,
        and ``amount`` at most what is left of it. Credit cards are refunded through Helcim's
        Payment API, not the device. Needs a token with Admin processing rights (else
        :class:`~posbridge.AuthError`). Sent exactly once, never retried.

        :return: :class:`PaymentStarted` (202); the outcome arrives by webhook.
        """
        return Call(
            "refund",
            {
                "code": _code(code),
                "amount": amount_text(amount),
                "original_transaction_id": text(original_transaction_id, "original_transaction_id"),
                "currency": text(currency, "currency"),
                "idempotency_key": text(idempotency_key, "idempotency_key"),
            },
            _started("refund"),
        )

    # -- the Payment API ------------------------------------------------------------------

    @operation
    def refund_payment(
        self,
        original_transaction_id: Union[int, str],
        amount: Money,
        ip_address: str,
        ecommerce: bool = False,
        currency: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Call[CardTransaction]:
        """Refunds a **credit-card** purchase through Helcim's Payment API
        (``POST /payment/refund``): no device, no customer present, and the answer is the
        refund itself, a card transaction of ``type`` ``"refund"`` (read ``is_approved``).
        The original must be in a closed (settled) batch (the same day, :meth:`reverse_payment`
        it instead); several partial refunds may add up to its amount. Interac/debit purchases
        are refunded on the device instead (:meth:`refund`). Needs a token with Admin processing rights.

        Helcim keeps the idempotency key bound to this refund for 5 minutes and answers a
        replay with the first response, so after a lost reply the request is resent **once**
        with the same key and body (device requests never are).

        :param original_transaction_id: the purchase's ``transaction_id``.
        :param amount: :class:`~decimal.Decimal`, at most 2 decimals, at most what is left of
            the original.
        :param ip_address: the IPv4 or IPv6 address the refund is made from (Helcim requires
            it), e.g. the back-office user's.
        :param ecommerce: sent as ``ecommerce``: the original was an online payment.
        :param currency: ``CAD`` or ``USD``, for the amount's precision only (Helcim refunds
            in the original's currency; it is not sent).
        :param idempotency_key: 25–36 of ``[A-Za-z0-9_-]``; a UUID is generated when omitted.
        :return: :class:`CardTransaction` (``type`` ``"refund"``, ``APPROVED`` or ``DECLINED``).
        :raise ValidationError: bad input; nothing was sent.
        :raise ApiError: Helcim refused (400: a debit original, an open batch, more than is
            left; 409: the key was used for another request).
        :raise OutcomeUnknownError: sent, but no usable reply even after the one resend (or a
            5xx): call again with ``idempotency_key=error.idempotency_key`` within 5 minutes
            (Helcim answers with the first refund if it was made), or look for the refund with
            :meth:`card_transactions` by the original's invoice number.

        >>> refund = client.refund_payment(25764674, Decimal("5.00"), ip_address="203.0.113.7")
        """
        return Call(
            "refund_payment",
            {
                "original_transaction_id": text(original_transaction_id, "original_transaction_id"),
                "amount": amount_text(amount),
                "ip_address": text(ip_address, "ip_address") or "",
                "ecommerce": _flag(ecommerce, "ecommerce"),
                "currency": text(currency, "currency"),
                "idempotency_key": text(idempotency_key, "idempotency_key"),
            },
            _one(CardTransaction),
        )

    @operation
    def reverse_payment(
        self,
        card_transaction_id: Union[int, str],
        ip_address: str,
        ecommerce: bool = False,
        idempotency_key: Optional[str] = None,
    ) -> Call[CardTransaction]:
        """Reverses a purchase that is still in the **open** batch, for all of its amount,
        through Helcim's Payment API (``POST /payment/reverse``): the same-day way to give the
        money back, before the batch settles (a refund needs a closed batch). The answer is the
        reversal itself, a card transaction of ``type`` ``"reverse"`` (read ``is_approved``).
        Needs a token with Admin processing rights.

        Idempotent like :meth:`refund_payment`: Helcim keeps the key bound to this reversal for
        5 minutes, so after a lost reply the request is resent **once** with the same key.

        :param card_transaction_id: the purchase's ``transaction_id``.
        :param ip_address: the IPv4 or IPv6 address the reversal is made from (Helcim requires it).
        :param ecommerce: sent as ``ecommerce``: the original was an online payment.
        :param idempotency_key: 25–36 of ``[A-Za-z0-9_-]``; a UUID is generated when omitted.
        :return: :class:`CardTransaction` (``type`` ``"reverse"``).
        :raise ValidationError: bad input; nothing was sent.
        :raise ApiError: Helcim refused (400: the batch has closed, refund it instead; already
            refunded or reversed; 409: the key was used for another request). Nothing moved.
        :raise OutcomeUnknownError: sent, but no usable reply even after the one resend: call
            again with ``idempotency_key=error.idempotency_key`` within 5 minutes.

        >>> reversal = client.reverse_payment(25764674, ip_address="203.0.113.7")
        """
        return Call(
            "reverse_payment",
            {
                "card_transaction_id": text(card_transaction_id, "card_transaction_id"),
                "ip_address": text(ip_address, "ip_address") or "",
                "ecommerce": _flag(ecommerce, "ecommerce"),
                "idempotency_key": text(idempotency_key, "idempotency_key"),
            },
            _one(CardTransaction),
        )

    # -- card transactions --------------------------------------------------------------

    @operation
    def card_transaction(self, id: Union[int, str], *, not_found_retries: int = 0) -> Call[CardTransaction]:
        """One card transaction by id (the ``id`` of a ``cardTransaction`` webhook).

        :param not_found_retries: retry a 404 this many times with backoff (250 ms, doubling):
            a transaction can appear a moment after its webhook.
        """
        return Call("card_transaction", {"id": text(id, "id"), "not_found_retries": not_found_retries or None}, _one(CardTransaction))

    @operation
    def event_transaction(self, event: Any, *, not_found_retries: int = 4) -> Call[CardTransaction]:
        """The card transaction a verified ``cardTransaction`` webhook announces (see
        :func:`verify_webhook`), retrying while it is not yet visible. Read its ``status``:
        the webhook fires for declined payments too."""
        if not isinstance(event, _native.CardTransactionEvent):
            raise ValidationError("event: expected a CardTransactionEvent from verify_webhook", "event")
        return Call("card_transaction", {"id": event.transaction_id, "not_found_retries": not_found_retries or None}, _one(CardTransaction))

    @operation
    def card_transactions(
        self,
        *,
        invoice_number: Optional[str] = None,
        customer_code: Optional[str] = None,
        card_token: Optional[str] = None,
        search: Optional[str] = None,
        date_from: Optional[DateLike] = None,
        date_to: Optional[DateLike] = None,
        card_batch_id: Optional[int] = None,
        limit: Optional[int] = None,
        page: Optional[int] = None,
    ) -> Call[ResultList[CardTransaction]]:
        """Card transactions matching the filters (dates are Mountain Time, as Helcim's)."""
        return Call(
            "card_transactions",
            {
                "invoice_number": text(invoice_number, "invoice_number"),
                "customer_code": text(customer_code, "customer_code"),
                "card_token": text(card_token, "card_token"),
                "search": text(search, "search"),
                "date_from": date_text(date_from, "date_from"),
                "date_to": date_text(date_to, "date_to"),
                "card_batch_id": card_batch_id,
                "limit": limit,
                "page": page,
            },
            _many(CardTransaction),
        )

    @operation
    def find_card_transactions(self, invoice_number: str, amount: Optional[Money] = None) -> Call[List[CardTransaction]]:
        """Reconciliation: the card transactions carrying your ``invoice_number`` (and exactly
        ``amount``, when given), newest last. Run it after
        :class:`~posbridge.OutcomeUnknownError` or a missed webhook; an empty list means the
        customer has not paid (yet)."""
        number = text(invoice_number, "invoice_number")
        if not number:
            raise ValidationError("invoice_number: give the invoice number the purchase carried", "invoice_number")
        wanted = None if amount is None else Decimal(amount_text(amount))

        def parse(reply: Any) -> List[CardTransaction]:
            rows = _many(CardTransaction)(reply)
            return [t for t in rows if t.invoice_number == number and (wanted is None or t.amount == wanted)]

        return Call("card_transactions", {"invoice_number": number}, parse)


class _Base(_Operations):
    def __init__(
        self,
        *,
        api_token: str,
        base_url: str = PRODUCTION_URL,
        timeout: float = 10.0,
        currency: Optional[str] = None,
        rate_limit: bool = False,
    ) -> None:
        self._native = _native.HelcimClient(api_token=api_token, base_url=base_url, timeout=timeout, currency=currency, rate_limit=rate_limit)

    @classmethod
    def from_env(cls: Any, environ: Optional[Mapping[str, str]] = None, **overrides: Any) -> Any:
        """Builds a client from ``HELCIM_API_TOKEN`` and (optional) ``HELCIM_BASE_URL``,
        ``HELCIM_CURRENCY``; keyword arguments take precedence."""
        env = os.environ if environ is None else environ
        kwargs: Dict[str, Any] = {name: env[var] for name, var in ENV.items() if var in env}
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        if "api_token" not in kwargs:
            raise ConfigError(f"missing Helcim setting: {ENV['api_token']}")
        return cls(**kwargs)

    @property
    def base_url(self) -> str:
        return self._native.base_url

    @property
    def currency(self) -> Optional[str]:
        """The merchant's core currency, when the client was given it."""
        return self._native.currency

    def wire(self, operation: str, **params: Any) -> Any:
        """The request an operation sends, as ``(method, path_and_query, body,
        idempotency_key)``, without sending it: ``client.wire("purchase", code="DY6L", ...)``."""
        method = getattr(_Operations, operation, None)
        if method is None or not getattr(method, "_posbridge_operation", False):
            raise ConfigError(f"unknown Helcim operation {operation!r}")
        call = method(self, **params)
        return self._native.wire(call.operation, call.params)

    def __repr__(self) -> str:
        return f"helcim.{type(self).__name__}(base_url={self.base_url!r}, currency={self.currency!r})"


def _deadline_message(invoice_number: str, timeout: float) -> str:
    return f"no card transaction for invoice {invoice_number} after {timeout:g} s (not paid, cancelled on the device, or still waiting)"


@sync_client(_Operations)
class Client(_Base):
    """Helcim Payment Hardware client (blocking; the GIL is released while it waits).

    Safe to share between threads; usable after ``os.fork()``::

        client = helcim.Client(api_token=..., currency="CAD")
        started = client.purchase("DY6L", Decimal("10.99"), invoice_number="SO042")
    """

    def wait_for_transaction(self, invoice_number: str, amount: Optional[Money] = None, *, timeout: float = 120.0, interval: float = 2.0) -> CardTransaction:
        """Polls :meth:`find_card_transactions` until the purchase carrying ``invoice_number``
        has a card transaction (approved or declined: read its ``status``). For scripts
        without a webhook receiver.

        :raise TimeoutError: none after ``timeout`` seconds (a ``terminalCancel`` leaves none).
        """
        deadline = time.monotonic() + timeout
        while True:
            found: List[CardTransaction] = self.find_card_transactions(invoice_number, amount)  # type: ignore[assignment]
            if found:
                return found[-1]
            if time.monotonic() + interval > deadline:
                raise TimeoutError(_deadline_message(invoice_number, timeout))
            time.sleep(interval)


@async_client(_Operations)
class AsyncClient(_Base):
    """The asyncio twin of :class:`Client`: the same methods, each a coroutine."""

    async def wait_for_transaction(self, invoice_number: str, amount: Optional[Money] = None, *, timeout: float = 120.0, interval: float = 2.0) -> CardTransaction:
        """The asyncio twin of :meth:`Client.wait_for_transaction`."""
        deadline = time.monotonic() + timeout
        while True:
            found: List[CardTransaction] = await self.find_card_transactions(invoice_number, amount)  # type: ignore[misc]
            if found:
                return found[-1]
            if time.monotonic() + interval > deadline:
                raise TimeoutError(_deadline_message(invoice_number, timeout))
            await asyncio.sleep(interval)
