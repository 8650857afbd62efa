"""Hesabe (Kuwait): Smart POS and Merchant API clients, sync and async, and the codec.

>>> from decimal import Decimal
>>> from posbridge import hesabe, sandbox
>>> with sandbox.Sandbox() as sb:
...     client = hesabe.Client(**sb.hesabe_credentials)
...     invoice = client.create_pos_invoice(terminal_id="29708454", amount=Decimal("0.100"),
...                                         customer_name="Salman", description="test")
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from .. import _native
from ..errors import ValidationError
from ._client import ENV, PRODUCTION_URL, SANDBOX_URL, AsyncClient, Client
from ._links import GCC_MOBILE, LINK_CHANNELS, PAYMENT_TYPES, MobileNumber, link_delivery, parse_mobile
from ._webhook import InvoiceWebhookEvent, parse_webhook
from ._models import POS_STATUS, Ack, BulkInvoice, Invoice, OpenInvoice, Page, PosInvoice, Profile, Refund, Terminal, Transaction

__all__ = [
    "Codec",
    "Client",
    "AsyncClient",
    "SANDBOX_URL",
    "PRODUCTION_URL",
    "ENV",
    "POS_STATUS",
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
    "InvoiceWebhookEvent",
    "parse_webhook",
    "LINK_CHANNELS",
    "PAYMENT_TYPES",
    "GCC_MOBILE",
    "MobileNumber",
    "parse_mobile",
    "link_delivery",
]


def _compact_json(obj: Any) -> str:
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            raise ValidationError(f"cannot write {obj} as JSON", "obj")
        return format(obj, "f")
    if isinstance(obj, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{_compact_json(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(_compact_json(v) for v in obj) + "]"
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class Codec(_native.Codec):
    """HesabeCrypt: AES-256-CBC with the raw 32-byte key and 16-byte IV, lowercase hex.

    ``encrypt(text, block=16)`` pads with PKCS#7 (what Hesabe's documented requests use);
    ``block=32`` pads as Hesabe's servers do. ``decrypt`` accepts either (any pad of 1..32
    equal bytes) and raises :class:`~posbridge.DecryptionError` on anything else. Wrong key
    or IV sizes raise :class:`~posbridge.ConfigError`. The key is wiped from memory when the
    codec is dropped and never shown in ``repr``.

    >>> codec = Codec("PkW64zMe5NVdrlPVNnjo2Jy9nOb7v1Xg", "5NVdrlPVNnjo2Jy9")
    >>> codec.encrypt('{"merchantCode":"842217"}')
    '0e7898bd7464d0c402fe8a949d9cbf9b826ccb9b83b56fa003373275f1947a65'
    """

    __slots__ = ()

    def encrypt_json(self, obj: Any, block: int = 16) -> str:
        """Encrypts ``obj`` as compact JSON (non-ASCII kept as UTF-8); a Decimal is written
        as the exact JSON number it holds (``Decimal("0.100")`` → ``0.100``)."""
        return self.encrypt(_compact_json(obj), block)

    def decrypt_json(self, hex_text: Any) -> Any:
        """Decrypts and parses JSON; fractional numbers become :class:`~decimal.Decimal`."""
        from .._call import load

        return load(self.decrypt(hex_text))
