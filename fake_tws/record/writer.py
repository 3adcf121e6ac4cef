"""A recorded conversation as a scenario file that, replayed, gives the same conversation.

    text, summary = render(connections, WriterOptions(name="aapl-order", upstream="..."))

What goes where:

- The world: managed accounts, server version, next order id and the OK farm notices a
  client gets at connect (what the server's own bootstrap sends), from the first
  connection; a real clock; no message pacing (the recording already paced itself).
- One rule per client request (startApi aside): `when: {request: <apiName>, where:
  {<identifying fields>}}` with `nth: k` for the k-th request matching the same fields,
  `do:` the messages the server sent for it, in order, with `delay`s as recorded
  (gaps under `min_delay` are run together, never losing more than `min_delay` in
  total). The rule replaces the server's own reply (it starts with `respond`), so the
  replay world's answers never leak in. Messages whose encoding our codec reproduces
  exactly are written typed (`respond: [{error: {...}}]`), the rest as `raw` frames.
- Which request a message belongs to: its request id (reqId, orderId, tickerId; an
  execution's or order's order id), else the request that asks for that kind of
  message (reqPositions -> position...), else it is unsolicited.
- Unsolicited messages (farm notices, status of orders placed elsewhere, a server
  hanging up): rules `when: {after: <rule>, delay: <gap>}` after the rule that finished
  last before them, on the same connection; before any rule, the `connected` rule.
- Ids: a message's request id is written `$reqId` (or `$orderId`, `$tickerId`: the
  triggering request's own field), its client id `$clientId`; a placeOrder rule that
  fires on its first match captures its order id and order ref (`$order7`, `$ref7`),
  so later messages about that order (executions, open orders) follow the replay
  client's ids too.
- Sanitised (see sanitize.py): account ids, perm ids, exec ids, order refs.

Several connections: each rule names its client id (`client:`), and nth counts across
connections in time order.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
import yaml

from fake_tws import __version__
from fake_tws.protocol import versions as V
from fake_tws.protocol.codec import response_fields
from fake_tws.protocol.messages import Request, Response
from fake_tws.protocol.responses.connection import Error
from fake_tws.scenario.durations import format_duration
from fake_tws.scenario.ib_codes import farm_kind, farm_status
from fake_tws.scenario.matchers import same_value

from .capture import ClientFrame, Closed, ConnectionCapture, ServerFrame
from .layouts import Layout, api_name, layout_of, to_typed
from .sanitize import SECRET_REQUESTS, TRUSTED_HEAD, Sanitizer

# Request fields that carry the request's id (the replay client's may differ).
ID_FIELDS = ("reqId", "orderId", "tickerId", "requestId")
# Request fields whose value changes from run to run (clock times).
VOLATILE_FIELDS = frozenset(
    {"endDateTime", "startDateTime", "manualOrderCancelTime", "manualOrderTime"}
)
CONTRACT_KEYS = (
    "conId",
    "symbol",
    "secType",
    "lastTradeDateOrContractMonth",
    "strike",
    "right",
    "exchange",
    "currency",
)
ORDER_KEYS = ("action", "orderType", "totalQuantity", "lmtPrice", "auxPrice", "tif")
MAX_WHERE_TEXT = 120
ORDER_REQUESTS = frozenset({"placeOrder", "cancelOrder", "exerciseOptions"})
# Messages without a request id, and the requests that ask for them. One-shot: each
# request gets one answer (the earliest unanswered request takes it).
ONE_SHOT = {
    "currentTime": "reqCurrentTime",
    "nextValidId": "reqIds",
    "managedAccounts": "reqManagedAccts",
    "scannerParameters": "reqScannerParameters",
    "receiveFA": "requestFA",
    "familyCodes": "reqFamilyCodes",
    "mktDepthExchanges": "reqMktDepthExchanges",
    "newsProviders": "reqNewsProviders",
    "marketRule": "reqMarketRule",
    "verifyMessageAPI": "verifyRequest",
    "verifyCompleted": "verifyMessage",
    "verifyAndAuthMessageAPI": "verifyAndAuthRequest",
    "verifyAndAuthCompleted": "verifyAndAuthMessage",
}
STREAMED = {
    "position": ("reqPositions",),
    "positionEnd": ("reqPositions",),
    "updateAccountValue": ("reqAccountUpdates",),
    "updatePortfolio": ("reqAccountUpdates",),
    "updateAccountTime": ("reqAccountUpdates",),
    "accountDownloadEnd": ("reqAccountUpdates",),
    "completedOrder": ("reqCompletedOrders",),
    "completedOrdersEnd": ("reqCompletedOrders",),
    "updateNewsBulletin": ("reqNewsBulletins",),
}
OPEN_ORDER_REQUESTS = ("reqOpenOrders", "reqAllOpenOrders")
ORDER_MESSAGES = frozenset({"openOrder", "orderStatus"})
# Where a message names a request, an order, a client.
REQUEST_ID_PATHS = ("reqId", "tickerId", "requestId")
ORDER_ID_PATHS = ("orderId", "order.orderId", "execution.orderId")
CLIENT_ID_PATHS = ("clientId", "order.clientId", "execution.clientId", "apiClientId")
REF_PATHS = ("order.orderRef", "execution.orderRef")


@dataclass
class WriterOptions:
    name: str = "recording"
    upstream: str = ""
    min_delay: float = 0.01  # seconds; shorter gaps between messages are run together
    recorded_at: datetime | None = None


@dataclass
class Summary:
    connections: int = 0
    requests: int = 0
    messages: int = 0
    rules: int = 0
    typed: int = 0
    raw: int = 0
    unsolicited: int = 0
    sanitised: str = ""
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.rules} rules from {self.connections} connection(s), {self.requests} "
            f"request(s), {self.messages} message(s) ({self.typed} typed, {self.raw} raw, "
            f"{self.unsolicited} unsolicited); sanitised {self.sanitised}"
        )


# -- the model the writer builds ---------------------------------------------------------------


@dataclass
class Msg:
    """One server message (or the server hanging up) placed in a rule."""

    time: float
    clean: list[str]  # sanitised
    name: str
    message: Response | None = None  # its typed form, when our codec reproduces it exactly
    hangup: bool = False
    bindings: dict[int, str] = field(default_factory=dict)  # position -> "$name"

    @property
    def fields(self) -> list[str]:
        """The fields as written: bindings at their positions."""
        return [self.bindings.get(i, f) for i, f in enumerate(self.clean)]

    def bind(self, position: int, name: str) -> None:
        self.bindings[position] = f"${name}"


@dataclass
class Draft:
    id: str
    kind: str  # request, connected, after
    time: float  # when it fires, in its connection's time
    conn: ConnectionCapture
    request: Request | None = None
    where: dict[str, Any] = field(default_factory=dict)
    full: dict[str, Any] = field(default_factory=dict)  # every candidate field's value
    client: int | None = None
    nth: int | None = None
    after: str | None = None
    delay: float = 0.0
    messages: list[Msg] = field(default_factory=list)
    id_field: str | None = None  # the request's id field (reqId, orderId, tickerId)
    id_value: int | None = None
    captures: dict[str, str] = field(default_factory=dict)  # binding -> request path
    comment: str = ""

    @property
    def end(self) -> float:
        return max([self.time, *(m.time for m in self.messages)])


def render(connections: list[ConnectionCapture], options: WriterOptions) -> tuple[str, Summary]:
    """The scenario text of a recording, and what it holds."""
    return _Writer(connections, options).run()


class _Writer:
    def __init__(self, connections: list[ConnectionCapture], options: WriterOptions) -> None:
        self.options = options
        self.all = connections
        self.connections = [c for c in connections if c.started and c.supported]
        self.summary = Summary(connections=len(self.connections))
        self.sanitizer = Sanitizer()
        self.drafts: list[Draft] = []
        self.multi = len(self.connections) > 1
        self.seq = 0
        self.order_bindings: dict[str, str] = {}  # sanitised order id text -> binding
        self.ref_bindings: dict[str, str] = {}  # sanitised order ref -> binding
        self.world: dict[str, Any] = {}
        self.world_comments: list[str] = []
        self.farms: list[tuple[int, str]] = []

    # -- the whole ----------------------------------------------------------------------------

    def run(self) -> tuple[str, Summary]:
        for conn in self.all:
            if not conn.started:
                continue
            if not conn.supported:
                self.summary.notes.append(
                    f"connection {conn.index} skipped: "
                    + "; ".join(conn.problems or ["not decodable"])
                )
        self._learn()
        for conn in self.connections:
            self._connection(conn)
        self.drafts.sort(key=lambda d: (d.conn.index, d.time))
        self._number()
        self.summary.rules = len(self.drafts)
        self.summary.sanitised = self.sanitizer.summary()
        return self._text(), self.summary

    def _learn(self) -> None:
        for conn in self.connections:
            for item in conn.items:
                if isinstance(item, ClientFrame) and item.request is not None:
                    self.sanitizer.learn_request(item.request)
                elif isinstance(item, ServerFrame):
                    self.sanitizer.learn_message(item.fields, conn.version or 0)

    # -- one connection ------------------------------------------------------------------------

    def _connection(self, conn: ConnectionCapture) -> None:
        version = conn.version or 0
        items = conn.items
        start = next(
            i
            for i, item in enumerate(items)
            if isinstance(item, ClientFrame) and item.api_name == "startApi"
        )
        started_at = items[start].time
        burst, rest = self._burst(items, start)
        leftovers = self._bootstrap(conn, burst)
        kept = {id(m) for m in leftovers}
        connected = Draft(
            id=f"c{conn.index}-connected",
            kind="connected",
            # It fires once the server's own bootstrap is sent: after what the world sends.
            time=max([started_at, *(m.time for m in burst if id(m) not in kept)]),
            conn=conn,
            client=conn.client_id if self.multi else None,
            comment=f"client {conn.client_id}: what followed the bootstrap",
        )
        for frame in leftovers:
            connected.messages.append(self._msg(conn, frame, None))
        requests: list[Draft] = []
        timeline: list[tuple[ServerFrame | Closed, Draft | None]] = []
        owners = _Owners(conn)
        for item in rest:
            if isinstance(item, ClientFrame):
                if item.request is None:
                    self.summary.notes.append(
                        f"connection {conn.index}: a request (message id {item.msg_id}) "
                        f"could not be decoded ({item.problem}); it has no rule"
                    )
                    continue
                if item.request.api_name == "startApi":
                    continue
                draft = self._request_draft(conn, item)
                requests.append(draft)
                owners.add(draft)
                self.summary.requests += 1
            elif isinstance(item, ServerFrame):
                self.summary.messages += 1
                timeline.append((item, owners.owner(item.fields, version)))
            elif item.by == "server":
                timeline.append((item, None))
        # Each request's messages, then the unsolicited ones after what finished before.
        for item, owner in timeline:
            if owner is not None and isinstance(item, ServerFrame):
                owner.messages.append(self._msg(conn, item, owner))
        self.drafts += [connected] if connected.messages else []
        self.drafts += requests
        self._unsolicited(conn, connected, requests, timeline)
        self.summary.messages += len(burst)

    def _burst(self, items: list[Any], start: int) -> tuple[list[ServerFrame], list[Any]]:
        """The bootstrap burst after startApi (managedAccounts, nextValidId, notices with
        reqId -1, up to the first other server message), and the rest of the
        conversation (requests sent during the burst included)."""
        burst: list[ServerFrame] = []
        rest: list[Any] = []
        in_burst = True
        for item in items[start + 1 :]:
            if in_burst and isinstance(item, ServerFrame):
                name = api_name(item.fields)
                notice = name == "error" and len(item.fields) > 2 and item.fields[2] == "-1"
                if name in ("managedAccounts", "nextValidId") or notice:
                    burst.append(item)
                    continue
                in_burst = False
            elif isinstance(item, Closed):
                in_burst = False
            rest.append(item)
        return burst, rest

    def _bootstrap(self, conn: ConnectionCapture, burst: list[ServerFrame]) -> list[ServerFrame]:
        """Take what the replay server's own bootstrap sends out of the burst (into the
        world, from the first connection); return the rest."""
        version = conn.version or 0
        first = not self.world
        leftovers: list[ServerFrame] = []
        seen: set[str] = set()
        wire_order: list[str] = []
        farms_left = list(self.farms)
        for frame in burst:
            name = api_name(frame.fields)
            if name in ("managedAccounts", "nextValidId") and name not in seen:
                seen.add(name)
                wire_order.append(name)
                if first and name == "managedAccounts":
                    self._accounts(self.sanitizer.fields(frame.fields, version))
                elif first:
                    self.world["next_order_id"] = _int(frame.fields[2], 1)
                continue
            farm = _ok_farm(frame.fields, version)
            if first and farm is not None:
                self.farms.append(farm)
                wire_order.append(f"error {farm[0]}")
                continue
            if not first and farm is not None and farms_left and farms_left[0] == farm:
                farms_left.pop(0)
                continue
            leftovers.append(frame)
        if first:
            self.world["server_version"] = conn.version
            expected = ["managedAccounts", "nextValidId", *(f"error {c}" for c, _ in self.farms)]
            if wire_order != expected:
                self.world_comments.append(
                    "On the wire the bootstrap came as: " + ", ".join(wire_order) + "; "
                    "a replay sends managedAccounts, nextValidId, then the farm notices."
                )
        return leftovers

    def _accounts(self, fields: list[str]) -> None:
        listed = fields[2] if len(fields) > 2 else ""
        accounts = [a for a in listed.split(",") if a]
        self.world["accounts"] = list(dict.fromkeys(accounts))
        if ",".join(accounts) != listed:
            self.world_comments.append(
                f"managedAccounts came as {listed!r}; a replay sends {','.join(accounts)!r}."
            )

    # -- requests ------------------------------------------------------------------------------

    def _request_draft(self, conn: ConnectionCapture, frame: ClientFrame) -> Draft:
        request = frame.request
        assert request is not None
        self.seq += 1
        name = request.api_name
        draft = Draft(
            id=f"r{self.seq:03d}-{name}",
            kind="request",
            time=frame.time,
            conn=conn,
            request=request,
            client=conn.client_id if self.multi else None,
        )
        draft.where, draft.full = self._where(request)
        for id_field in ID_FIELDS:
            value = getattr(request, id_field, None)
            if isinstance(value, int) and not isinstance(value, bool):
                draft.id_field, draft.id_value = id_field, value
                break
        what = " ".join(str(v) for k, v in draft.where.items() if "." in k)
        draft.comment = f"client {conn.client_id} at +{frame.time:.3f}s: {name} {what}".rstrip()
        return draft

    def _where(self, request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
        """(where, every candidate field): the identifying fields that differ from their
        defaults (ids, clock times and long texts left out), and all the candidates' values
        (for counting which earlier requests a rule's `where` also matches)."""
        if request.api_name in SECRET_REQUESTS:
            return {}, {}
        candidates: dict[str, tuple[Any, Any]] = {}  # path -> (value, default)
        defaults = _defaults(type(request))
        for f in msgspec.structs.fields(request):
            value = getattr(request, f.name)
            if f.name in ID_FIELDS or f.name in VOLATILE_FIELDS:
                continue
            if f.name in ("contract", "order") and isinstance(value, msgspec.Struct):
                keys = CONTRACT_KEYS if f.name == "contract" else ORDER_KEYS
                inner = _defaults(type(value))
                for key in keys:
                    if hasattr(value, key):
                        candidates[f"{f.name}.{key}"] = (getattr(value, key), inner.get(key, _NO))
            elif not isinstance(value, msgspec.Struct | tuple | list | dict):
                candidates[f.name] = (value, defaults.get(f.name, _NO))
        where: dict[str, Any] = {}
        full: dict[str, Any] = {}
        for key, (value, default) in candidates.items():
            value = _plain(self.sanitizer.value(value))
            full[key] = value
            if value is None or (isinstance(value, str) and len(value) > MAX_WHERE_TEXT):
                continue
            if isinstance(value, float) and not math.isfinite(value):
                continue
            if default is not _NO and same_value(value, _plain(default)):
                continue
            where[key] = value
        return where, full

    # -- unsolicited ----------------------------------------------------------------------------

    def _unsolicited(
        self,
        conn: ConnectionCapture,
        connected: Draft,
        requests: list[Draft],
        timeline: list[tuple[ServerFrame | Closed, Draft | None]],
    ) -> None:
        rules: list[Draft] = [*requests]
        if connected.messages:
            rules.append(connected)
        group: Draft | None = None
        for item, owner in timeline:
            if owner is not None:
                group = None
                continue
            self.summary.unsolicited += isinstance(item, ServerFrame)
            msg = (
                self._msg(conn, item, None)
                if isinstance(item, ServerFrame)
                else Msg(item.time, [], "disconnect", hangup=True)
            )
            if group is not None and not _request_between(requests, group.end, item.time):
                group.messages.append(msg)
                continue
            done = [r for r in rules if r.end <= item.time and r.time <= item.time]
            if not done:  # nothing has finished yet: the connected rule sends it
                if not any(d is connected for d in self.drafts):
                    self.drafts.append(connected)
                    rules.append(connected)
                connected.messages.append(msg)
                connected.messages.sort(key=lambda m: m.time)
                group = connected
                continue
            parent = max(done, key=lambda r: (r.end, r.time))
            self.seq += 1
            group = Draft(
                id=f"n{self.seq:03d}-{msg.name.replace(' ', '-')}",
                kind="after",
                time=item.time,
                conn=conn,
                after=parent.id,
                delay=item.time - parent.end,
                messages=[msg],
                comment=f"client {conn.client_id} at +{item.time:.3f}s: unsolicited",
            )
            self.drafts.append(group)
            rules.append(group)

    # -- messages --------------------------------------------------------------------------------

    def _msg(self, conn: ConnectionCapture, frame: ServerFrame, owner: Draft | None) -> Msg:
        version = conn.version or 0
        clean = self.sanitizer.fields(frame.fields, version)
        msg = Msg(frame.time, clean, api_name(clean), message=to_typed(clean, version))
        lay = layout_of(clean, version)
        if lay is not None:
            self._bind(conn, lay, msg, owner)
        if frame.undecodable:
            self.summary.notes.append(
                f"connection {conn.index}: a {msg.name} was not valid UTF-8 (kept with "
                "replacement characters)"
            )
        return msg

    def _bind(self, conn: ConnectionCapture, lay: Layout, msg: Msg, owner: Draft | None) -> None:
        """The message's own request id and client id written as bindings, so a replay
        follows the replay client's ids."""
        fields = msg.clean
        if owner is not None and owner.id_value is not None:
            # An order's id where messages put order ids (and an error's id); a request's
            # id where they put request ids: a reqExecutions with reqId 1 and an order with
            # id 1 must not be confused.
            if _is_order(owner):
                paths: tuple[str, ...] = ORDER_ID_PATHS
                paths += ("reqId",) if lay.cls is Error else ()
            else:
                paths = REQUEST_ID_PATHS
            for path in paths:
                i = _position(lay, fields, path)
                if i is not None and fields[i] == str(owner.id_value):
                    msg.bind(i, owner.id_field or "reqId")
        for path in CLIENT_ID_PATHS:
            i = _position(lay, fields, path)
            if i is not None and fields[i] == str(conn.client_id):
                msg.bind(i, "clientId")

    # -- numbering: nth, captures ------------------------------------------------------------------

    def _number(self) -> None:
        """nth for each rule: 1 + the earlier triggers its `where` also matches (the way
        the engine counts matches)."""
        earlier: dict[tuple[str, int | None], list[Draft]] = {}
        for draft in self.drafts:
            if draft.kind == "request":
                assert draft.request is not None
                key = (draft.request.api_name, draft.client)
            elif draft.kind == "connected":
                key = ("<connected>", draft.client)
            else:
                continue
            before = earlier.setdefault(key, [])
            matched = sum(1 for e in before if _matches(draft.where, e.full))
            draft.nth = matched + 1 if matched else None
            before.append(draft)
        # placeOrder rules capture their order id and ref, unless they have nth (a capture
        # in such a rule would bind on an earlier request, which it lets pass).
        for draft in self.drafts:
            request = draft.request
            if draft.kind != "request" or request is None or request.api_name != "placeOrder":
                continue
            if draft.nth is not None:
                self.summary.notes.append(
                    f"{draft.id}: its order id and ref are written as recorded (a rule "
                    "with nth cannot capture them)"
                )
                continue
            n = draft.id[1:4].lstrip("0")
            draft.captures = {f"order{n}": "orderId"}
            self.order_bindings.setdefault(str(request.orderId), f"order{n}")  # type: ignore[attr-defined]
            ref = self.sanitizer.value(request.order.orderRef)  # type: ignore[attr-defined]
            if ref:
                draft.captures[f"ref{n}"] = "order.orderRef"
                self.ref_bindings.setdefault(ref, f"ref{n}")
        if self.order_bindings or self.ref_bindings:
            self._rebind()

    def _rebind(self) -> None:
        """Order ids and refs of captured orders, in messages after the capture."""
        fired: dict[str, float] = {}
        for draft in self.drafts:
            for binding in draft.captures:
                fired[binding] = draft.time
        for draft in self.drafts:
            version = draft.conn.version or 0
            for msg in draft.messages:
                lay = None if msg.hangup else layout_of(msg.clean, version)
                if lay is None:
                    continue
                paths = (*ORDER_ID_PATHS, *(("reqId",) if lay.cls is Error else ()), *REF_PATHS)
                for path in paths:
                    i = _position(lay, msg.clean, path)
                    if i is None or i in msg.bindings:
                        continue
                    known = self.ref_bindings if path in REF_PATHS else self.order_bindings
                    binding = known.get(msg.clean[i])
                    if binding is not None and fired.get(binding, math.inf) <= msg.time:
                        msg.bind(i, binding)

    # -- text ----------------------------------------------------------------------------------------

    def _text(self) -> str:
        o = self.options
        rules = ["rules:"] if self.drafts else ["rules: []"]
        for draft in self.drafts:  # first: rendering counts typed/raw and adds notes
            rules += self._rule_lines(draft)
        when = (o.recorded_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = [
            f"# Recorded by fake-tws {__version__} `record` from {o.upstream or '?'} at {when}.",
            f"# {self.summary}.",
            "# Replay: fake-tws replay THIS_FILE (or serve --scenario THIS_FILE).",
        ]
        lines += [f"# Note: {n}" for n in self.summary.notes]
        description = (
            f"Recorded from {o.upstream or '?'} at {when}: {self.summary.connections} "
            f"connection(s), {self.summary.requests} request(s), {self.summary.messages} "
            "message(s)."
        )
        lines += [f"name: {_scalar(o.name)}", f"description: {_scalar(description)}", ""]
        lines += self._world_lines()
        lines += ["", *rules]
        return "\n".join(lines) + "\n"

    def _world_lines(self) -> list[str]:
        lines = [f"# {c}" for c in self.world_comments]
        lines += ["world:", "  clock: realtime"]
        accounts = self.world.get("accounts") or []
        if accounts:
            lines.append("  accounts:")
            lines += [f"    - {{id: {_scalar(a)}}}" for a in accounts]
        version = self.world.get("server_version")
        if version is not None:
            clamped = min(max(version, V.MIN_SUPPORTED), V.MAX_SUPPORTED)
            lines.append(f"  server_version: {{min: {clamped}, max: {clamped}}}")
        if "next_order_id" in self.world:
            lines.append(f"  next_order_id: {max(1, self.world['next_order_id'])}")
        farms = [text.rsplit(":", 1)[-1] for _, text in self.farms]
        lines.append(f"  farms: {_flow(farms)}")
        lines.append("  pacing: {max_messages_per_second: 0}")
        return lines

    def _rule_lines(self, draft: Draft) -> list[str]:
        lines = ["", *([f"  # {draft.comment}"] if draft.comment else []), f"  - id: {draft.id}"]
        if draft.nth is not None:
            lines.append(f"    nth: {draft.nth}")
        when: dict[str, Any] = {}
        if draft.kind == "request":
            assert draft.request is not None
            when["request"] = draft.request.api_name
            where = dict(draft.where)
            for binding, path in draft.captures.items():
                where[path] = f"${binding}"
            if where:
                when["where"] = where
        elif draft.kind == "connected":
            when["event"] = "connected"
        else:
            when["after"] = draft.after
            if draft.delay >= self.options.min_delay:
                when["delay"] = format_duration_exact(draft.delay)
        if draft.client is not None and draft.kind != "after":
            when["client"] = draft.client
        lines.append(f"    when: {_flow(when)}")
        lines.append("    do:")
        lines += [f"      - {step}" for step in self._steps(draft)]
        return lines

    def _check_literals(self, draft: Draft, msg: Msg) -> None:
        """A recorded text starting with "$" reads as a binding in a scenario (which has no
        escape for it): the replay would skip the message. Say so."""
        value = _dollar_literal(msg)
        if value is not None:
            self.summary.notes.append(
                f"{draft.id}: a {msg.name} message has a field starting with $ "
                f"({value[:20]!r}); a replay takes it for a binding and skips the message"
            )

    def _steps(self, draft: Draft) -> list[str]:
        steps: list[str] = []
        typed_run: list[dict[str, Any]] = []
        verb = "respond" if draft.kind == "request" else "send"
        version = draft.conn.version or 0

        def flush() -> None:
            if len(typed_run) == 1:
                steps.append(f"{verb}: [{_flow(typed_run[0])}]")
            elif typed_run:  # one message a line
                steps.append(f"{verb}:" + "".join(f"\n{' ' * 10}- {_flow(m)}" for m in typed_run))
            typed_run.clear()

        scheduled = draft.time if draft.kind != "after" else draft.messages[0].time
        for msg in draft.messages:
            gap = msg.time - scheduled
            if gap >= self.options.min_delay:
                flush()
                steps.append(f"delay: {format_duration_exact(gap)}")
                scheduled = msg.time
            if msg.hangup:
                flush()
                steps.append("disconnect: {mode: close}")
            elif (spec := _typed_spec(msg, version)) is not None:
                typed_run.append(spec)
                self.summary.typed += 1
                self._check_literals(draft, msg)
            else:
                flush()
                steps.append(f"raw: {_flow([_raw_field(f) for f in msg.fields])}  # {msg.name}")
                self._check_literals(draft, msg)
                self.summary.raw += 1
        flush()
        if draft.kind == "request" and not (steps and steps[0].startswith("respond:")):
            steps.insert(0, "respond: []  # the recorded messages replace the replay world's reply")
        if not steps:
            steps.append("delay: 0ms")
        return steps


class _Owners:
    """Which earlier request of a connection a server message answers."""

    def __init__(self, conn: ConnectionCapture) -> None:
        self.conn = conn
        self.requests: list[Draft] = []
        self.answered: set[int] = set()  # one-shot requests that got their answer
        self.open_lists: list[Draft] = []  # reqOpenOrders still before its openOrderEnd
        self.exec_owner: dict[str, Draft] = {}  # exec id -> owner of its execDetails

    def add(self, draft: Draft) -> None:
        self.requests.append(draft)
        if draft.request is not None and draft.request.api_name in OPEN_ORDER_REQUESTS:
            self.open_lists.append(draft)

    def owner(self, fields: list[str], version: int) -> Draft | None:
        name = api_name(fields)
        lay = layout_of(fields, version)
        if name in ONE_SHOT:
            return self._one_shot(ONE_SHOT[name])
        if name in STREAMED:
            return self._latest(STREAMED[name])
        if name == "openOrderEnd":
            return self.open_lists.pop(0) if self.open_lists else self._latest(OPEN_ORDER_REQUESTS)
        if lay is None:
            return None
        if name in ORDER_MESSAGES:
            if self.open_lists:
                return self.open_lists[0]
            return self._by_id(_value(lay, fields, "orderId", "order.orderId"), orders=True)
        if name == "execDetails":
            req_id = _value(lay, fields, "reqId")
            if req_id not in (None, "-1"):
                owner = self._by_id(req_id, orders=False)
            else:
                owner = self._by_id(_value(lay, fields, "execution.orderId"), orders=True)
            exec_id = _value(lay, fields, "execution.execId")
            if owner is not None and exec_id:
                self.exec_owner[exec_id] = owner
            return owner
        if name == "commissionReport":
            return self.exec_owner.get(_value(lay, fields, "commissionReport.execId") or "")
        if name == "error":
            req_id = _value(lay, fields, "reqId")
            if req_id in (None, "-1"):
                return None
            return self._by_id(req_id, orders=None)  # about an order or a request
        for path in (*REQUEST_ID_PATHS, "orderId"):
            value = _value(lay, fields, path)
            if value is not None:
                return self._by_id(value, orders=False) or self._by_id(value, orders=True)
        return None

    def _one_shot(self, request_name: str) -> Draft | None:
        waiting = [
            d
            for d in self.requests
            if d.request is not None
            and d.request.api_name == request_name
            and id(d) not in self.answered
        ]
        if waiting:
            self.answered.add(id(waiting[0]))
            return waiting[0]
        return self._latest((request_name,))

    def _latest(self, names: tuple[str, ...]) -> Draft | None:
        for draft in reversed(self.requests):
            if draft.request is not None and draft.request.api_name in names:
                return draft
        return None

    def _by_id(self, value: str | None, *, orders: bool | None) -> Draft | None:
        """The latest request with this id: an order request (orders=True), another one
        (False), or either (None)."""
        if value is None:
            return None
        for draft in reversed(self.requests):
            if draft.id_value is None or str(draft.id_value) != value:
                continue
            if orders is None or _is_order(draft) == orders:
                return draft
        return None


# -- helpers ------------------------------------------------------------------------------------------


def _is_order(draft: Draft) -> bool:
    return draft.request is not None and draft.request.api_name in ORDER_REQUESTS


def _position(lay: Layout, fields: list[str], path: str) -> int | None:
    """Where `path` is in `fields`, if that can be trusted (see sanitize.TRUSTED_HEAD)."""
    i = lay.position(path)
    if i is None or i >= len(fields):
        return None
    if len(fields) != lay.length and i >= TRUSTED_HEAD:
        return None
    return i


def _value(lay: Layout, fields: list[str], *paths: str) -> str | None:
    for path in paths:
        i = _position(lay, fields, path)
        if i is not None:
            return fields[i]
    return None


_NO = object()  # no default: the field is required


def _defaults(cls: type) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in msgspec.structs.fields(cls):
        if f.default is not msgspec.NODEFAULT:
            out[f.name] = f.default
        elif f.default_factory is not msgspec.NODEFAULT:
            out[f.name] = f.default_factory()
    return out


def _matches(where: dict[str, Any], values: dict[str, Any]) -> bool:
    return all(k in values and same_value(values[k], v) for k, v in where.items())


def _request_between(requests: list[Draft], start: float, end: float) -> bool:
    return any(start < r.time <= end for r in requests)


def _ok_farm(fields: list[str], version: int) -> tuple[int, str] | None:
    """(code, text) when `fields` is exactly the OK notice the server's bootstrap sends for
    a farm (reqId -1)."""
    if api_name(fields) != "error" or len(fields) < 5 or fields[2] != "-1":
        return None
    text = fields[4]
    if ":" not in text:
        return None
    farm = text.rsplit(":", 1)[1]
    try:
        code, expected = farm_status(farm_kind(farm), "ok", farm)
    except KeyError:
        return None
    if (str(code), expected) != (fields[3], text):
        return None
    message = Error(reqId=-1, errorCode=code, errorString=text)
    return (code, text) if response_fields(message, version) == fields else None


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def _typed_spec(msg: Msg, version: int) -> dict[str, Any] | None:
    """{apiName: {field: value}}: the fields that differ from their defaults, bindings
    where the message has them."""
    message = msg.message
    lay = layout_of(msg.clean, version) if message is not None else None
    if message is None or lay is None or _dollar_literal(msg) is not None:
        return None
    defaults = {f.name: f.default for f in msgspec.structs.fields(message) if not f.required}
    values: dict[str, Any] = {}
    for name in lay.scalars:
        i = lay.positions[name]
        if i in msg.bindings:
            values[name] = msg.bindings[i]
            continue
        value = getattr(message, name)
        if name in defaults and _same(defaults[name], value):
            continue
        values[name] = _plain(value, exact=True)
    return {message.api_name: values}


def _dollar_literal(msg: Msg) -> str | None:
    """A recorded field that a scenario would read as a `$binding`, if any."""
    for i, value in enumerate(msg.clean):
        if i not in msg.bindings and len(value) > 1 and value.startswith("$"):
            return value
    return None


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _plain(value: Any, exact: bool = False) -> Any:
    """A value as YAML can carry it: Decimal -> int, or float (where) / text (exact)."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return f"{value:f}" if exact else float(value)
    return value


# -- YAML text --------------------------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$.\-]*$")
_NOT_PRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")
_INT = re.compile(r"^-?(0|[1-9][0-9]{0,17})$")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    text = str(value)
    if _PLAIN.match(text) and _loads(text) == text:
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return _NOT_PRINTABLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", quoted)


def _loads(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        text = f"{mantissa}e{exponent if exponent.startswith(('-', '+')) else '+' + exponent}"
    return text


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def _key(key: str) -> str:
    return key if _PLAIN.match(key) and _loads(key) == key else json.dumps(key)


def _raw_field(text: str) -> Any:
    if _INT.match(text):
        return int(text)
    return text


def format_duration_exact(seconds: float) -> str:
    """A duration in whole milliseconds (at least 1ms), as scenarios write them."""
    ms = max(1, round(seconds * 1000))
    return format_duration(timedelta(milliseconds=ms))
