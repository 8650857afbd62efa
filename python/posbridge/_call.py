"""The machinery shared by the vendor clients: one definition per operation, turned into a
sync method (GIL released while waiting) and an ``async def`` twin."""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from typing import Any, Callable, Dict, Generic, Optional, TypeVar

from .errors import ValidationError

T = TypeVar("T")

# Built once: ``json.dumps``/``json.loads`` with any non-default argument build a new encoder or
# decoder (and its C scanner) on every call, a third of their cost on a small reply. Both are
# stateless between calls, as the json module's own shared default instances are.
_ENCODER = json.JSONEncoder(separators=(",", ":"))
_DECODER = json.JSONDecoder(parse_float=Decimal)


class Call(Generic[T]):
    """What an operation sends (its name and parameters) and how its reply is read."""

    __slots__ = ("operation", "params", "parse")

    def __init__(self, operation: str, params: Dict[str, Any], parse: Callable[[Any], T]) -> None:
        self.operation = operation
        self.params = _ENCODER.encode({k: v for k, v in params.items() if v is not None})
        self.parse = parse


def operation(fn: Callable[..., Call[Any]]) -> Callable[..., Any]:
    """Marks a method that describes a vendor operation (see :func:`sync_client`)."""
    fn._posbridge_operation = True  # type: ignore[attr-defined]
    return fn


def load(text: str) -> Any:
    """Parses a reply; JSON numbers with a fraction become Decimal, never float."""
    return _DECODER.decode(text)


def sync_client(ops: type) -> Callable[[type], type]:
    """Class decorator: every operation of ``ops`` becomes a blocking method."""

    def decorate(cls: type) -> type:
        for name, fn in vars(ops).items():
            if getattr(fn, "_posbridge_operation", False):
                setattr(cls, name, _sync(fn))
        return cls

    return decorate


def async_client(ops: type) -> Callable[[type], type]:
    """Class decorator: every operation of ``ops`` becomes an ``async def``."""

    def decorate(cls: type) -> type:
        for name, fn in vars(ops).items():
            if getattr(fn, "_posbridge_operation", False):
                setattr(cls, name, _async(fn))
        return cls

    return decorate


def _sync(fn: Callable[..., Call[Any]]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = fn(self, *args, **kwargs)
        return call.parse(load(self._native.call(call.operation, call.params)))

    return method


def _async(fn: Callable[..., Call[Any]]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = fn(self, *args, **kwargs)
        return call.parse(load(await self._native.call_async(call.operation, call.params)))

    return method


def amount_text(value: Any, field: str = "amount") -> str:
    """Decimal (or int, or decimal text) as plain decimal text; floats are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValidationError(f"{field}: use decimal.Decimal for money, not {type(value).__name__}", field)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError(f"{field}: amount must be a finite number (got {value})", field)
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    raise ValidationError(f"{field}: expected a Decimal, got {type(value).__name__}", field)


def optional_amount(value: Any, field: str) -> Optional[str]:
    return None if value is None else amount_text(value, field)


def date_text(value: Any, field: str) -> Optional[str]:
    """A ``datetime.date`` (or ``YYYY-MM-DD`` text) as the vendor's date text."""
    if value is None:
        return None
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return str(value.isoformat())[:10]
    if isinstance(value, str):
        return value
    raise ValidationError(f"{field}: expected a date or YYYY-MM-DD text", field)


def text(value: Any, field: str) -> Optional[str]:
    """An optional text parameter; numbers are accepted as their decimal text."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError(f"{field}: expected text, got bool", field)
    if isinstance(value, (str, int)):
        return str(value)
    raise ValidationError(f"{field}: expected text, got {type(value).__name__}", field)
