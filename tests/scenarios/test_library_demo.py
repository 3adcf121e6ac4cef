"""scenarios/demo/*: the scenario `make demo` plays (fake_tws.demo), against ibapi."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from tests.scenarios.support import eventually, order, served, stock


def test_trading_day_entry_fills_in_two_parts_around_a_link_outage():
    with served("demo/trading_day") as run:
        client = run.ibapi(1)
        client.placeOrder(3, stock("AAPL"), order("BUY", 100, "LMT", lmtPrice=150.05))
        client.wait_count("execDetails", 1)  # 40 at once, at the limit
        run.advance(20)  # 20 s after the first part: IB's link drops
        client.wait_for(lambda: 1100 in client.codes())
        run.advance(20)  # the rest fills while the link is down
        client.wait_status(3, "Filled")
        fills = [(x.shares, x.price) for _, _, x in client.named("execDetails")]
        assert fills == [(Decimal(40), 150.05), (Decimal(60), 150.05)]
        assert 1102 not in client.codes()
        run.advance(25)  # 45 s after the drop: back, data maintained
        client.wait_for(lambda: 1102 in client.codes())


def test_trading_day_revises_the_forming_aapl_bar():
    with served("demo/trading_day") as run:
        client = run.ibapi(1)
        sleepers = run.clock.sleepers
        client.reqHistoricalData(4, stock("AAPL"), "", "600 S", "1 min", "TRADES", 1, 1, True, [])
        client.wait_for(lambda: client.named("historicalDataEnd"))
        [*_, forming] = [a[1] for a in client.named("historicalData")]
        updates = lambda: [a[1] for a in client.named("historicalDataUpdate")]  # noqa: E731
        for count in (1, 2, 3):  # the stream's own updates at +5, +10, +15 s
            eventually(lambda: run.clock.sleepers >= sleepers + 2)  # stream and rule wait
            run.advance(5)
            client.wait_for(lambda count=count: len(updates()) >= count)
        run.advance(5)  # +20 s: the stream's update and the late trades
        client.wait_for(lambda: len(updates()) >= 5)
        bars = [forming, *updates()]
        revisions = [
            (a, b)
            for a, b in itertools.pairwise(bars)
            if a.date == b.date and b.volume == a.volume + 500
        ]
        assert revisions, [(u.date, u.volume, u.close) for u in bars]
        before, revised = revisions[-1]
        assert revised.close == pytest.approx(before.close + 0.01)
