"""Invariants of the world under random order flow and of the market at random moments."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_tws.broker import ExecutionEvent, Market, OrderStatusEvent, World, WorldConfig
from fake_tws.broker.catalog import Catalog
from fake_tws.broker.instruments import on_grid
from fake_tws.ibtypes import Contract, Order

from .conftest import ACCOUNT, MIDDAY, ManualClock

SYMBOLS = {"AAPL": 265598, "MSFT": 272093}
TERMINAL = {"Filled", "Cancelled", "Inactive"}

side = st.sampled_from(["BUY", "SELL"])
quantity = st.integers(1, 2500)
actions = st.one_of(
    st.tuples(st.just("mkt"), st.sampled_from(list(SYMBOLS)), side, quantity),
    st.tuples(
        st.just("lmt"),
        st.sampled_from(list(SYMBOLS)),
        side,
        quantity,
        st.integers(-60, 60),
        st.sampled_from(["DAY", "GTC", "IOC", "FOK"]),
    ),
    st.tuples(st.just("stp"), st.sampled_from(list(SYMBOLS)), side, quantity, st.integers(1, 80)),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("wait"), st.integers(1, 3 * 3600)),
    st.tuples(st.just("move"), st.sampled_from(list(SYMBOLS)), st.floats(-0.04, 0.04)),
)


def run(steps) -> tuple[World, list]:
    clock = ManualClock(MIDDAY)
    world = World(clock, WorldConfig(seed=17))
    events: list = []
    world.subscribe(events.append)
    placed: list[int] = []
    for step in steps:
        kind = step[0]
        if kind == "wait":
            clock.advance(seconds=step[1])
            world.advance()
        elif kind == "cancel":
            if placed:
                world.cancel_order(1, placed[step[1] % len(placed)])
        elif kind == "move":
            con_id = SYMBOLS[step[1]]
            world.set_price(con_id, round(world.quote(con_id).last * (1 + step[2]), 2))
        else:
            con_id = SYMBOLS[step[1]]
            q = world.quote(con_id)
            order_id = world.next_order_id(1)
            qty = Decimal(step[3])
            if kind == "mkt":
                order = Order(action=step[2], orderType="MKT", totalQuantity=qty)
            elif kind == "lmt":
                price = round(q.bid + step[4] * 0.01, 2)
                order = Order(
                    action=step[2], orderType="LMT", totalQuantity=qty, lmtPrice=price, tif=step[5]
                )
            else:
                away = step[4] * 0.01
                aux = round(q.last + away if step[2] == "BUY" else q.last - away, 2)
                order = Order(action=step[2], orderType="STP", totalQuantity=qty, auxPrice=aux)
            world.place_order(1, order_id, Contract(conId=con_id), order)
            placed.append(order_id)
        clock.advance(seconds=1)
    world.advance()
    return world, events


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(actions, min_size=1, max_size=10))
def test_world_invariants_under_random_order_flow(steps):
    world, events = run(steps)
    fills = [e for e in events if isinstance(e, ExecutionEvent)]

    # positions are the sum of their executions
    held: dict[int, Decimal] = defaultdict(Decimal)
    for f in fills:
        signed = f.execution.shares if f.execution.side == "BOT" else -f.execution.shares
        held[f.contract.conId] += signed
    for con_id, qty in held.items():
        assert world.accounts.position(ACCOUNT, con_id).quantity == qty

    # cash is conserved net of commissions
    spent = sum(
        (
            (1 if f.execution.side == "BOT" else -1)
            * f.execution.shares
            * Decimal(repr(f.execution.price))
            for f in fills
        ),
        Decimal(0),
    )
    commissions = sum((Decimal(repr(f.commission_report.commission)) for f in fills), Decimal(0))
    assert world.accounts.cash(ACCOUNT) == Decimal(1_000_000) - spent - commissions

    # an order's story: nothing after its end, never both filled and cancelled
    story: dict[int, list[OrderStatusEvent]] = defaultdict(list)
    for e in events:
        if isinstance(e, OrderStatusEvent):
            story[e.order_id].append(e)
    for order_id, statuses in story.items():
        names = [s.status for s in statuses]
        ends = [i for i, n in enumerate(names) if n in TERMINAL]
        if ends:
            assert ends[0] == len(names) - 1, names
        assert not ({"Filled", "Cancelled"} <= set(names)), names
        total = statuses[-1].filled + statuses[-1].remaining
        assert all(0 <= s.filled <= total for s in statuses)
        executed = sum(f.execution.shares for f in fills if f.order_id == order_id)
        assert executed == statuses[-1].filled
        assert [s.filled for s in statuses] == sorted(s.filled for s in statuses)

    # every price on the grid; the account adds up
    assert all(on_grid(f.execution.price, 0.01) for f in fills)
    pnl = world.pnl(ACCOUNT)
    nlv = Decimal(world.account_summary("All", "NetLiquidation")[0].value)
    assert abs(nlv - 1_000_000 - Decimal(repr(pnl.unrealized_pnl + pnl.realized_pnl))) < 1


INSTRUMENTS = [
    Contract(conId=265598),
    Contract(symbol="ES", secType="CONTFUT"),
    Contract(symbol="EUR", secType="CASH", currency="USD"),
    Contract(symbol="BTC", secType="CRYPTO"),
    Contract(symbol="IBUS30", secType="CFD"),
    Contract(
        symbol="AAPL",
        secType="OPT",
        lastTradeDateOrContractMonth="20260515",
        strike=250.0,
        right="C",
    ),
    Contract(symbol="SPY", secType="STK"),
]
_catalog = Catalog(now=lambda: MIDDAY, seed=23)
_resolved = [_catalog.resolve_one(c)[0] for c in INSTRUMENTS]
_market = Market(_catalog.instrument, seed=23)
moments = st.integers(0, 365 * 86400).map(lambda s: MIDDAY - timedelta(seconds=s))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(_resolved), moments)
def test_quotes_are_two_sided_on_the_grid(instrument, moment):
    q = _market.quote(instrument.con_id, moment)
    tick = instrument.path_tick
    assert q.bid < q.ask
    assert on_grid(q.bid, tick) and on_grid(q.ask, tick) and on_grid(q.last, tick)
    assert (q.ask - q.bid) / tick <= 4 + 1e-6
    assert q.last_time <= moment


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([i for i in _resolved if i.has_trades]),
    moments,
    st.sampled_from(["5 secs", "30 secs", "1 min", "5 mins", "15 mins"]),
    st.booleans(),
)
def test_bars_agree_with_the_prints_inside_them(instrument, moment, bar_size, use_rth):
    con_id = instrument.con_id
    bars = _market.bars(con_id, moment, "3600 S", bar_size, "TRADES", use_rth)
    for bar, nxt in zip(bars, [*bars[1:], None], strict=False):
        start = bar.start.timestamp()
        end = min(nxt.start.timestamp() if nxt else moment.timestamp(), moment.timestamp())
        prints = _market.prints(con_id, start, end)
        if use_rth:
            session = _market.session_at(con_id, start)
            prints = [p for p in prints if session.liquid_start <= p.time < session.liquid_end]
        prices = [p.price for p in prints]
        assert prices, bar
        assert (bar.open, bar.high, bar.low, bar.close) == (
            prices[0],
            max(prices),
            min(prices),
            prices[-1],
        )
        assert bar.volume == sum((p.size for p in prints), Decimal(0))
        assert bar.count == len(prints)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([i for i in _resolved if i.has_trades]), moments)
def test_a_day_is_the_sum_of_its_hours(instrument, moment):
    end = moment.replace(hour=23, minute=59, second=0, tzinfo=UTC)
    days = _market.bars(instrument.con_id, end, "1 D", "1 day", "TRADES", False)
    hours = _market.bars(instrument.con_id, end, "1 D", "1 hour", "TRADES", False)
    if not days:
        return
    day = days[-1]
    same_day = [h for h in hours if h.start >= day.start]
    assert sum(h.volume for h in same_day) == day.volume
    assert max(h.high for h in same_day) == day.high and min(h.low for h in same_day) == day.low
    assert same_day[0].open == day.open and same_day[-1].close == day.close
    assert datetime.fromtimestamp(0, UTC) < day.start <= end
