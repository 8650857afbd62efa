"""posbridge: pay a sale order on a card terminal at the counter.

Exact clients for Hesabe Smart POS / Merchant API (Kuwait) and Helcim Payment Hardware
(Canada/US), written in Rust, with sync and async Python APIs, typed exceptions, and an
embedded sandbox that speaks both protocols on 127.0.0.1::

    from decimal import Decimal
    from posbridge import hesabe, sandbox

    with sandbox.Sandbox() as sb:
        client = hesabe.Client(**sb.hesabe_credentials)
        invoice = client.create_pos_invoice(terminal_id="29708454", amount=Decimal("1.250"),
                                            customer_name="Sara", invoice_number="SO042")
        sb.hesabe_pay(invoice.transaction_id)          # the customer pays on the terminal
        assert client.pos_invoice(invoice.id).is_paid

Submodules (``hesabe``, ``helcim``, ``sandbox``) are imported on first use; importing ``posbridge``
itself starts no thread and opens no connection.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ApiError,
    AuthError,
    ConfigError,
    ConnectError,
    DecodeError,
    DecryptionError,
    DeviceNotListeningError,
    Error,
    NotFoundError,
    OutcomeUnknownError,
    PosbridgeError,
    ProtocolError,
    RateLimitedError,
    SignatureError,
    TimeoutError,
    TransportError,
    ValidationError,
)

if TYPE_CHECKING:
    from . import helcim, hesabe, sandbox

__version__: str

__all__ = [
    "__version__",
    "hesabe",
    "helcim",
    "sandbox",
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

_SUBMODULES = ("hesabe", "helcim", "sandbox")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name == "__version__":
        from ._native import __version__ as version

        return version
    raise AttributeError(f"module 'posbridge' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
