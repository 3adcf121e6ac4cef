from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec

from fake_tws.broker import (
    ExecutionEvent,
    NoSecurityDefinition,
    OrderStatusEvent,
    World,
    WorldConfig,
)
from fake_tws.ibtypes import Contract, Order

from .conftest import AAPL, ACCOUNT, MIDDAY, ManualClock


def script(world: World, clock: ManualClock) -> list:
    q = world.quote(AAPL)
    out = []
    out += world.place_order(
        1, 1, AAPL, Order(action="BUY", orderType="MKT", totalQuantity=Decimal(300))
    )
    out += world.place_order(
        1,
        2,
        AAPL,
        Order(
            action="SELL",
            orderType="LMT",
            totalQuantity=Decimal(300),
            lmtPrice=round(q.ask + 0.2, 2),
        ),
    )
    clock.advance(hours=3)
    out += world.advance()
    return out


def test_the_same_seed_gives_the_same_story():
    first_clock, second_clock = ManualClock(), ManualClock()
    first = script(World(first_clock, WorldConfig(seed=21)), first_clock)
    second = script(World(second_clock, WorldConfig(seed=21)), second_clock)
    assert msgspec.json.encode(first) == msgspec.json.encode(second)
    other_clock = ManualClock()
    other = script(World(other_clock, WorldConfig(seed=22)), other_clock)
    assert msgspec.json.encode(other) != msgspec.json.encode(first)


def test_subscribers_and_queues_see_what_calls_return(world, clock):
    seen = []
    unsubscribe = world.subscribe(seen.append)
    queue = world.event_queue()
    returned = script(world, clock)
    assert seen == returned and queue.drain() == returned and queue.drain() == []
    unsubscribe()
    queue.close()
    world.place_order(1, 3, AAPL, Order(action="BUY", orderType="MKT", totalQuantity=Decimal(1)))
    assert seen == returned and queue.drain() == []


def test_queries_catch_up_with_the_clock(world, clock):
    q = world.quote(AAPL)
    world.place_order(
        1,
        1,
        AAPL,
        Order(
            action="BUY", orderType="LMT", totalQuantity=Decimal(10), lmtPrice=round(q.bid - 0.2, 2)
        ),
    )
    seen = world.event_queue()
    clock.advance(hours=5)
    positions = world.positions()  # no explicit advance()
    fills = [e for e in seen.drain() if isinstance(e, ExecutionEvent)]
    assert fills and positions[0].position == 10


def test_set_price_moves_quotes_and_wakes_resting_orders(world, clock):
    q = world.quote(AAPL)
    world.place_order(
        1,
        1,
        AAPL,
        Order(
            action="SELL", orderType="LMT", totalQuantity=Decimal(10), lmtPrice=round(q.ask + 20, 2)
        ),
    )
    clock.advance(seconds=5)
    world.set_price(AAPL, q.ask + 25)
    assert abs(world.quote(AAPL).last - (q.ask + 25)) < 1
    clock.advance(seconds=30)
    events = world.advance()
    assert [e.status for e in events if isinstance(e, OrderStatusEvent)][-1] == "Filled"


def test_advance_does_not_go_back_in_time(world, clock):
    assert world.advance(MIDDAY - timedelta(hours=1)) == []
    assert world.now() == clock.moment


def test_world_helpers(world):
    assert world.con_id(AAPL) == 265598 and world.con_id(42) == 42
    assert isinstance(
        world.contract_details(Contract(symbol="NOPE!", secType="STK")), NoSecurityDefinition
    )
    assert world.option_chain_params("AAPL")[0].underlyingConId == 265598
    assert world.matching_symbols("MSF")[0].contract.symbol == "MSFT"
    assert world.market_rule(26)[0].increment == 0.01
    assert world.managed_accounts() == [ACCOUNT]


def test_a_clock_may_be_a_plain_callable():
    world = World(lambda: datetime(2026, 4, 15, 15, 0, tzinfo=UTC))
    assert world.quote(AAPL).session_open


def test_market_data_through_the_world_never_looks_ahead(world, clock):
    ahead = clock.moment + timedelta(hours=2)
    assert world.bars(AAPL, "3600 S", "1 min", end=ahead) == world.bars(AAPL, "3600 S", "1 min")
    assert world.bars(AAPL, "3600 S", "1 min")[-1].start <= clock.moment
    assert world.realtime_bar(AAPL, clock.moment) is None  # still being made
    clock.advance(seconds=5)
    assert world.realtime_bar(AAPL, clock.moment - timedelta(seconds=5)).time == int(
        (clock.moment - timedelta(seconds=5)).timestamp()
    )
    ticks = world.historical_ticks(AAPL, "TRADES", start=clock.moment - timedelta(seconds=30))
    assert ticks and ticks[-1].time <= clock.moment.timestamp()
    assert world.current_bar(AAPL, "1 min").start <= clock.moment
    assert world.head_timestamp(AAPL).year == 1980


def test_accounts_in_other_currencies_are_valued(clock):
    from fake_tws.broker import AccountConfig

    config = WorldConfig(accounts=(AccountConfig("DU5", cash={"USD": 1000, "CHF": 1000}),))
    world = World(clock, config)
    (nlv,) = world.account_summary("All", "NetLiquidation")
    assert 2000 < float(nlv.value) < 2300
