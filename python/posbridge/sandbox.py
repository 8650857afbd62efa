"""The embedded sandbox: Hesabe's Smart POS and Merchant APIs on 127.0.0.1, real HTTP, the
same protocol (encrypted payloads, tokens that expire, the vendor's error bodies), plus the
customer at the terminal and fault injection for tests.

>>> from posbridge import hesabe, sandbox
>>> with sandbox.Sandbox() as sb:
...     client = hesabe.Client(**sb.hesabe_credentials)
...     [t.terminal_id for t in client.terminals()][:2]
['48515', 'yutre34567']

Also ``posbridge sandbox`` on the command line; its controls are served over HTTP under
``/_sandbox/`` so that another process can drive it.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, TypedDict

from . import _native
from .hesabe._models import Invoice, PosInvoice, Refund

__all__ = ["Sandbox", "HesabeCredentials", "HESABE_CREDENTIALS", "FAULTS"]


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

#: The faults :meth:`Sandbox.inject_fault` knows.
FAULTS = {
    "http500": "reply 500 without processing the request",
    "delay": "process the request, then wait `delay` seconds before replying",
    "drop_reply": "process the request, then close the connection without replying",
    "malformed_hex": "reply with a payload that is not hex",
    "wrong_key": "reply encrypted with another key",
}


class Sandbox:
    """A sandbox server on 127.0.0.1 (a free port unless ``port`` is given), running on
    background threads of this process until :meth:`close` or the end of a ``with`` block.

    :param token_ttl: lifetime of Hesabe access tokens in seconds (Hesabe's is 900).
    """

    def __init__(self, *, port: int = 0, token_ttl: float = 900.0, refresh_ttl: float = 7200.0) -> None:
        self._native = _native.Sandbox(port=port, token_ttl=token_ttl, refresh_ttl=refresh_ttl)

    # -- where it is ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self._native.url

    @property
    def port(self) -> int:
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

        :param path: a path prefix such as ``"/api/v1/merchant/smartpos-transaction"``; any path
            when ``None``.
        :param delay: seconds, for ``"delay"``.
        """
        self._native.inject_fault(kind, path=path, method=method, times=times, delay=delay)

    def clear_faults(self) -> None:
        self._native.clear_faults()

    def stats(self) -> Dict[str, Any]:
        """Counters: requests by path, POS invoices created, logins, refreshes."""
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
