"""The embedded sandbox: both vendors on 127.0.0.1, real HTTP, the same protocols, plus the
customer at the terminal and fault injection for tests.

* Hesabe's Smart POS and Merchant APIs at the root (encrypted payloads, tokens that expire, the
  vendor's error bodies).
* Helcim's Payment Hardware API under ``/v2`` on the same port: devices with codes that listen
  or not (409), purchases and debit refunds answered 202, then the customer's action at the
  device (:meth:`Sandbox.helcim_complete`) records a card transaction and sends a signed
  webhook to :attr:`Sandbox.helcim_webhook_url`, retried on Helcim's schedule (scaled down) with
  the same ``webhook-id``; API tokens with permissions, the rate limits and their headers.

>>> from posbridge import hesabe, sandbox
>>> with sandbox.Sandbox() as sb:
...     client = hesabe.Client(**sb.hesabe_credentials)
...     [t.terminal_id for t in client.terminals()][:2]
['48515', 'yutre34567']

Helcim, with any HTTP client (or ``helcim.Client(**sb.helcim_credentials)``)::

    with sandbox.Sandbox() as sb:
        sb.helcim_webhook_url = "http://127.0.0.1:8069/payment/helcim/webhook"
        # POST {sb.helcim_url}/devices/DY6L/payment/purchase  -> 202
        transaction = sb.helcim_complete("DY6L", outcome="approved")   # the customer taps
        # ... a signed {"id": "<transactionId>", "type": "cardTransaction"} is on its way

Also ``posbridge sandbox`` on the command line; its controls are served over HTTP under
``/_sandbox/`` so that another process can drive it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple, TypedDict

from . import _native
from .hesabe._models import Invoice, PosInvoice, Refund

__all__ = [
    "Sandbox",
    "HesabeCredentials",
    "HESABE_CREDENTIALS",
    "HelcimCredentials",
    "HELCIM_CREDENTIALS",
    "HELCIM_API_TOKEN",
    "HELCIM_POSITIVE_TOKEN",
    "HELCIM_READ_ONLY_TOKEN",
    "HELCIM_VERIFIER_TOKEN",
    "FAULTS",
]


class HesabeCredentials(TypedDict):
    """Keyword arguments for :class:`posbridge.hesabe.Client`."""

    merchant_code: str
    access_code: str
    secret_key: str
    iv: str
    username: str
    password: str
    base_url: str

#: Hesabe's public sandbox credentials, which the embedded sandbox accepts.
HESABE_CREDENTIALS: Dict[str, str] = {
    "merchant_code": "842217",
    "access_code": "c333729b-d060-4b74-a49d-7686a8353481",
    "secret_key": "PkW64zMe5NVdrlPVNnjo2Jy9nOb7v1Xg",
    "iv": "5NVdrlPVNnjo2Jy9",
    "username": "Test",
    "password": "Test@1234",
}


class HelcimCredentials(TypedDict):
    """Keyword arguments for :class:`posbridge.helcim.Client`."""

    api_token: str
    base_url: str
    currency: str


_HELCIM = _native.Sandbox.helcim_tokens()

#: The Helcim sandbox merchant's admin token: every device operation, refunds included.
HELCIM_API_TOKEN: str = _HELCIM["api_token"]
#: A token with Positive Transaction permission: purchases, but a refund gets 403.
HELCIM_POSITIVE_TOKEN: str = _HELCIM["positive_token"]
#: A token with Read permission only: devices and card transactions, but a purchase gets 403.
HELCIM_READ_ONLY_TOKEN: str = _HELCIM["read_only_token"]
#: The verifier token the sandbox signs webhooks with (for ``helcim.verify_webhook``).
HELCIM_VERIFIER_TOKEN: str = _HELCIM["verifier_token"]
#: The admin token and the merchant's currency (CAD); :attr:`Sandbox.helcim_credentials` adds
#: the ``base_url``.
HELCIM_CREDENTIALS: Dict[str, str] = {"api_token": HELCIM_API_TOKEN, "currency": _HELCIM["currency"]}

#: The faults :meth:`Sandbox.inject_fault` knows.
FAULTS = {
    "http500": "reply 500 without processing the request (Helcim paths: Helcim's error body)",
    "delay": "process the request, then wait `delay` seconds before replying",
    "drop_reply": "process the request, then close the connection without replying",
    "malformed_hex": "reply with a payload that is not hex (Helcim paths: a body that is not JSON)",
    "wrong_key": "reply encrypted with another key (Hesabe only)",
    "duplicate_webhook": "deliver the next Helcim webhook twice, with the same webhook-id",
    "bad_signature": "sign the next Helcim webhook delivery attempt with another key",
    "stale_timestamp": "date the next Helcim webhook delivery attempt an hour back",
}


class Sandbox:
    """A sandbox server on 127.0.0.1 (a free port unless ``port`` is given), running on
    background threads of this process until :meth:`close` or the end of a ``with`` block.

    :param token_ttl: lifetime of Hesabe access tokens in seconds (Hesabe's is 900).
    :param refresh_ttl: lifetime of Hesabe refresh tokens in seconds.
    :param helcim_limits: Helcim's rate limits, ``(in flight, per minute, per hour)``; Helcim's
        own by default; ``None`` for none (benchmarks).
    :param helcim_retry_after: send ``retry-after`` with a 429 (Helcim may not: off).
    :param helcim_idempotency_replay: answer a repeated ``idempotency-key`` with the same
        payload within 5 minutes as the first time, without starting anything, and 409 for a
        different payload (unconfirmed at Helcim: off).
    :param helcim_webhook_url: where signed webhooks go (also settable later).
    :param helcim_retry_scale: Helcim's webhook retry schedule (5 s, 5 min, 30 min, 2 h, 5 h,
        10 h, 10 h) times this; 1 is the real schedule.
    :param helcim_webhook_timeout: seconds one delivery attempt may take.
    :param helcim_transaction_delay: seconds a new card transaction answers 404 after its
        webhook (Helcim's records can trail the webhook).
    :param helcim_duplicate_check: Helcim's suspected-duplicate check: an approved purchase
        with the card number, cardholder name and amount of an approved purchase from the last
        5 minutes is declined, its transaction's ``errors`` saying why. Off by default, since
        every sandbox customer taps the same Interac card.
    :param helcim_fee_saver: Helcim's In-person Fee Saver, a surcharge in percent (``3.5``)
        that customers paying by credit card accept on the device: the approved transaction's
        ``amount`` is the purchase's plus the surcharge, rounded to the cent. Interac debit is
        never surcharged. ``0`` (the default) is off.
    :param helcim_signature_rotation: sign every webhook twice, as while Helcim rotates the
        verifier token: ``webhook-signature`` is ``v1,<retiring key> v1,<merchant's key>``, so a
        receiver must accept any entry that matches (:func:`posbridge.helcim.verify_webhook` does).
    :param helcim_refund_declines: an over-refund or a refund of a purchase still in the open
        batch is taken (202) and then declined at the device, the transaction's ``errors``
        saying why, instead of refused at once with a 400 (Helcim does not say which).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        token_ttl: float = 900.0,
        refresh_ttl: float = 7200.0,
        helcim_limits: Optional[Tuple[int, int, int]] = (5, 100, 3000),
        helcim_retry_after: bool = False,
        helcim_idempotency_replay: bool = False,
        helcim_webhook_url: Optional[str] = None,
        helcim_retry_scale: float = 0.01,
        helcim_webhook_timeout: float = 5.0,
        helcim_transaction_delay: float = 0.0,
        helcim_duplicate_check: bool = False,
        helcim_fee_saver: float = 0.0,
        helcim_signature_rotation: bool = False,
        helcim_refund_declines: bool = False,
    ) -> None:
        self._native = _native.Sandbox(
            port=port,
            token_ttl=token_ttl,
            refresh_ttl=refresh_ttl,
            helcim_limits=helcim_limits,
            helcim_retry_after=helcim_retry_after,
            helcim_idempotency_replay=helcim_idempotency_replay,
            helcim_webhook_url=helcim_webhook_url,
            helcim_retry_scale=helcim_retry_scale,
            helcim_webhook_timeout=helcim_webhook_timeout,
            helcim_transaction_delay=helcim_transaction_delay,
            helcim_duplicate_check=helcim_duplicate_check,
            helcim_fee_saver=helcim_fee_saver,
            helcim_signature_rotation=helcim_signature_rotation,
            helcim_refund_declines=helcim_refund_declines,
        )

    # -- where it is ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self._native.url

    @property
    def port(self) -> int:
        """The TCP port on 127.0.0.1."""
        return self._native.port

    @property
    def hesabe_url(self) -> str:
        """The ``base_url`` for :class:`posbridge.hesabe.Client`."""
        return self._native.hesabe_url

    @property
    def hesabe_credentials(self) -> HesabeCredentials:
        """Keyword arguments for ``hesabe.Client(**sb.hesabe_credentials)``."""
        c = HESABE_CREDENTIALS
        return HesabeCredentials(
            merchant_code=c["merchant_code"],
            access_code=c["access_code"],
            secret_key=c["secret_key"],
            iv=c["iv"],
            username=c["username"],
            password=c["password"],
            base_url=self.hesabe_url,
        )

    @property
    def helcim_url(self) -> str:
        """The ``base_url`` for :class:`posbridge.helcim.Client`: ``http://127.0.0.1:PORT/v2``."""
        return self._native.helcim_url

    @property
    def helcim_api_token(self) -> str:
        """The admin API token (``api-token`` header): every Helcim operation."""
        return HELCIM_API_TOKEN

    @property
    def helcim_verifier_token(self) -> str:
        """The verifier token the webhooks are signed with."""
        return HELCIM_VERIFIER_TOKEN

    @property
    def helcim_credentials(self) -> HelcimCredentials:
        """Keyword arguments for ``helcim.Client(**sb.helcim_credentials)``."""
        return HelcimCredentials(api_token=HELCIM_API_TOKEN, base_url=self.helcim_url, currency=HELCIM_CREDENTIALS["currency"])

    @property
    def helcim_webhook_url(self) -> Optional[str]:
        """Where signed Helcim webhooks go (``None``: nowhere). Any http(s) URL; messages
        already being retried keep the URL they started with."""
        return self._native.helcim_webhook_url

    @helcim_webhook_url.setter
    def helcim_webhook_url(self, url: Optional[str]) -> None:
        self._native.set_helcim_webhook_url(url)

    # -- the customer and the back office ---------------------------------------------------

    def hesabe_pay(self, transaction_id: str) -> PosInvoice:
        """The customer pays the POS invoice on the terminal: status 0 → 1."""
        return PosInvoice.from_raw(json.loads(self._native.hesabe_pay(transaction_id)))

    def hesabe_decline(self, transaction_id: str) -> PosInvoice:
        """The customer's card is declined on the terminal: status 0 → 2 (failed)."""
        return PosInvoice.from_raw(json.loads(self._native.hesabe_decline(transaction_id)))

    def hesabe_pay_invoice(self, token: str) -> Invoice:
        """A customer pays a Merchant API invoice (its link); a refundable transaction appears."""
        return Invoice.from_raw(json.loads(self._native.hesabe_pay_invoice(token)))

    def hesabe_set_refund_status(self, id: int, status: int) -> Refund:
        """Hesabe reviews a refund request: 1 approved, 2 rejected."""
        return Refund.from_raw(json.loads(self._native.hesabe_set_refund_status(id, status)))

    def hesabe_expire_tokens(self) -> None:
        """Every access token issued so far stops working (the next call gets 401)."""
        self._native.hesabe_expire_tokens()

    def helcim_complete(self, code: str, outcome: str = "approved", card_type: str = "IN") -> Dict[str, Any]:
        """The customer at Helcim device ``code``, which shows a purchase or refund.

        ``"approved"`` or ``"declined"`` records a card transaction, returned as
        ``GET /card-transactions/{id}`` shows it, and sends a ``cardTransaction`` webhook;
        ``"cancelled"`` sends ``terminalCancel`` and returns its ``data``; ``"timeout"`` sends
        nothing and returns ``{}``. The device is idle afterwards. Amounts are ``Decimal``.

        :param card_type: the purchase's card: ``"IN"`` (Interac) or ``"DB"`` debit, ``"VI"``,
            ``"MC"``, ``"AX"`` ... credit. A refund is tapped with the original purchase's card.
        :raise posbridge.NotFoundError: no device has this code.
        :raise posbridge.ValidationError: the device is not waiting for a card, or an unknown
            outcome or card type.
        """
        result: Dict[str, Any] = json.loads(self._native.helcim_complete(code, outcome, card_type), parse_float=Decimal)
        return result

    def helcim_set_listening(self, code: str, listening: bool) -> None:
        """Puts device ``code`` in Pairing mode and awake (``True``), or not: purchases,
        refunds and pings then get 409 ``device with code ... not listening``.

        :raise posbridge.NotFoundError: no device has this code.
        """
        self._native.helcim_set_listening(code, listening)

    def helcim_close_batch(self) -> int:
        """Settles the open card batch and opens the next; returns the closed batch's id.
        A debit refund needs its purchase in a closed batch."""
        return self._native.helcim_close_batch()

    def helcim_deliveries(self) -> List[Dict[str, Any]]:
        """Every webhook delivery attempt so far, oldest first: ``{"webhook_id", "type",
        "attempt", "url", "status" (the HTTP status, or why there was none), "delivered"}``."""
        result: List[Dict[str, Any]] = json.loads(self._native.helcim_deliveries())
        return result

    # -- tests --------------------------------------------------------------------------

    def inject_fault(
        self,
        kind: str,
        *,
        path: Optional[str] = None,
        method: Optional[str] = None,
        times: int = 1,
        delay: Optional[float] = None,
    ) -> None:
        """Makes the next ``times`` matching requests fail as ``kind`` (see :data:`FAULTS`).
        The webhook faults hit Helcim webhook deliveries instead: ``duplicate_webhook`` per
        message, ``bad_signature`` and ``stale_timestamp`` per delivery attempt.

        :param path: a path prefix such as ``"/api/v1/merchant/smartpos-transaction"`` or
            ``"/v2/devices/DY6L/payment"`` (for webhook faults, of the webhook URL's path); any
            path when ``None``.
        :param delay: seconds, for ``"delay"``.
        :raise posbridge.ConfigError: an unknown ``kind``.
        """
        self._native.inject_fault(kind, path=path, method=method, times=times, delay=delay)

    def clear_faults(self) -> None:
        """Disarms every fault not used up yet."""
        self._native.clear_faults()

    def stats(self) -> Dict[str, Any]:
        """Counters: requests by path, Hesabe POS invoices created, logins, refreshes; Helcim
        purchases and refunds started, card transactions, webhooks delivered and attempts."""
        result: Dict[str, Any] = json.loads(self._native.stats())
        return result

    def close(self) -> None:
        """Stops the server."""
        self._native.shutdown()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"sandbox.Sandbox(url={self.url!r})"
