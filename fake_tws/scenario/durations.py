"""Durations ("500ms", "30s", "2m", "1h30m") and points in virtual time ("+30s", ISO).

Scenario files write time the way people say it; these types turn the text into
`timedelta` / `datetime` once, at load time, so the engine never parses strings.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = r"(\d+(?:\.\d+)?)(ms|s|m|h)"
DURATION_PATTERN = rf"^(?:{_PART})+$"
_PART_RE = re.compile(_PART)
_DURATION_RE = re.compile(DURATION_PATTERN)
DURATION_HINT = 'a duration like "500ms", "30s", "2m" or "1h30m"'
TIME_POINT_HINT = 'an offset from the start like "+30s" or an ISO date-time with a UTC offset'
TIME_POINT_PATTERN = r"^(\+(?:\d+(?:\.\d+)?(?:ms|s|m|h))+|\d{4}-\d\d-\d\dT.+)$"


class Duration(timedelta):
    """A non-negative timedelta written in scenario notation."""

    @classmethod
    def parse(cls, text: object) -> Duration:
        if not isinstance(text, str) or not _DURATION_RE.match(text.strip()):
            raise ValueError(f"expected {DURATION_HINT}")
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART_RE.findall(text))
        return cls(seconds=seconds)

    def __repr__(self) -> str:
        return f"Duration({format_duration(self)!r})"


def format_duration(delta: timedelta) -> str:
    ms = round(delta.total_seconds() * 1000)
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


class TimePoint:
    """A moment in virtual time: an offset from the world's start, or an absolute time."""

    __slots__ = ("absolute", "offset")

    def __init__(self, *, offset: Duration | None = None, absolute: datetime | None = None):
        if (offset is None) == (absolute is None):
            raise ValueError("a time point is either an offset or an absolute time")
        self.offset = offset
        self.absolute = absolute

    @classmethod
    def parse(cls, text: object) -> TimePoint:
        if isinstance(text, str) and text.startswith("+"):
            try:
                return cls(offset=Duration.parse(text[1:]))
            except ValueError:
                raise ValueError(f"expected {TIME_POINT_HINT}") from None
        if isinstance(text, str):
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"expected {TIME_POINT_HINT}") from None
            if moment.tzinfo is None:
                raise ValueError(
                    "expected a date-time with a UTC offset (add Z or +00:00) "
                    "so the moment is unambiguous"
                )
            return cls(absolute=moment)
        raise ValueError(f"expected {TIME_POINT_HINT}")

    def resolve(self, start: datetime) -> datetime:
        """The absolute moment, given the world's start time."""
        return self.absolute if self.absolute is not None else start + self.offset

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TimePoint):
            return NotImplemented
        return (self.offset, self.absolute) == (other.offset, other.absolute)

    def __hash__(self) -> int:
        return hash((self.offset, self.absolute))

    def __repr__(self) -> str:
        if self.offset is not None:
            return f"TimePoint('+{format_duration(self.offset)}')"
        return f"TimePoint({self.absolute.isoformat()!r})"
