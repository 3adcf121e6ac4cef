"""Every message of every client, in order, with assertions that read like the domain.

The server records each request it receives and each response it sends; a test then
asks what happened:

    journal.assert_received("placeOrder", orderType="LMT", **{"contract.symbol": "AAPL"})
    journal.assert_sent("orderStatus", status="Filled")
    journal.assert_in_order(received("placeOrder"), sent("orderStatus", status="Filled"))

Field names are IB's; dotted paths reach into nested structs, and a bare name stands for
the nearest nested field of that name (`orderType` is `order.orderType` in placeOrder).
A value matches by equality (quantities compare as numbers), or give a callable or a
compiled regex. A failed assertion shows the conversation, one line per message.

Recording is thread-safe: the server may run in a background thread while a test reads.

A journal keeps everything unless given a `limit` (`ServerConfig.journal_limit`, for long
runs such as benchmarks or `serve`): it then forgets its oldest entries, a tenth of the
limit at a time, so it never holds more than `limit`. Sequence numbers go on; `dropped`
says how many were forgotten.
"""

from __future__ import annotations

import enum
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import msgspec

from fake_tws.protocol.table import REQUESTS_BY_NAME, RESPONSES_BY_NAME
from fake_tws.scenario.matchers import same_value
from fake_tws.scenario.paths import FieldPathError, field_value, resolve_path, suggestion


class Direction(enum.Enum):
    RECEIVED = "received"  # client -> server
    SENT = "sent"  # server -> client
    EVENT = "event"  # something that happened to the connection


_ARROWS = {Direction.RECEIVED: "→", Direction.SENT: "←", Direction.EVENT: "·"}


class RawMessage(msgspec.Struct, frozen=True):
    """Text fields sent as one frame outside the typed table (a scenario's `raw`)."""

    api_name: ClassVar[str] = "raw"
    fields: tuple[str, ...]


class Note(msgspec.Struct, frozen=True):
    """A connection happening worth seeing in a transcript: connected, disconnected..."""

    api_name: ClassVar[str] = "note"
    text: str


@dataclass(frozen=True, slots=True)  # one per message: no __dict__ to build or collect
class Entry:
    seq: int
    client_id: int
    direction: Direction
    message: msgspec.Struct
    virtual_time: datetime | None
    wall_time: float

    @property
    def name(self) -> str:
        return type(self.message).api_name


# The notices every Gateway sends on its own (farm connections OK / inactive / connecting).
INFORMATIONAL_CODES = frozenset({2104, 2106, 2107, 2108, 2119, 2158})

_PSEUDO = {"raw": RawMessage, "note": Note}


def _known_type(direction: Direction, name: str) -> type | None:
    if name in _PSEUDO:
        return _PSEUDO[name]
    table = REQUESTS_BY_NAME if direction is Direction.RECEIVED else RESPONSES_BY_NAME
    if name not in table:
        other = "request" if direction is Direction.RECEIVED else "response"
        raise ValueError(f"unknown {other} name {name!r}{suggestion(name, table)}")
    return table[name]


@dataclass(frozen=True)
class Expect:
    """A description of messages: direction, api name, field values, optionally a client."""

    direction: Direction
    name: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    client_id: int | None = None
    _paths: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Resolve field names now, so a typo fails loudly instead of never matching.
        cls = _known_type(self.direction, self.name)
        for key in self.fields:
            try:
                self._paths[key] = resolve_path(cls, key)[0]
            except FieldPathError as e:
                raise ValueError(str(e)) from None

    def matches(self, entry: Entry) -> bool:
        if entry.direction is not self.direction or entry.name != self.name:
            return False
        if self.client_id is not None and entry.client_id != self.client_id:
            return False
        return not self.mismatches(entry)

    def mismatches(self, entry: Entry) -> list[str]:
        """Why an entry of the right name does not match: 'status is "Submitted"'."""
        out = []
        for key, wanted in self.fields.items():
            actual = field_value(entry.message, self._paths[key])
            if not _value_matches(wanted, actual):
                out.append(f"{key} is {_show(actual)}")
        return out

    def __str__(self) -> str:
        args = ", ".join(f"{k}={_describe_wanted(v)}" for k, v in self.fields.items())
        client = f" from/to client {self.client_id}" if self.client_id is not None else ""
        return f"{self.direction.value} {self.name}({args}){client}"


def received(name: str, *, client_id: int | None = None, **fields: Any) -> Expect:
    """Messages the server received from a client (requests)."""
    return Expect(Direction.RECEIVED, name, fields, client_id)


def sent(name: str, *, client_id: int | None = None, **fields: Any) -> Expect:
    """Messages the server sent to a client (responses)."""
    return Expect(Direction.SENT, name, fields, client_id)


def _value_matches(wanted: Any, actual: Any) -> bool:
    if isinstance(wanted, re.Pattern):
        return isinstance(actual, str) and wanted.fullmatch(actual) is not None
    if callable(wanted):
        return bool(wanted(actual))
    return same_value(actual, wanted)


def _describe_wanted(value: Any) -> str:
    if isinstance(value, re.Pattern):
        return f"/{value.pattern}/"
    if callable(value):
        return getattr(value, "__name__", "<predicate>")
    return _show(value)


# --- rendering ---------------------------------------------------------------------------

_TOKEN = re.compile(r"^[\w.:/+@-]+$")
_MAX_VALUE = 80


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value if _TOKEN.match(value) else msgspec.json.encode(value).decode()
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Decimal | int | float):
        return str(value)
    if isinstance(value, msgspec.Struct):
        return "{" + " ".join(_fields(value)) + "}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, enum.Enum):
        return str(value.value)
    return repr(value)


def _fields(message: msgspec.Struct) -> list[str]:
    out = []
    for f in msgspec.structs.fields(message):
        value = getattr(message, f.name)
        if f.default is not msgspec.NODEFAULT:
            default = f.default
        elif f.default_factory is not msgspec.NODEFAULT:
            default = f.default_factory()
        else:
            default = msgspec.NODEFAULT  # required: always shown
        if value == default and type(value) is type(default):
            continue
        shown = _show(value)
        if len(shown) > _MAX_VALUE:
            shown = shown[: _MAX_VALUE - 1] + "…"
        out.append(f"{f.name}={shown}")
    return out


def format_message(message: msgspec.Struct) -> str:
    """`placeOrder orderId=1 contract={symbol=AAPL secType=STK} order={...}`."""
    if isinstance(message, Note):
        return message.text
    if isinstance(message, RawMessage):
        return "raw " + _show(message.fields)
    return " ".join([type(message).api_name, *_fields(message)])


# --- the journal -------------------------------------------------------------------------


class Journal:
    """An append-only record of a fake-tws server's conversations."""

    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        *,
        transcript_limit: int = 200,
        limit: int | None = None,
    ) -> None:
        """`clock` gives the virtual time of each record; `transcript_limit` caps how many
        (most recent) lines an assertion failure shows; `limit` caps how many entries are
        kept (None: all)."""
        if limit is not None and limit < 1:
            raise ValueError(f"a journal limit must be at least 1, not {limit}")
        self._clock = clock
        # Entries, or (seq, client_id, message, virtual_time, wall_time) for a message sent
        # through `log_sent`, made an Entry when first read: a journal that is never read
        # (a benchmark, `serve`) then holds no object per message for the garbage
        # collector to go through again and again. Those before `_built` are Entries.
        self._entries: list[Entry | tuple] = []
        self._built = 0
        self._last_seq = 0
        self.limit = limit
        self.dropped = 0  # entries forgotten because of `limit`
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._waiters = 0  # threads in wait_for: only they need a notify
        self._started = time.time()
        self._listeners: list[Callable[[Entry], None]] = []
        self.transcript_limit = transcript_limit

    # recording (called by the server)

    def record(
        self,
        client_id: int,
        direction: Direction,
        message: msgspec.Struct,
        *,
        virtual_time: datetime | None = None,
    ) -> Entry:
        if virtual_time is None and self._clock is not None:
            virtual_time = self._clock()
        with self._lock:  # (the condition's lock, taken directly: this runs per message)
            self._last_seq = seq = self._last_seq + 1
            # (seq, client_id, direction, message, virtual_time, wall_time)
            entry = Entry(seq, client_id, direction, message, virtual_time, time.time())
            self._append(entry)
        for listener in self._listeners:
            listener(entry)
        return entry

    def log_sent(self, client_id: int, message: msgspec.Struct) -> None:
        """`record_sent` without the entry: what a session calls for every message."""
        if self._listeners:  # they want the entry now
            self.record(client_id, Direction.SENT, message)
            return
        virtual_time = self._clock() if self._clock is not None else None
        with self._lock:
            self._last_seq = seq = self._last_seq + 1
            self._append((seq, client_id, message, virtual_time, time.time()))

    def _append(self, item: Entry | tuple) -> None:
        """Add one record (holding the lock)."""
        entries = self._entries
        entries.append(item)
        if item.__class__ is Entry and self._built == len(entries) - 1:
            self._built += 1
        if self.limit is not None and len(entries) > self.limit:
            # Forget in blocks: one deletion per limit/10 records keeps this O(1)
            # amortized.
            forget = len(entries) - self.limit + self.limit // 10
            del entries[:forget]
            self.dropped += forget
            self._built = max(0, self._built - forget)
        if self._waiters:
            self._changed.notify_all()

    def _build(self) -> list[Entry]:
        """Every entry kept, each an Entry from now on (holding the lock)."""
        entries = self._entries
        for i in range(self._built, len(entries)):
            item = entries[i]
            if item.__class__ is not Entry:
                seq, client_id, message, virtual_time, wall_time = item
                entries[i] = Entry(seq, client_id, Direction.SENT, message, virtual_time, wall_time)
        self._built = len(entries)
        return entries  # type: ignore[return-value]

    def listen(self, listener: Callable[[Entry], None]) -> Callable[[], None]:
        """Call `listener(entry)` after each record, in the recording thread (the server's);
        returns a function that stops it. A listener must be quick (logging, say)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def record_received(self, client_id: int, message: msgspec.Struct) -> Entry:
        return self.record(client_id, Direction.RECEIVED, message)

    def record_sent(self, client_id: int, message: msgspec.Struct) -> Entry:
        return self.record(client_id, Direction.SENT, message)

    def record_event(self, client_id: int, text: str) -> Entry:
        return self.record(client_id, Direction.EVENT, Note(text))

    def clear(self) -> None:
        """Forget everything recorded so far (sequence numbers continue)."""
        with self._changed:
            self._entries = []
            self._built = 0

    # reading

    @property
    def entries(self) -> list[Entry]:
        with self._changed:
            return list(self._build())

    def __len__(self) -> int:
        with self._changed:
            return len(self._entries)

    def find(self, expect: Expect) -> list[Entry]:
        return [e for e in self.entries if expect.matches(e)]

    def requests(self, name: str, *, client_id: int | None = None, **fields: Any) -> list:
        """The requests of that name (with those field values) received, oldest first."""
        return [e.message for e in self.find(received(name, client_id=client_id, **fields))]

    def responses(self, name: str, *, client_id: int | None = None, **fields: Any) -> list:
        """The responses of that name (with those field values) sent, oldest first."""
        return [e.message for e in self.find(sent(name, client_id=client_id, **fields))]

    # assertions

    def assert_received(
        self, name: str, *, times: int | None = None, client_id: int | None = None, **fields: Any
    ) -> list:
        """At least one (or exactly `times`) such request was received; returns them."""
        return self._assert_count(received(name, client_id=client_id, **fields), times)

    def assert_sent(
        self, name: str, *, times: int | None = None, client_id: int | None = None, **fields: Any
    ) -> list:
        """At least one (or exactly `times`) such response was sent; returns them."""
        return self._assert_count(sent(name, client_id=client_id, **fields), times)

    def _assert_count(self, expect: Expect, times: int | None) -> list:
        entries = self.entries
        found = [e for e in entries if expect.matches(e)]
        if (times is None and found) or len(found) == times:
            return [e.message for e in found]
        wanted = "at least once" if times is None else _times(times)
        lines = [f"expected {expect} {wanted}, found {_times(len(found))}"]
        if times is not None and found:
            lines.append("matching: " + ", ".join(f"#{e.seq}" for e in found))
        lines += self._near_misses(expect, entries)
        raise AssertionError(self._with_transcript(lines, entries))

    def assert_in_order(self, *expected: Expect) -> list[Entry]:
        """Each description matches a message later than the previous one's match
        (other messages may come between). Returns the matched entries."""
        entries = self.entries
        matched: list[Entry] = []
        position = 0
        for step, expect in enumerate(expected, 1):
            hit = next((e for e in entries[position:] if expect.matches(e)), None)
            if hit is None:
                after = f" after #{matched[-1].seq}" if matched else ""
                lines = [f"step {step} of {len(expected)} not found{after}: {expect}"]
                lines += [f"  step {i} matched #{e.seq}" for i, e in enumerate(matched, 1)]
                earlier = [e for e in entries[:position] if expect.matches(e)]
                if earlier:
                    seqs = ", ".join(f"#{e.seq}" for e in earlier)
                    lines.append(f"  (it did happen earlier, out of order: {seqs})")
                raise AssertionError(self._with_transcript(lines, entries))
            matched.append(hit)
            position = entries.index(hit) + 1
        return matched

    def assert_order_statuses(
        self, order_id: int, *statuses: str, client_id: int | None = None
    ) -> None:
        """The orderStatus messages for `order_id` went through exactly these statuses
        (repeats of the same status in a row count once, as IB often repeats them)."""
        entries = self.entries
        expect = sent("orderStatus", client_id=client_id, orderId=order_id)
        seen: list[str] = []
        for e in entries:
            if expect.matches(e) and (not seen or seen[-1] != e.message.status):
                seen.append(e.message.status)
        if seen != list(statuses):
            lines = [
                f"order {order_id}: expected statuses {' -> '.join(statuses) or '(none)'}, "
                f"got {' -> '.join(seen) or '(none)'}"
            ]
            raise AssertionError(self._with_transcript(lines, entries))

    def assert_nothing_unexpected(self, allowed: Iterable[str | Expect]) -> None:
        """Every request received is one of `allowed` (names or `received(...)`
        descriptions). startApi, part of every connection, is always allowed."""
        rules = [received(a) if isinstance(a, str) else a for a in allowed]
        entries = self.entries
        unexpected = [
            e
            for e in entries
            if e.direction is Direction.RECEIVED
            and e.name != "startApi"
            and not any(r.matches(e) for r in rules)
        ]
        if unexpected:
            lines = [f"{len(unexpected)} unexpected request(s):"]
            lines += [f"  {self._line(e)}" for e in unexpected]
            raise AssertionError(self._with_transcript(lines, entries))

    def assert_no_errors(self, ignore: Iterable[int] = INFORMATIONAL_CODES) -> None:
        """No error message was sent, other than the codes in `ignore`
        (by default the farm notices every Gateway sends)."""
        ignored = set(ignore)
        entries = self.entries
        errors = [
            e
            for e in entries
            if e.direction is Direction.SENT
            and e.name == "error"
            and e.message.errorCode not in ignored
        ]
        if errors:
            lines = [f"{len(errors)} error(s) sent:"] + [f"  {self._line(e)}" for e in errors]
            raise AssertionError(self._with_transcript(lines, entries))

    def wait_for(self, expect: Expect, timeout: float = 5.0) -> Entry:
        """Block until a matching message is recorded (or already was); returns it.

        For tests driving a server in a background thread."""
        deadline = time.monotonic() + timeout
        checked = 0  # the seq of the last entry looked at
        with self._changed:
            while True:
                # Entries kept have consecutive seqs ending at _last_seq (a limit or
                # `clear` only ever removes the oldest), so the unseen ones are the tail.
                unseen = self._last_seq - checked
                built = self._build()
                for entry in built[max(0, len(built) - unseen) :]:
                    if expect.matches(entry):
                        return entry
                checked = self._last_seq
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    entries = list(self._build())
                    break
                self._waiters += 1
                try:
                    self._changed.wait(remaining)
                finally:
                    self._waiters -= 1
        lines = [f"waited {timeout}s for {expect}, it did not come"]
        raise AssertionError(self._with_transcript(lines, entries))

    # transcripts

    def transcript(self, entries: list[Entry] | None = None, limit: int | None = None) -> str:
        """The conversation, one line per message: seq, time, client, arrow, message.
        → is client to server, ← server to client, · a connection happening."""
        entries = self.entries if entries is None else entries
        limit = self.transcript_limit if limit is None else limit
        lines = []
        if limit and len(entries) > limit:
            lines.append(f"… {len(entries) - limit} earlier message(s) not shown")
            entries = entries[-limit:]
        lines += [self._line(e) for e in entries]
        return "\n".join(lines)

    def _line(self, e: Entry) -> str:
        if e.virtual_time is not None:
            when = e.virtual_time.strftime("%H:%M:%S.%f")[:-3]
        else:
            when = f"+{e.wall_time - self._started:.3f}s"
        return (
            f"#{e.seq:<4} {when} c{e.client_id} {_ARROWS[e.direction]} {format_message(e.message)}"
        )

    def _near_misses(self, expect: Expect, entries: list[Entry]) -> list[str]:
        same_name = [
            e for e in entries if e.direction is expect.direction and e.name == expect.name
        ]
        lines = []
        for e in same_name[-5:]:
            why = expect.mismatches(e)
            if expect.client_id is not None and e.client_id != expect.client_id:
                why.insert(0, f"client is {e.client_id}")
            if why:
                lines.append(f"  #{e.seq} {e.name}: {', '.join(why)}")
        return ["near misses:", *lines] if lines else []

    def _with_transcript(self, lines: list[str], entries: list[Entry]) -> str:
        body = self.transcript(entries) or "(no messages)"
        return "\n".join([*lines, "", f"transcript ({len(entries)} messages):", body])


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"
