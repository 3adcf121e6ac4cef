"""Where the world gets "now" from, and the conversions it uses at its edges.

The world accepts either a zero-argument callable returning an aware datetime or any
object with a `now()` method (a clock). Internally times are epoch seconds (float);
at the API they are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime: ...


TimeSource = Clock | Callable[[], datetime]


def raw_now(source: TimeSource) -> Callable[[], datetime]:
    """The clock's own now(), or the callable: what `now_function` wraps."""
    raw = source.now if isinstance(source, Clock) else source
    if not callable(raw):
        raise TypeError(f"expected a clock with now() or a callable, got {source!r}")
    return raw


def now_function(source: TimeSource) -> Callable[[], datetime]:
    """Turn a clock or a callable into a callable returning an aware UTC datetime."""
    raw = raw_now(source)

    def now() -> datetime:
        return as_utc(raw())

    return now


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: the world only takes aware times")
    return moment.astimezone(UTC)


def to_epoch(moment: datetime) -> float:
    return as_utc(moment).timestamp()


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
