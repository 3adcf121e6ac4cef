"""scenario_config: a scenario's world as the server's configuration."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from fake_tws.clock import RealClock, VirtualClock
from fake_tws.ibtypes import Contract
from fake_tws.scenario import load_scenario
from fake_tws.scenario.engine import scenario_config
from tests.scenario.engine_harness import EngineRun
from tests.scenario.helpers import FIXTURES, load_text


def test_the_world_becomes_the_server_configuration():
    scenario = load_text("""
        world:
          seed: 3
          start: 2026-04-07T09:30:00-04:00
          accounts:
            - id: DU1
              cash: 250000
              positions: [{symbol: AAPL, quantity: 100, avgCost: 150.5}]
            - {id: DU2, currency: EUR, cash: 1000}
          managed_accounts: [DU1]
          server_version: {min: 150, max: 176}
          next_order_id: 1000
          farms: [usfarm.nj, ushmds, secdefnj]
    """)
    config = scenario_config(scenario)
    assert config.accounts == ("DU1",)
    assert (config.min_version, config.max_version) == (150, 176)
    assert config.first_order_id == 1000
    assert config.farms == ("usfarm.nj", "ushmds", "secdefnj")
    assert isinstance(config.clock, VirtualClock)
    assert config.clock.now() == datetime(2026, 4, 7, 13, 30, tzinfo=UTC)
    world = config.world
    assert world.seed == 3
    assert [a.account_id for a in world.accounts] == ["DU1", "DU2"]
    assert world.accounts[0].cash == {"USD": Decimal(250000)}
    assert world.accounts[1].base_currency == "EUR"
    [position] = world.accounts[0].positions
    assert (position.contract.symbol, position.quantity, position.avg_price) == (
        "AAPL",
        Decimal(100),
        150.5,
    )
    assert not world.static_prices


def test_overrides_and_the_real_clock():
    scenario = load_text("world: {clock: realtime}")
    config = scenario_config(scenario, port=7497, first_order_id=5)
    assert isinstance(config.clock, RealClock)
    assert (config.port, config.first_order_id) == (7497, 5)


def test_instruments_new_and_known_start_at_their_prices():
    run = EngineRun.of("""
        world:
          market_data: {mode: static}
          instruments:
            - contract: {symbol: XYZ, secType: STK, exchange: SMART, currency: USD, conId: 900001}
              price: 12.5
              longName: XYZ Holdings
            - contract: {symbol: AAPL, secType: STK}
              price: 150
            - contract: {symbol: ZAR, secType: CASH, currency: USD}
              price: 0.055
          accounts:
            - id: DU1
              positions: [{symbol: XYZ, quantity: -10}]
    """)
    world = run.world
    assert world.config.static_prices
    xyz = world.quote(Contract(conId=900001))
    assert (xyz.bid, xyz.last) == (12.5, 12.5)
    [details] = world.contract_details(Contract(symbol="XYZ", secType="STK"))
    assert details.longName == "XYZ HOLDINGS"
    assert details.contract.conId == 900001
    assert world.quote(Contract(symbol="AAPL", secType="STK")).last == 150
    run.advance(3600)
    assert world.quote(Contract(symbol="AAPL", secType="STK")).last == 150  # static
    zar = world.quote(Contract(symbol="ZAR", secType="CASH", currency="USD"))
    assert zar.bid is not None and abs(zar.bid - 0.055) < 0.001
    [row] = [p for p in world.positions("DU1") if p.contract.symbol == "XYZ"]
    assert row.position == -10


def test_random_walk_prices_start_exactly_at_the_price():
    run = EngineRun.of("""
        world:
          instruments:
            - contract: {symbol: MSFT, secType: STK}
              price: 300
    """)
    assert run.world.quote(Contract(symbol="MSFT", secType="STK")).last == 300


def test_the_full_fixture_loads_into_a_server_configuration():
    scenario = load_scenario(FIXTURES / "full.yaml")
    config = scenario_config(scenario)
    assert config.world.static_prices
    assert [i.con_id for i in config.world.instruments] == [900001]
    run = EngineRun.of(scenario)
    assert run.engine.states.keys() >= {"ack-then-partial", "outage"}


def test_the_full_fixture_runs_every_step_without_failing():
    run = EngineRun.of(load_scenario(FIXTURES / "full.yaml"))
    client = run.connect(1)
    client.place(1, "AAPL", quantity=100, order_type="LMT", limit=150.5, orderRef="r1")
    for _ in range(12):
        run.advance(5)
    notes = [e.message.text for e in run.journal.entries if e.name == "note"]
    assert "scenario: a step failed (see the log)" not in notes
    fired = {rule for rule, _ in run.engine.fired}
    assert {"ack-then-partial", "cancel-later", "outage", "farm-flap"} <= fired
    assert client.link.aborted is not None and client.link.aborted[0] == "reset"
