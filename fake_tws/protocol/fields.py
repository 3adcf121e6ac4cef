"""Reading and writing the text fields of one message.

Reading follows how TWS reads a client's fields: an empty int or float is 0, and the
`*_max` readers map an empty field (or the client's "unset" sentinel) to None.
Every reader names the field it reads, so a bad message says exactly what was wrong.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from .errors import BadField, TrailingFields

# Sentinels clients send for "unset" (Java's Integer/Long/Double max values).
_UNSET_INTS = frozenset({"2147483647", "9223372036854775807"})
_UNSET_FLOATS = frozenset(
    {"1.7976931348623157E308", "1.7976931348623157e+308", "1.7976931348623157e308"}
)
INFINITY_TEXT = "Infinity"


class FieldReader:
    """Sequential typed access to a message's fields (field 0 is the message id)."""

    __slots__ = ("_fields", "_i", "message")

    def __init__(self, fields: list[str] | list[bytes], message: str, start: int = 1) -> None:
        self._fields = fields
        self._i = start
        self.message = message

    def _next(self, name: str) -> str:
        i = self._i
        try:
            raw = self._fields[i]
        except IndexError:
            raise BadField(self.message, name, i, "missing: the message ended early") from None
        self._i = i + 1
        if raw.__class__ is str:  # the codec decodes a valid UTF-8 payload in one go
            return raw
        try:
            return raw.decode()
        except UnicodeDecodeError as exc:
            raise BadField(self.message, name, i, f"not valid UTF-8 ({exc.reason})") from None

    def _fail(self, name: str, text: str, expected: str) -> BadField:
        return BadField(self.message, name, self._i - 1, f"expected {expected}, got {text!r}")

    str = _next  # a text field as it came

    def int(self, name: str) -> int:
        text = self._next(name)
        if not text:
            return 0
        try:
            return int(text)
        except ValueError:
            raise self._fail(name, text, "an integer") from None

    def int_max(self, name: str) -> int | None:
        """An optional integer: empty or the unset sentinel reads as None."""
        text = self._next(name)
        if not text or text in _UNSET_INTS:
            return None
        try:
            return int(text)
        except ValueError:
            raise self._fail(name, text, "an integer or empty") from None

    def bool(self, name: str) -> bool:
        text = self._next(name)
        if not text:
            return False
        if text in ("true", "false"):  # a few old request layouts spell booleans out
            return text == "true"
        try:
            return int(text) != 0
        except ValueError:
            raise self._fail(name, text, "0 or 1") from None

    def float(self, name: str) -> float:
        text = self._next(name)
        if not text:
            return 0.0
        return self._parse_float(name, text)

    def float_max(self, name: str) -> float | None:
        """An optional double: empty or the unset sentinel reads as None."""
        text = self._next(name)
        if not text or text in _UNSET_FLOATS:
            return None
        return self._parse_float(name, text)

    def _parse_float(self, name: str, text: str) -> float:
        if text == INFINITY_TEXT:
            return math.inf
        try:
            value = float(text)
        except ValueError:
            raise self._fail(name, text, "a number") from None
        if math.isnan(value):
            raise self._fail(name, text, "a number")
        return value

    def decimal(self, name: str) -> Decimal | None:
        """A quantity: empty or an unset sentinel reads as None."""
        text = self._next(name)
        if not text or text in _UNSET_INTS or text in _UNSET_FLOATS:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise self._fail(name, text, "a decimal number") from None
        if not value.is_finite():
            raise self._fail(name, text, "a finite decimal number")
        return value

    def invalid(self, name: str, problem: str) -> BadField:
        """A BadField for the field just read, for checks only the caller can make
        (an unknown condition type, a malformed tag=value list)."""
        return BadField(self.message, name, self._i - 1, problem)

    def skip(self, name: str) -> None:
        """Read and ignore a field that TWS ignores (e.g. a message version)."""
        self._next(name)

    @property
    def remaining(self) -> int:
        return len(self._fields) - self._i

    def finish(self) -> None:
        """Assert the whole message was consumed."""
        if self._i < len(self._fields):
            raise TrailingFields(self.message, len(self._fields) - self._i)


def _format_float(value: float) -> str:
    if value == math.inf:
        return INFINITY_TEXT
    if value == -math.inf:
        return "-" + INFINITY_TEXT
    return repr(value)


class FieldWriter:
    """Accumulates a message's fields as text; `payload()` gives the NUL-terminated bytes."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[str] = []

    def str(self, value: str | None) -> FieldWriter:
        self._parts.append(value or "")
        return self

    def int(self, value: int) -> FieldWriter:
        # int() turns a bool into 0/1; a plain int skips the conversion.
        self._parts.append(str(value) if value.__class__ is int else str(int(value)))
        return self

    def int_max(self, value: int | None) -> FieldWriter:
        self._parts.append("" if value is None else str(int(value)))
        return self

    def bool(self, value: bool) -> FieldWriter:
        self._parts.append("1" if value else "0")
        return self

    def float(self, value: float) -> FieldWriter:
        self._parts.append(_format_float(value))
        return self

    def float_max(self, value: float | None) -> FieldWriter:
        self._parts.append("" if value is None else _format_float(value))
        return self

    def decimal(self, value: Decimal | None) -> FieldWriter:
        self._parts.append("" if value is None else f"{value:f}")
        return self

    def fields(self) -> list[str]:
        return self._parts

    def payload(self) -> bytes:
        return ("\0".join(self._parts) + "\0").encode()
