"""posbridge's exceptions: one tree under :class:`Error`, raised from Rust and Python alike.

This module must not import ``posbridge._native`` (the native module imports these classes).

Catch what you can act on::

    try:
        client.create_pos_invoice(terminal_id="29708454", amount=Decimal("1.500"), customer_name="Sara")
    except posbridge.ValidationError as e:   # bad input, nothing was sent
        print(e.field, e)
    except posbridge.OutcomeUnknownError as e:  # sent, reply lost: reconcile, never resend blindly
        found = client.find_pos_invoice(invoice_number=e.invoice_number)
"""

from __future__ import annotations

import builtins
from typing import Any, Mapping, Optional, Sequence, Tuple, Union

__all__ = [
    "Error",
    "PosbridgeError",
    "ConfigError",
    "ValidationError",
    "TransportError",
    "ConnectError",
    "TimeoutError",
    "ApiError",
    "AuthError",
    "NotFoundError",
    "RateLimitedError",
    "DeviceNotListeningError",
    "ProtocolError",
    "DecryptionError",
    "SignatureError",
    "DecodeError",
    "OutcomeUnknownError",
]


class Error(Exception):
    """Base of every posbridge exception."""

    @property
    def message(self) -> str:
        """The human-readable message (never contains a secret)."""
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return self.message


PosbridgeError = Error


class ConfigError(Error, ValueError):
    """The client or codec is misconfigured (wrong key size, bad base URL, missing credential)."""


class ValidationError(Error, ValueError):
    """Bad input, found before anything was sent.

    :ivar field: the parameter that was refused, e.g. ``"amount"``.
    """

    def __init__(self, message: str, field: Optional[str] = None) -> None:
        super().__init__(message, field)
        self.field = field


class TransportError(Error):
    """The network failed (connection reset, incomplete reply)."""


class ConnectError(TransportError):
    """No connection could be made: the request was certainly not sent."""


class TimeoutError(TransportError, builtins.TimeoutError):
    """The vendor did not answer in time."""


class ApiError(Error):
    """The vendor refused the request.

    :ivar status_code: the HTTP status.
    :ivar code: the vendor's own error code when it gave one (Hesabe's ``506``...).
    :ivar body: the decoded reply body (decrypted for Hesabe).
    """

    def __init__(
        self,
        message: str,
        status_code: Optional[int] = None,
        code: Optional[int] = None,
        body: Optional[str] = None,
    ) -> None:
        super().__init__(message, status_code, code, body)
        self.status_code = status_code
        self.code = code
        self.body = body


class AuthError(ApiError):
    """Bad credentials, an expired or rejected token, or a token without the permission."""


class NotFoundError(ApiError):
    """The object (invoice, terminal, device, transaction) does not exist."""


class RateLimitedError(ApiError):
    """Too many requests.

    :ivar retry_after: seconds to wait, when the vendor said.
    """

    def __init__(
        self,
        message: str,
        status_code: Optional[int] = None,
        code: Optional[int] = None,
        body: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message, status_code, code, body)
        self.args = (message, status_code, code, body, retry_after)
        self.retry_after = retry_after


class DeviceNotListeningError(ApiError):
    """Helcim's 409: the device is not in pairing (API) mode or is offline."""


class ProtocolError(Error):
    """The vendor's reply (or a webhook) could not be read or trusted."""


class DecryptionError(ProtocolError):
    """A Hesabe payload could not be decrypted (bad hex, length, padding, key or UTF-8)."""


class SignatureError(ProtocolError):
    """A webhook signature or timestamp did not verify."""


class DecodeError(ProtocolError):
    """A reply was readable but not in the shape the vendor documents."""


_Reference = Union[Mapping[str, str], Sequence[Tuple[str, str]], None]


class OutcomeUnknownError(Error):
    """A request that moves money was sent, but its outcome is unknown (no reply, a timeout,
    a 5xx or an unreadable reply). It may or may not have been processed: reconcile (e.g.
    ``hesabe.Client.find_pos_invoice``) before deciding to send it again. posbridge never
    resends it on its own, with one exception the vendor makes safe: a Helcim Payment API
    refund (``helcim.Client.refund_payment``), which Helcim deduplicates on its idempotency
    key, is resent once with the same key after a lost reply; this error then means the
    resend failed too, and calling again with ``idempotency_key=error.idempotency_key``
    within 5 minutes gets the first refund's answer if it was made.

    :ivar operation: the method that was called, e.g. ``"create_pos_invoice"``.
    :ivar reference: what identifies the request at the vendor (vendor field names).
    """

    def __init__(self, message: str, operation: Optional[str] = None, reference: _Reference = None) -> None:
        ref = dict(reference or {})
        super().__init__(message, operation, ref)
        self.operation = operation
        self.reference: dict[str, str] = ref

    @property
    def invoice_number(self) -> Optional[str]:
        """The invoice number sent with the request, if any."""
        return self.reference.get("invoice_number")

    @property
    def idempotency_key(self) -> Optional[str]:
        """The idempotency key sent with the request (Helcim), if any."""
        return self.reference.get("idempotency_key")

    def __reduce__(self) -> Any:
        return (type(self), (self.message, self.operation, self.reference))
