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
        sb.helcim_webhook_url = "http://127.0.0.1:8069/payment/card/webhook"
        # POST {sb.helcim_url}/devices/DY6L/payment/purchase  -> 202
        transaction = sb.helcim_complete("DY6L", outcome="approved")   # the customer taps
        # ... a signed {"id": "<transactionId>", "type": "cardTransaction"} is on its way

Also ``posbridge sandbox --port 8070`` on the command line; its controls are served over HTTP
under ``/_sandbox/``, and :class:`Remote` drives such a sandbox from another process with the
same methods::

    sb = sandbox.Remote("http://127.0.0.1:8070")
    sb.hesabe_pay(pos_invoice.transaction_id)          # the customer pays at the terminal
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Dict, List, Optional, Tuple, TypedDict

from . import _native
from ._call import load
from .errors import ApiError, ConfigError, ConnectError, NotFoundError, TimeoutError, ValidationError
from .hesabe._models import Invoice, PosInvoice, Refund

__all__ = [
    "Sandbox",
    "Remote",
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
    "hesabe_webhook_drop": "send no webhook for the next paid Hesabe invoice",
    "hesabe_webhook_duplicate": "POST the next paid Hesabe invoice's webhook twice",
}


class _Controls:
    """What a sandbox offers, embedded (:class:`Sandbox`) or in another process
    (:class:`Remote`): where it is, the customer at the terminals, the back office, faults.
    Subclasses give :attr:`url` and run each control by its name (:meth:`_control`)."""

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        raise NotImplementedError

    def _control(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Runs control ``name``; returns its JSON answer decoded (numbers with a fraction as
        ``Decimal``)."""
        raise NotImplementedError

    # -- where it is ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port."""
        return int(urllib.parse.urlsplit(self.url).port or 80)

    @property
    def hesabe_url(self) -> str:
        """The ``base_url`` for :class:`posbridge.hesabe.Client`."""
        return self.url

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
        return self.url + "/v2"

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
        """Where signed Helcim webhooks go (``None``: nowhere). Any http(s) URL, plain http to
        ``127.0.0.1`` included, but never one containing the word "helcim" in any case: Helcim
        refuses such a Deliver URL, and so does the sandbox (:class:`~posbridge.ConfigError`).
        Messages already being retried keep the URL they started with."""
        url: Optional[str] = self._control("helcim_webhook_url")
        return url

    @helcim_webhook_url.setter
    def helcim_webhook_url(self, url: Optional[str]) -> None:
        self._control("set_helcim_webhook_url", url)

    # -- the customer and the back office ---------------------------------------------------

    def hesabe_pay(self, transaction_id: str) -> PosInvoice:
        """The customer pays the POS invoice on the terminal: status 0 → 1, and a successful
        POS transaction (service type 6) whose ``token`` refunds it."""
        return PosInvoice.from_raw(self._control("hesabe_pay", transaction_id))

    def hesabe_decline(self, transaction_id: str) -> PosInvoice:
        """The customer's card is declined on the terminal: status 0 → 2 (failed)."""
        return PosInvoice.from_raw(self._control("hesabe_decline", transaction_id))

    def hesabe_cancel(self, transaction_id: str) -> PosInvoice:
        """The customer cancels the POS invoice on the terminal before presenting a card:
        status 0 → 3 (cancelled); no transaction is recorded."""
        return PosInvoice.from_raw(self._control("hesabe_cancel", transaction_id))

    def hesabe_pay_invoice(self, token: str) -> Invoice:
        """A customer pays a Merchant API invoice (its link); a refundable transaction appears.

        When the invoice was created with ``webhook=URL``, the sandbox then POSTs Hesabe's
        plain JSON webhook there (``hesabe.parse_webhook`` reads it).
        """
        return Invoice.from_raw(self._control("hesabe_pay_invoice", token))

    def hesabe_set_refund_status(self, id: int, status: int) -> Refund:
        """Hesabe reviews a refund request: 1 approved, 2 rejected."""
        return Refund.from_raw(self._control("hesabe_set_refund_status", id, status))

    def hesabe_expire_tokens(self) -> None:
        """Every access token issued so far stops working (the next call gets 401)."""
        self._control("hesabe_expire_tokens")

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
        result: Dict[str, Any] = self._control("helcim_complete", code, outcome, card_type)
        return result

    def helcim_set_listening(self, code: str, listening: bool) -> None:
        """Puts device ``code`` in Pairing mode and awake (``True``), or not: purchases,
        refunds and pings then get 409 ``device with code ... not listening``.

        :raise posbridge.NotFoundError: no device has this code.
        """
        self._control("helcim_set_listening", code, listening)

    def helcim_close_batch(self) -> int:
        """Settles the open card batch and opens the next; returns the closed batch's id.
        Refunds (on the device or through the Payment API) need their purchase in a closed
        batch."""
        return int(self._control("helcim_close_batch"))

    def helcim_deliveries(self) -> List[Dict[str, Any]]:
        """Every webhook delivery attempt so far, oldest first: ``{"webhook_id", "type",
        "attempt", "url", "status" (the HTTP status, or why there was none), "delivered"}``."""
        result: List[Dict[str, Any]] = self._control("helcim_deliveries")
        return result

    def hesabe_deliveries(self) -> List[Dict[str, Any]]:
        """Every POST of a paid invoice's webhook so far, oldest first: ``{"reference_number",
        "token", "attempt" (2 for the copy of ``hesabe_webhook_duplicate``), "url", "status"
        (the HTTP status, or why there was none), "delivered"}``."""
        result: List[Dict[str, Any]] = self._control("hesabe_deliveries")
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
        message, ``bad_signature`` and ``stale_timestamp`` per delivery attempt; and
        ``hesabe_webhook_drop`` / ``hesabe_webhook_duplicate`` the unsigned webhook sent when
        a Merchant API invoice created with ``webhook=`` is paid.

        :param path: a path prefix such as ``"/api/v1/merchant/smartpos-transaction"`` or
            ``"/v2/devices/DY6L/payment"`` (for webhook faults, of the webhook URL's path); any
            path when ``None``.
        :param delay: seconds, for ``"delay"``.
        :raise posbridge.ConfigError: an unknown ``kind``.
        """
        self._control("inject_fault", kind, path=path, method=method, times=times, delay=delay)

    def clear_faults(self) -> None:
        """Disarms every fault not used up yet."""
        self._control("clear_faults")

    def stats(self) -> Dict[str, Any]:
        """Counters: requests by path, Hesabe POS invoices created, logins, refreshes; Helcim
        purchases and refunds started, Payment API refunds, card transactions, webhooks
        delivered and attempts."""
        result: Dict[str, Any] = self._control("stats")
        return result


class Sandbox(_Controls):
    """A sandbox server on 127.0.0.1 (a free port unless ``port`` is given), running on
    background threads of this process until :meth:`close` or the end of a ``with`` block.

    :param host: the address to listen on (default ``127.0.0.1``). The controls have no
        authentication: listen elsewhere only on a network you trust.
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
        host: str = "127.0.0.1",
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
            host=host,
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

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self._native.url

    def _control(self, name: str, *args: Any, **kwargs: Any) -> Any:
        native = getattr(self._native, name)
        if not callable(native):  # a property (helcim_webhook_url), not JSON text
            return native
        result = native(*args, **kwargs)
        return load(result) if isinstance(result, str) else result

    def close(self) -> None:
        """Stops the server."""
        self._native.shutdown()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"sandbox.Sandbox(url={self.url!r})"


def _segment(value: Any) -> str:
    """A path segment: the value's text, percent-encoded."""
    return urllib.parse.quote(str(value), safe="")


#: How :class:`Remote` runs each control over HTTP: ``name -> (method, path under /_sandbox/,
#: body, what to read from the answer)``; the same controls as the embedded sandbox's methods.
_ROUTES: Dict[str, Callable[..., Tuple[str, str, Optional[Dict[str, Any]], Callable[[Any], Any]]]] = {
    "hesabe_pay": lambda tid: ("POST", f"hesabe/pos/{_segment(tid)}/pay", None, lambda a: a),
    "hesabe_decline": lambda tid: ("POST", f"hesabe/pos/{_segment(tid)}/decline", None, lambda a: a),
    "hesabe_cancel": lambda tid: ("POST", f"hesabe/pos/{_segment(tid)}/cancel", None, lambda a: a),
    "hesabe_pay_invoice": lambda token: ("POST", f"hesabe/invoices/{_segment(token)}/pay", None, lambda a: a),
    "hesabe_set_refund_status": lambda id, status: ("POST", f"hesabe/refunds/{_segment(id)}/status", {"status": status}, lambda a: a),
    "hesabe_expire_tokens": lambda: ("POST", "hesabe/expire-tokens", None, lambda a: None),
    "helcim_complete": lambda code, outcome, card_type: (
        "POST",
        f"helcim/devices/{_segment(code)}/complete",
        {"outcome": outcome, "card_type": card_type},
        lambda a: a,
    ),
    "helcim_set_listening": lambda code, listening: ("POST", f"helcim/devices/{_segment(code)}/listening", {"listening": listening}, lambda a: a),
    "helcim_close_batch": lambda: ("POST", "helcim/close-batch", None, lambda a: a["closed_batch_id"]),
    "helcim_deliveries": lambda: ("GET", "helcim/deliveries", None, lambda a: a),
    "hesabe_deliveries": lambda: ("GET", "hesabe/deliveries", None, lambda a: a),
    "helcim_webhook_url": lambda: ("GET", "helcim/webhook-url", None, lambda a: a["url"]),
    "set_helcim_webhook_url": lambda url: ("PUT", "helcim/webhook-url", {"url": url}, lambda a: None),
    "inject_fault": lambda kind, path=None, method=None, times=1, delay=None: (
        "POST",
        "faults",
        {"kind": kind, "path": path, "method": method, "times": times, "delay_ms": None if delay is None else round(delay * 1000)},
        lambda a: None,
    ),
    "clear_faults": lambda: ("DELETE", "faults", None, lambda a: None),
    "stats": lambda: ("GET", "stats", None, lambda a: a),
}


class Remote(_Controls):
    """A sandbox running in another process (``posbridge sandbox --port 8070``), driven over
    its HTTP controls under ``/_sandbox/``: the same methods and answers as :class:`Sandbox`
    (the customer at the terminal, the back office, faults, stats), and the same credentials.
    Closing it does not stop that sandbox.

    >>> sb = Remote("http://127.0.0.1:8070")                  # doctest: +SKIP
    >>> client = hesabe.Client(**sb.hesabe_credentials)       # doctest: +SKIP
    >>> sb.hesabe_pay(invoice.transaction_id).is_paid         # doctest: +SKIP
    True

    :param url: the sandbox's URL, as ``posbridge sandbox`` prints it.
    :param timeout: seconds per control request.
    :raise posbridge.ConfigError: ``url`` is not an ``http://host:port`` URL.

    A control that fails raises what :class:`Sandbox` raises: :class:`~posbridge.NotFoundError`
    (no such invoice or device), :class:`~posbridge.ValidationError` (e.g. not pending),
    :class:`~posbridge.ConfigError` (e.g. a webhook URL containing "helcim");
    :class:`~posbridge.ConnectError` when nothing answers at ``url``.
    """

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        parts = urllib.parse.urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError(f"a sandbox URL is http://HOST:PORT, as `posbridge sandbox` prints it (got {url!r})")
        self._url = f"{parts.scheme}://{parts.netloc}"
        self._timeout = timeout

    @property
    def url(self) -> str:
        """``http://HOST:PORT``."""
        return self._url

    def is_running(self) -> bool:
        """Whether a sandbox answers at :attr:`url` (its controls, not a vendor API)."""
        try:
            self.stats()
        except (ConnectError, TimeoutError, ApiError):
            return False
        return True

    def _control(self, name: str, *args: Any, **kwargs: Any) -> Any:
        method, path, body, read = _ROUTES[name](*args, **kwargs)
        data = None if body is None else json.dumps({k: v for k, v in body.items() if v is not None}).encode()
        request = urllib.request.Request(f"{self._url}/_sandbox/{path}", data=data, method=method, headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return read(load(response.read().decode()))
        except urllib.error.HTTPError as e:
            raise _control_error(e.code, e.read().decode(errors="replace")) from None
        except socket.timeout:
            raise TimeoutError(f"the sandbox at {self._url} did not answer in {self._timeout:g} s") from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, socket.timeout):
                raise TimeoutError(f"the sandbox at {self._url} did not answer in {self._timeout:g} s") from None
            raise ConnectError(f"no sandbox answers at {self._url} ({e.reason}); start one with `posbridge sandbox --port PORT`") from None

    def __repr__(self) -> str:
        return f"sandbox.Remote(url={self.url!r})"


def _control_error(status: int, text: str) -> Exception:
    """The exception the embedded sandbox would raise for a control's refusal."""
    try:
        answer = json.loads(text)
    except ValueError:
        answer = {}
    message = str(answer.get("error") or f"HTTP {status}") if isinstance(answer, dict) else f"HTTP {status}"
    if status == 404:
        return NotFoundError(message, status, None, text)
    if status == 422:
        return ValidationError(message, answer.get("field") if isinstance(answer, dict) else None)
    if status == 400:
        return ConfigError(message)
    return ApiError(message, status, None, text)
