"""Typed results: frozen dataclasses whose fields are the vendor's field names in snake_case,
read tolerantly (numbers as strings, nulls, extra fields), with ``.raw`` holding the decoded
vendor JSON. Money is always :class:`~decimal.Decimal`."""

from __future__ import annotations

import dataclasses
import typing
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, ClassVar, Dict, Optional, Tuple, Type, TypeVar

R = TypeVar("R", bound="Record")


def vendor(key: str) -> Any:
    """Declares the vendor's name for a field whose snake_case is not derived mechanically."""
    return dataclasses.field(default=None, metadata={"vendor": key})


def reply_field() -> Any:
    """Declares a field that comes from the reply (headers), not from the vendor's object."""
    return dataclasses.field(default=None, compare=False, repr=False, metadata={"reply": True})


def _to_int(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, (float, Decimal)):
        return int(value) if value == int(value) else None
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _to_decimal(value: Any) -> Optional[Decimal]:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, str)):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    if isinstance(value, float):
        return Decimal(repr(value))
    return None


def _money(places: int) -> Callable[[Any], Optional[Decimal]]:
    exponent = Decimal(1).scaleb(-places)

    def convert(value: Any) -> Optional[Decimal]:
        amount = _to_decimal(value)
        if amount is None:
            return None
        exact = amount.quantize(exponent)
        # "0.1" from the vendor is 0.100 KWD; more places than the currency has are kept as sent.
        return exact if exact == amount else amount

    return convert


def _to_str(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    return None


def _to_bool(value: Any) -> Optional[bool]:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal)):
        return bool(value)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return None


def _to_dict(value: Any) -> Optional[Dict[str, Any]]:
    return value if isinstance(value, dict) else None


_CONVERTERS: Dict[Any, Callable[[Any], Any]] = {
    int: _to_int,
    Decimal: _to_decimal,
    str: _to_str,
    bool: _to_bool,
    dict: _to_dict,
    Dict[str, Any]: _to_dict,
}


class Record:
    """Base of every typed result."""

    raw: Dict[str, Any]
    #: Decimals of the vendor's currency: money fields are given exactly that many places.
    _money_places: ClassVar[Optional[int]] = None
    @staticmethod
    def _vendor_key(name: str) -> str:
        """The vendor's key for a field without a ``vendor(...)`` declaration."""
        return name
    _spec: ClassVar[Tuple[Tuple[str, Tuple[str, ...], Callable[[Any], Any], Any], ...]]

    @classmethod
    def _field_spec(cls) -> Tuple[Tuple[str, Tuple[str, ...], Callable[[Any], Any], Any], ...]:
        spec: Optional[Tuple[Tuple[str, Tuple[str, ...], Callable[[Any], Any], Any], ...]] = cls.__dict__.get("_spec_cache")
        if spec is None:
            hints = typing.get_type_hints(cls)
            built = []
            for f in dataclasses.fields(cls):  # type: ignore[arg-type]
                if f.name == "raw" or f.metadata.get("reply"):
                    continue
                kind = hints[f.name]
                if typing.get_origin(kind) is typing.Union:
                    kind = next(a for a in typing.get_args(kind) if a is not type(None))
                keys = f.metadata.get("vendor") or cls._vendor_key(f.name)
                keys = (keys,) if isinstance(keys, str) else tuple(keys)
                default = "" if hints[f.name] is str else None
                convert = _CONVERTERS[kind]
                if kind is Decimal and cls._money_places is not None:
                    convert = _money(cls._money_places)
                built.append((f.name, keys, convert, default))
            spec = tuple(built)
            setattr(cls, "_spec_cache", spec)
        return spec

    @classmethod
    def from_raw(cls: Type[R], raw: Any, **reply: Any) -> R:
        """Builds the record from the vendor's JSON object (anything else gives empty fields);
        ``reply`` fills the fields declared with :func:`reply_field` (e.g. rate limits)."""
        data = raw if isinstance(raw, dict) else {}
        values: Dict[str, Any] = {"raw": data, **reply}
        for name, keys, convert, default in cls._field_spec():
            value = None
            for key in keys:
                if key in data:
                    value = convert(data[key])
                    break
            values[name] = default if value is None else value
        if hasattr(cls, "__post_init__"):
            return cls(**values)
        # Every field is given, so this is what the frozen dataclass's __init__ would do,
        # without its object.__setattr__ per field.
        record = object.__new__(cls)
        record.__dict__.update(values)
        return record

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if f.name != "raw" and f.repr and getattr(self, f.name) not in (None, "")
        )
        return f"{type(self).__name__}({shown})"
