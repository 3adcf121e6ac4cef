"""What a test can do to a running server, shared by the pytest handle and the HTTP API.

Each action is a plain function of the `Server` (or its clock). Those that touch sessions
must run in the server's trio thread: the control server already runs there, and the
pytest handle calls them through the thread's trio token. The clock actions are
thread-safe and may run anywhere.

Every action leaves a note in the journal ("· fault: error 1100 (from the test)"), so a
transcript shows what the test did next to what the clients did.

World actions (move a price, fire a rule) join this module when the broker world and
the scenario engine are wired into the gateway.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from fake_tws.clock import Clock, VirtualClock
from fake_tws.journal import Entry, format_message
from fake_tws.scenario.ib_codes import default_text, farm_kind, farm_status
from fake_tws.session import NO_REQUEST_ID

if TYPE_CHECKING:
    from fake_tws.server import Server
    from fake_tws.session import Session

# The statuses after which IB sends nothing more for an order.
TERMINAL_STATUSES = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})
SERVER_CLIENT = -1  # the journal's client id for notes about the whole server


class ActionError(ValueError):
    """An action that cannot be done as asked; `status` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class UnknownClient(ActionError, LookupError):
    status = 404


class ClockNotVirtual(ActionError):
    status = 409


# -- clients -------------------------------------------------------------------------------


def live_sessions(server: Server) -> list[Session]:
    """Sessions past startApi and not closed, by client id."""
    sessions = [s for s in server.sessions if s.started and not s.closed]
    return sorted(sessions, key=lambda s: s.client_id or 0)


def clients(server: Server) -> list[dict[str, Any]]:
    """Every open connection, including those still in the handshake (clientId null)."""
    out = [
        {
            "clientId": s.client_id if s.started else None,
            "peer": s.peer,
            "version": s.version or None,
            "started": s.started,
        }
        for s in server.sessions
        if not s.closed
    ]
    return sorted(out, key=lambda c: (c["clientId"] is None, c["clientId"] or 0, c["peer"]))


def _targets(server: Server, client_id: int | None) -> list[Session]:
    sessions = live_sessions(server)
    if client_id is None:
        return sessions
    chosen = [s for s in sessions if s.client_id == client_id]
    if not chosen:
        connected = ", ".join(str(s.client_id) for s in sessions) or "none"
        raise UnknownClient(f"no client with id {client_id} is connected (connected: {connected})")
    return chosen


# -- faults --------------------------------------------------------------------------------


def send_error(
    server: Server,
    code: int,
    text: str | None = None,
    *,
    req_id: int = NO_REQUEST_ID,
    client_id: int | None = None,
    source: str = "the test",
) -> list[int]:
    """Send error/notice `code` to one client, or to every connected client.

    Without `text`, IB's own text for the code is sent. Returns the client ids reached."""
    if text is None:
        text = default_text(code)
    sessions = _targets(server, client_id)
    for session in sessions:
        server.gateway.journal.record_event(
            session.journal_id, f"fault: error {code} (from {source})"
        )
        session.error(req_id, code, text)
    return [s.journal_id for s in sessions]


def send_farm_status(
    server: Server,
    farm: str,
    state: str,
    *,
    client_id: int | None = None,
    source: str = "the test",
) -> list[int]:
    """The notice IB sends when a data farm's connection changes, e.g. ("usfarm", "broken")
    is 2103 "Market data farm connection is broken:usfarm"."""
    try:
        code, text = farm_status(farm_kind(farm), state, farm)
    except KeyError:
        raise ActionError(
            f'no "{state}" notice for farm {farm!r} (states: ok, broken, inactive; '
            "sec-def farms have no inactive notice)"
        ) from None
    return send_error(server, code, text, client_id=client_id, source=source)


def disconnect(server: Server, client_id: int, *, source: str = "the test") -> None:
    """Close a client's connection from the server side (after what is queued is sent)."""
    for session in _targets(server, client_id):
        server.gateway.journal.record_event(
            session.journal_id, f"fault: disconnect (from {source})"
        )
        session.close(f"disconnected by {source}")


# -- the clock -----------------------------------------------------------------------------


def virtual_clock(clock: Clock) -> VirtualClock:
    if not isinstance(clock, VirtualClock):
        raise ClockNotVirtual(
            "the server runs on the real clock, which cannot be moved; "
            "start it with a virtual clock (--clock virtual, or the fixture's default)"
        )
    return clock


def advance_clock(server: Server, seconds: float) -> datetime:
    """Move virtual time on by `seconds`; returns the new time."""
    clock = virtual_clock(server.gateway.clock)
    if not seconds >= 0:  # also refuses NaN
        raise ActionError(f"cannot advance the clock by {seconds} seconds: time only moves on")
    clock.advance(seconds)
    now = clock.now()
    server.gateway.journal.record_event(
        SERVER_CLIENT, f"clock advanced {seconds:g}s to {iso_time(now)}"
    )
    return now


def set_clock(server: Server, when: datetime) -> datetime:
    """Jump virtual time to `when` (aware, not earlier than now); returns it."""
    clock = virtual_clock(server.gateway.clock)
    if when.tzinfo is None:
        raise ActionError(f"{when.isoformat()} has no time zone; give one, e.g. ...Z or +00:00")
    try:
        clock.set(when)
    except ValueError as exc:
        raise ActionError(str(exc), 409) from None
    now = clock.now()
    server.gateway.journal.record_event(SERVER_CLIENT, f"clock set to {iso_time(now)}")
    return now


def clock_kind(clock: Clock) -> str:
    return "virtual" if isinstance(clock, VirtualClock) else "real"


# -- reading ---------------------------------------------------------------------------------


def status(server: Server) -> dict[str, Any]:
    """What a running server is: where it listens, who is connected, what time it is."""
    from fake_tws import __version__

    gateway = server.gateway
    config = server.config
    journal = gateway.journal.entries
    return {
        "fake_tws": __version__,
        "host": config.host,
        "port": server.port,
        "server_versions": {"min": config.min_version, "max": config.max_version},
        "accounts": list(config.accounts),
        "clock": {"kind": clock_kind(gateway.clock), "time": iso_time(gateway.clock.now())},
        "clients": clients(server),
        "journal": {"entries": len(journal), "last_seq": journal[-1].seq if journal else 0},
        "world": getattr(gateway, "world", None) is not None,
    }


def entry_json(entry: Entry) -> dict[str, Any]:
    """A journal entry as JSON-ready data; `message` holds the message's fields."""
    return {
        "seq": entry.seq,
        "clientId": entry.client_id,
        "direction": entry.direction.value,
        "name": entry.name,
        "time": iso_time(entry.virtual_time) if entry.virtual_time is not None else None,
        "wallTime": entry.wall_time,
        "text": format_message(entry.message),
        "message": msgspec.to_builtins(entry.message),
    }


def iso_time(when: datetime) -> str:
    """ISO 8601 in UTC with a Z: 2026-01-05T14:30:00Z."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")
