"""NautilusTrader's TradingNode (their IB clients) with handle_revised_bars=True, then the
server drops the connection: their client must come back by itself, resubscribe, and
trade again.

As in test_node.py, the node runs once (module fixture) through a script in phases and
each test checks one phase. Their client notices a lost connection within a second and
waits five more before reconnecting (InteractiveBrokersClient._handle_disconnection), so
this module takes about eight seconds of wall time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fake_tws.broker import AccountConfig, Bar, WorldConfig
from fake_tws.broker.orders import FillPlan, FillSlice
from fake_tws.handlers.historical import UPDATE_SECONDS
from tests.conformance.nautilus.support import (
    ACCOUNT,
    Gateway,
    NautilusProcess,
    Phases,
    stock,
    wait_until,
)

AAPL_ID = 265598
AAPL = "AAPL.NASDAQ"
MINUTE_BARS = f"{AAPL}-1-MINUTE-LAST-EXTERNAL"
CLIENT_ID = 1
WORLD = WorldConfig(seed=5, accounts=(AccountConfig(account_id=ACCOUNT),), around_the_clock=True)
RECONNECT_TIMEOUT = 20.0  # their client: <= 1 s to notice, 5 s pause, then connect


def forming(gw: Gateway, at: float) -> Bar:
    """The world's AAPL minute bar forming at `at` (epoch seconds)."""
    bar = gw.call(gw.world.market.current_bar, AAPL_ID, at, "1 min", "TRADES", False)
    assert bar is not None, f"no AAPL bar forming at {at}"
    return bar


def move_to(gw: Gateway, at: float) -> None:
    """Advance the server's clock to `at`; each call wakes the bar stream once, as it
    moves at least UPDATE_SECONDS."""
    seconds = at - gw.now().timestamp()
    assert seconds >= UPDATE_SECONDS, (at, gw.now())
    gw.advance(seconds)


def same_bar(event: dict[str, Any], bar: Bar) -> bool:
    return (
        event["ts_event"] == int(bar.start.timestamp()) * 10**9
        and (event["open"], event["high"], event["low"], event["close"])
        == (bar.open, bar.high, bar.low, bar.close)
        and Decimal(event["volume"]) == bar.volume
    )


def bar_like(bar: Bar, revision: bool | None = None) -> Any:
    def match(event: dict[str, Any]) -> bool:
        return same_bar(event, bar) and (revision is None or event["is_revision"] == revision)

    return match


@dataclass
class Session:
    gw: Gateway
    phases: Phases


def script(gw: Gateway, nt: NautilusProcess, phases: Phases) -> None:
    with phases.phase("connect") as facts:
        facts["running"] = nt.expect("running", timeout=20)
        wait_until(lambda: gw.subscribed(CLIENT_ID, quotes=1, bars=1), 10, "subscriptions")
        nt.barrier()

    with phases.phase("revised") as facts:
        # A minute whose first trade leaves room for two more updates within it, chosen
        # from the world's prints so that every update below has a bar to send.
        start = math.ceil(gw.now().timestamp() / 60) * 60 + 60
        for _ in range(30):
            first = gw.first_trade(AAPL_ID, start)
            if first % 60 <= 40:
                break
            start = first // 60 * 60 + 60
        else:
            raise AssertionError("no minute in thirty opens with a trade in its first 40 s")
        minute = first // 60 * 60
        times = [first + 1, first + 1 + UPDATE_SECONDS, first + 1 + 2 * UPDATE_SECONDS]
        for name, at in zip(("opened", "revised", "revised_again"), times, strict=True):
            mark = nt.mark()
            move_to(gw, at)
            bar = forming(gw, at)
            facts[name] = (bar, nt.expect("bar", bar_like(bar), after=mark))
        # Into the next minute: the finished one's last revision, then the new one.
        at = gw.first_trade(AAPL_ID, minute + 60) + 1
        mark = nt.mark()
        move_to(gw, max(at, gw.now().timestamp() + UPDATE_SECONDS))
        [final] = gw.call(
            gw.world.market.bars, AAPL_ID, minute + 60, "60 S", "1 min", "TRADES", False
        )
        new = forming(gw, gw.now().timestamp())
        facts["final"] = (final, nt.expect("bar", bar_like(final), after=mark))
        facts["next"] = (new, nt.expect("bar", bar_like(new), after=mark))
        facts["minute"] = minute

    with phases.phase("reconnect") as facts:
        before = gw.session_of(CLIENT_ID)
        assert before is not None
        gw.disconnect(CLIENT_ID, "close")
        facts["dropped_at"] = nt.mark()

        def back() -> bool:
            session = gw.session_of(CLIENT_ID)
            return session is not None and session is not before

        wait_until(back, RECONNECT_TIMEOUT, "client 1 connected again")
        wait_until(lambda: gw.subscribed(CLIENT_ID, quotes=2, bars=2), 10, "subscriptions again")
        nt.barrier()
        mark = nt.mark()
        gw.advance(2)
        q = gw.call(gw.world.quote, AAPL_ID)
        expected = (q.bid, q.ask, q.bid_size, q.ask_size)
        facts["quote"] = (
            expected,
            nt.expect(
                "quote",
                lambda e: (
                    (e["bid"], e["ask"], Decimal(e["bid_size"]), Decimal(e["ask_size"])) == expected
                ),
                after=mark,
            ),
        )
        mark = nt.mark()
        at = max(gw.first_trade(AAPL_ID, gw.now().timestamp()), gw.now().timestamp()) + 1
        move_to(gw, max(at, gw.now().timestamp() + UPDATE_SECONDS))
        bar = forming(gw, gw.now().timestamp())
        facts["bar"] = (bar, nt.expect("bar", bar_like(bar), after=mark))
        # A plan fills it at once whatever the hour (outside regular hours IB would hold a
        # market order without outsideRth, as the world does).
        price = gw.call(gw.world.quote, AAPL_ID).ask
        gw.call(gw.world.plan_next_fills, FillPlan(slices=(FillSlice(10, price),)), AAPL_ID)
        facts["price"] = price
        nt.send("submit", tag="after", instrument=AAPL, side="BUY", type="MARKET", quantity=10)
        order_id = nt.expect("submitted", lambda e: e["tag"] == "after")["client_order_id"]
        facts["fill"] = nt.expect(
            "order", lambda e: e["type"] == "OrderFilled" and e["client_order_id"] == order_id
        )
        facts["snapshot"] = nt.snapshot()
        facts["world_positions"] = {
            r.contract.conId: r.position for r in gw.call(gw.world.positions, ACCOUNT)
        }
        facts["connections"] = [
            e
            for e in gw.journal.entries
            if e.client_id == CLIENT_ID
            and e.name == "note"
            and e.message.text.startswith("connected")
        ]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    workdir: Path = tmp_path_factory.mktemp("nautilus-reconnect")
    phases = Phases()
    with Gateway.start(WORLD) as gw:
        with NautilusProcess.node(
            gw.port,
            workdir,
            client_id=CLIENT_ID,
            provider={"load_contracts": [stock("AAPL", "NASDAQ")]},
            handle_revised_bars=True,
            quotes=[AAPL],
            bars=[MINUTE_BARS],
        ) as nt:
            script(gw, nt, phases)
        yield Session(gw, phases)


@pytest.mark.conformance(client="nautilus", item="revised_bars")
def test_node_with_revised_bars_publishes_each_update_of_the_forming_bar(session):
    facts = session.phases["revised"]
    opened, event = facts["opened"]
    assert not event["is_revision"]  # a minute's first bar is new...
    for name in ("revised", "revised_again", "final"):
        bar, event = facts[name]
        assert event["is_revision"], name  # ...then revised in place, to its final values
        assert bar.start == opened.start
    assert facts["revised_again"][0].volume >= facts["revised"][0].volume >= opened.volume
    new, event = facts["next"]
    assert not event["is_revision"] and new.start.timestamp() > facts["minute"]


@pytest.mark.conformance(client="nautilus", item="reconnect")
def test_node_comes_back_after_a_server_side_disconnect(session):
    facts = session.phases["reconnect"]
    assert len(facts["connections"]) == 2  # the server saw client 1 connect twice
    expected, event = facts["quote"]  # the world's quote after the reconnect, streamed
    assert event["instrument"] == AAPL
    assert (event["bid"], event["ask"], Decimal(event["bid_size"])) == expected[:3]
    bar, event = facts["bar"]
    assert event["ts_event"] == int(bar.start.timestamp()) * 10**9
    fill = facts["fill"]
    assert (Decimal(fill["last_qty"]), fill["last_px"]) == (10, facts["price"])
    positions = facts["snapshot"]["positions"]
    assert Decimal(repr(positions[AAPL])) == facts["world_positions"][AAPL_ID] == Decimal(10)
