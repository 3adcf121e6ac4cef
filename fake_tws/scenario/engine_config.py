"""From a scenario's `world` to the server's configuration.

    from fake_tws.scenario.engine import scenario_config
    config = scenario_config(scenario)               # a ServerConfig
    config = scenario_config(scenario, port=7497)    # with ServerConfig fields overridden

What the ServerConfig carries: the clock (virtual from `world.start`, or real), managed
accounts, the server version range, the next order id, the farms reported at connect,
no live market data permission when the world's market data type is delayed (3, 4),
real trading hours (not the demo's around-the-clock markets),
and the broker world's configuration: seed, accounts with their cash and positions,
the scenario's own instruments, static or random-walk prices. What needs a running
server (each instrument's starting price, the market data type, pacing, the rules) the
engine applies when it attaches (`ScenarioEngine.attach`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec

from fake_tws.broker import AccountConfig, Catalog, Instrument, StartPosition, WorldConfig
from fake_tws.broker.curated import (
    CryptoSpec,
    ForexSpec,
    StockSpec,
    crypto,
    forex,
    stock,
)
from fake_tws.broker.hashing import stable_key
from fake_tws.broker.instruments import cusip_with_check, decimals_of, isin_with_check
from fake_tws.clock import Clock, RealClock, VirtualClock
from fake_tws.config import ServerConfig
from fake_tws.ibtypes import Contract

from . import schema

DEFAULT_MIN_TICK = schema.Instrument.__struct_defaults__[0]  # minTick's default
# conIds for a scenario's instruments that do not give one: stable per (symbol, secType).
SCENARIO_CON_IDS = (800_000_000, 10_000_000)


def decimal(value: float) -> Decimal:
    """A quantity from a file's float, as IB writes it: 40.0 -> 40, 0.5 -> 0.5."""
    exact = Decimal(str(value))
    return exact.quantize(Decimal(1)) if exact == exact.to_integral_value() else exact


def scenario_clock(world: schema.World) -> Clock:
    """A virtual clock at the world's start, or the real clock."""
    return VirtualClock(world.start) if world.clock == "virtual" else RealClock()


def scenario_config(scenario: schema.Scenario | schema.World, **overrides: Any) -> ServerConfig:
    """The ServerConfig that runs `scenario`'s world; keyword arguments override its
    fields (e.g. `port=7497`, `clock=my_clock`). Stable API: the CLI and the pytest
    plugin build servers with it."""
    world = scenario.world if isinstance(scenario, schema.Scenario) else scenario
    instruments = scenario_instruments(world)
    new_ones = tuple(i for i, known in instruments if not known)
    # Known stocks trade around the scenario's price (their history too); the engine
    # then sets the exact price at the start.
    levels = {
        spec.contract.symbol.upper(): spec.price
        for spec, (_, known) in zip(world.instruments, instruments, strict=True)
        if known and spec.contract.secType.upper() in ("STK", "")
    }
    config = ServerConfig(
        # Delayed data by default means the account has no live data: live requests
        # are refused (10089), delayed ones warned (10167) and served 15 minutes old.
        no_live_data=("*",) if world.market_data.type in (3, 4) else (),
        # A scenario's start time is deliberate: markets keep their real trading hours.
        around_the_clock=False,
        accounts=world.managed,
        min_version=world.server_version.min,
        max_version=world.server_version.max,
        first_order_id=world.next_order_id,
        clock=scenario_clock(world),
        farms=world.farms,
        world=WorldConfig(
            seed=world.seed,
            accounts=tuple(_account(a, world) for a in world.accounts),
            instruments=new_ones,
            prices=levels,
            static_prices=world.market_data.mode == "static",
        ),
    )
    return replace(config, **overrides) if overrides else config


def _account(spec: schema.Account, world: schema.World) -> AccountConfig:
    return AccountConfig(
        account_id=spec.id,
        base_currency=spec.currency,
        cash={spec.currency: decimal(spec.cash)},
        positions=tuple(
            StartPosition(
                contract=position_contract(p.symbol, spec.currency, world),
                quantity=decimal(p.quantity),
                avg_price=p.avgCost or None,
            )
            for p in spec.positions
        ),
    )


def position_contract(symbol: str, currency: str, world: schema.World) -> Contract:
    """What a position's bare symbol means: one of the scenario's instruments, else a
    stock in the account's currency."""
    for inst in world.instruments:
        if inst.contract.symbol.upper() == symbol.upper():
            return instrument_contract(inst)
    return Contract(symbol=symbol, secType="STK", currency=currency)


def instrument_contract(spec: schema.Instrument) -> Contract:
    """The contract a scenario instrument trades as (with its conId, given or derived)."""
    contract = spec.contract
    if not contract.secType:
        contract = msgspec.structs.replace(contract, secType="STK")
    if not contract.conId:
        contract = msgspec.structs.replace(contract, conId=scenario_con_id(contract))
    return contract


def scenario_con_id(contract: Contract) -> int:
    base, span = SCENARIO_CON_IDS
    key = stable_key(0, "scenario-instrument", contract.symbol.upper(), contract.secType.upper())
    return base + key % span


def scenario_instruments(world: schema.World) -> list[tuple[Instrument | Contract, bool]]:
    """Each scenario instrument: (a new broker Instrument, False) when the catalog does
    not know it, else (its contract, True): a known instrument only gets its price."""
    if not world.instruments:
        return []
    catalog = Catalog(now=lambda: world.start, seed=world.seed, generate_unknown_stocks=False)
    out: list[tuple[Instrument | Contract, bool]] = []
    for spec in world.instruments:
        if _known(catalog, spec.contract):
            out.append((spec.contract, True))
        else:
            out.append((build_instrument(spec), False))
    return out


def _known(catalog: Catalog, contract: Contract) -> bool:
    if contract.conId:
        return catalog.find(contract.conId) is not None
    found = catalog.resolve(contract)
    return len(found) == 1


def build_instrument(spec: schema.Instrument) -> Instrument:
    """A broker instrument for a contract the catalog does not know, at `spec.price`."""
    contract = instrument_contract(spec)
    sec_type = contract.secType.upper()
    name = spec.longName or f"{contract.symbol} {sec_type}"
    if sec_type == "CASH":
        built = forex(
            ForexSpec(
                con_id=contract.conId,
                base=contract.symbol,
                quote=contract.currency or "USD",
                long_name=name,
                price=spec.price,
            )
        )
    elif sec_type == "CRYPTO":
        built = crypto(
            CryptoSpec(
                con_id=contract.conId,
                symbol=contract.symbol,
                long_name=name,
                price=spec.price,
                rule=1562,
                listed=date(2021, 6, 1),
            )
        )
    else:
        nsin = cusip_with_check(f"{stable_key(0, 'cusip', contract.symbol) % 10**8:08d}")
        built = stock(
            StockSpec(
                symbol=contract.symbol,
                con_id=contract.conId,
                name=name.upper(),
                primary=contract.primaryExchange or "NYSE",
                price=spec.price,
                isin=isin_with_check("US", nsin),
            )
        )
    return _with_contract(built, contract, spec.minTick)


def _with_contract(built: Instrument, given: Contract, min_tick: float) -> Instrument:
    """The built instrument with the scenario's own contract fields and tick size."""
    defaults = Contract()
    changes = {
        f: getattr(given, f)
        for f in given.__struct_fields__
        if getattr(given, f) != getattr(defaults, f) and f not in ("exchange",)
    }
    contract = msgspec.structs.replace(built.details.contract, **changes)
    if given.exchange:
        contract = msgspec.structs.replace(contract, exchange=given.exchange)
    details = msgspec.structs.replace(built.details, contract=contract)
    tick = built.path_tick
    # The language's default tick (0.01) suits stocks; other kinds keep their own
    # unless the scenario names one.
    if min_tick != DEFAULT_MIN_TICK or contract.secType.upper() == "STK":
        details = msgspec.structs.replace(details, minTick=min_tick)
        tick = round(min_tick, decimals_of(min_tick) + 2)
    return replace(built, details=details, path_tick=tick)
