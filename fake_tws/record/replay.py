"""Serving a recorded scenario, with progress: each rule that fires (n of total), each
request the recording has no rule for (the replay world answers it itself), and at each
disconnect what has not fired yet.

`fake-tws replay FILE` is `fake-tws serve --scenario FILE` plus this progress; the
scenario engine does the replaying.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fake_tws.journal import Entry
from fake_tws.protocol.messages import Request
from fake_tws.scenario.engine import ScenarioEngine
from fake_tws.session import Gateway, Session

log = logging.getLogger("fake_tws.replay")


class ReplayProgress:
    """Reports a replay's progress through `say` (default: the "fake_tws.replay" log)."""

    def __init__(self, engine: ScenarioEngine, say: Callable[[str], None] | None = None) -> None:
        self.engine = engine
        self.total = len(engine.scenario.rules)
        self.say = say or log.info
        self.reported = 0
        self.unrecorded: list[str] = []
        self._fired_before = 0
        self._done_once = False

    def attach(self, gateway: Gateway) -> ReplayProgress:
        gateway.journal.listen(self._on_entry)
        # Around the engine's own hook: did a rule fire for this request?
        gateway.request_hooks.insert(0, self._before_request)
        gateway.request_hooks.append(self._after_request)
        gateway.session_listeners.append(self._on_session)
        return self

    @property
    def fired_ids(self) -> list[str]:
        return [rule_id for rule_id, _ in self.engine.fired]

    def not_fired(self) -> list[str]:
        fired = set(self.fired_ids)
        return [r.id for r in self.engine.scenario.rules if r.id not in fired]

    def _on_entry(self, entry: Entry) -> None:
        fired = self.engine.fired
        while self.reported < len(fired):
            rule_id, _ = fired[self.reported]
            self.reported += 1
            distinct = len(set(self.fired_ids[: self.reported]))
            self.say(f"rule {rule_id} fired ({distinct}/{self.total})")
            if distinct == self.total and not self._done_once:
                self._done_once = True
                self.say(f"all {self.total} recorded rules have fired")

    def _before_request(self, session: Session, request: Request) -> None:
        self._fired_before = len(self.engine.fired)

    def _after_request(self, session: Session, request: Request) -> None:
        if request.api_name == "startApi":
            return
        if len(self.engine.fired) == self._fired_before:
            self.unrecorded.append(request.api_name)
            self.say(
                f"client {session.client_id}: {request.api_name} matches no recorded rule "
                "(the replay world answers it)"
            )

    def _on_session(self, what: str, session: Session) -> None:
        if what != "disconnected":
            return
        missing = self.not_fired()
        done = self.total - len(missing)
        text = f"client {session.client_id} disconnected; {done}/{self.total} rules fired"
        if missing:
            shown = ", ".join(missing[:8]) + (", ..." if len(missing) > 8 else "")
            text += f"; not fired: {shown}"
        self.say(text)
