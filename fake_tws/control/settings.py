"""From scenario files and options to a `ServerConfig`: what the CLI and the pytest plugin
share when they start a server (`build_config`).

Precedence, lowest first: ServerConfig's defaults, project-wide options (a fixture, an
ini value), the scenario's `world`, explicit options (marker arguments, command-line
flags).

A scenario's world is mapped by the scenario engine's `scenario_config` (accounts with
cash and positions, versions, clock and start, next order id, seed, farms, instruments,
prices); the server given the scenario runs its rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from fake_tws.clock import Clock, RealClock, VirtualClock
from fake_tws.config import ServerConfig
from fake_tws.ibtypes import Contract
from fake_tws.scenario import Scenario, World, load_scenario, parse_scenario

CLOCK_KINDS = ("virtual", "real")
# Where virtual time starts unless told otherwise: the scenario language's default start,
# a Monday at the New York open.
DEFAULT_START = World().start
CONFIG_FIELDS = frozenset(f.name for f in fields(ServerConfig))
# Options besides ServerConfig's own fields.
OPTION_NAMES = frozenset({"clock", "start", "seed", "next_order_id"})
# Options a scenario's world decides (unless given explicitly).
WORLD_OPTIONS = frozenset(
    {"accounts", "min_version", "max_version", "first_order_id", "next_order_id", "clock"}
    | {"start", "seed", "farms", "world"}
)


def load_scenarios(names: Sequence[str | Path], relative_to: Path | None = None) -> Scenario:
    """Load one scenario, or compose several as if one file included them all (in order:
    later worlds override earlier ones key by key, rules run in file order).

    A name is a path (tried relative to `relative_to` first, then to the working
    directory) or a name in the shipped scenario library. Raises ScenarioError."""
    resolved = [_resolve(name, relative_to) for name in names]
    if len(resolved) == 1:
        return load_scenario(resolved[0])
    for name in resolved:  # each one's own problems, located in its own file
        load_scenario(name)
    lines = ["include:", *(f"  - {_yaml_string(str(name))}" for name in resolved)]
    scenario = parse_scenario("\n".join(lines) + "\n", Path.cwd() / "<scenarios>")
    return replace_name(scenario, " + ".join(_stem(n) for n in resolved))


def replace_name(scenario: Scenario, name: str) -> Scenario:
    return msgspec.structs.replace(scenario, name=name)


def _resolve(name: str | Path, relative_to: Path | None) -> str | Path:
    path = Path(name)
    if not path.is_absolute() and relative_to is not None and (relative_to / path).is_file():
        return (relative_to / path).resolve()
    if path.is_file():
        return path.resolve()
    return str(name)  # a library name (load_scenario says so if it is not one either)


def _stem(name: str | Path) -> str:
    return Path(name).stem


def _yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def make_clock(kind: str | Clock | None, start: datetime | str | None) -> Clock:
    """A clock from a kind ("virtual" or "real"; "realtime" as scenarios spell it) and a
    start time for a virtual clock (aware datetime or ISO text)."""
    if isinstance(kind, Clock):
        if start is not None:
            raise ValueError("give either a clock object or a start time, not both")
        return kind
    kind = "real" if kind == "realtime" else (kind or "virtual")
    if kind not in CLOCK_KINDS:
        raise ValueError(f'unknown clock {kind!r}: expected "virtual" or "real"')
    if kind == "real":
        if start is not None:
            raise ValueError("a start time needs the virtual clock (the real one is now)")
        return RealClock()
    return VirtualClock(parse_time(start) if start is not None else DEFAULT_START)


def parse_time(value: datetime | str) -> datetime:
    """An aware datetime from a datetime or ISO 8601 text ("2026-01-05T14:30:00Z")."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not an ISO 8601 time (e.g. 2026-01-05T14:30:00Z)"
            ) from None
    if not isinstance(value, datetime):
        raise ValueError(f"expected a datetime or ISO 8601 text, got {value!r}")
    if value.tzinfo is None:
        raise ValueError(f"{value.isoformat()} has no time zone; give one, e.g. ...Z or +00:00")
    return value


def server_config(*layers: Mapping[str, Any], base: ServerConfig | None = None) -> ServerConfig:
    """A ServerConfig from `base` (default: ServerConfig()) with option layers applied in
    order, later ones winning; a None value leaves a setting to the layers below.

    Options are ServerConfig fields (accounts, min_version, max_version, first_order_id,
    timezone, ...) plus `clock` ("virtual" | "real" | a Clock), `start` (the virtual
    clock's start, datetime or ISO text), `seed` (the broker world's) and `next_order_id`
    (the scenario language's name for first_order_id). Raises ValueError saying what is
    wrong."""
    merged: dict[str, Any] = {}
    for layer in layers:
        layer = {k: v for k, v in layer.items() if v is not None}
        if "next_order_id" in layer:
            layer["first_order_id"] = layer.pop("next_order_id")
        clock = layer.get("clock")
        if clock is not None and (clock == "real" or isinstance(clock, Clock)):
            merged.pop("start", None)  # a start time from below belonged to another clock
        merged.update(layer)
    clock_kind = merged.pop("clock", None)
    start = merged.pop("start", None)
    seed = merged.pop("seed", None)
    world_accounts = merged.pop("world_accounts", None)
    unknown = set(merged) - CONFIG_FIELDS
    if unknown:
        known = sorted((CONFIG_FIELDS - {"host", "port", "world"}) | OPTION_NAMES)
        raise ValueError(
            f"unknown option(s) {', '.join(sorted(unknown))} (known: {', '.join(known)})"
        )
    if "accounts" in merged:
        merged["accounts"] = _accounts_tuple(merged["accounts"])
    base = base or ServerConfig()
    if clock_kind is not None or start is not None:
        merged["clock"] = make_clock(clock_kind, start)
    if "world" not in merged and "world" in CONFIG_FIELDS:
        world = _world_for(base, merged.get("accounts"), seed, world_accounts)
        if world is not None:
            merged["world"] = world
    return replace(base, **merged)


def _world_for(
    base: ServerConfig, accounts: tuple[str, ...] | None, seed: int | None, world_accounts: Any
) -> Any:
    """The broker world's configuration for these options, or None to keep base's."""
    existing = getattr(base, "world", None)
    if world_accounts is not None or existing is None:
        if seed is None and world_accounts is None:
            return None  # ServerConfig's default world suits
        return _world_config(seed or 0, accounts or base.accounts, world_accounts)
    from fake_tws.broker import AccountConfig

    world = existing
    if seed is not None:
        world = replace(world, seed=seed)
    known = {a.account_id for a in world.accounts}
    extra = tuple(AccountConfig(account_id=a) for a in accounts or () if a not in known)
    if extra:  # managed accounts the scenario's world does not describe: default ones
        world = replace(world, accounts=(*world.accounts, *extra))
    return world if world is not existing else None


def scenario_config(scenario: Scenario) -> ServerConfig:
    """The ServerConfig of a scenario's world (the scenario engine's mapping)."""
    from fake_tws.scenario.engine import scenario_config as engine_config

    return engine_config(scenario)


def build_config(
    *layers: Mapping[str, Any], scenario: Scenario | None = None, default_clock: str = "virtual"
) -> ServerConfig:
    """What the CLI and the pytest plugin start a server with: without a scenario,
    `default_clock` then the layers; with one, its world then the layers, minus what
    the world decides in the layers before the last (the last one, explicit options such
    as marker arguments or command-line flags, wins over the world)."""
    if scenario is None:
        return server_config({"clock": default_clock}, *layers)
    *below, top = layers or ({},)
    kept = [{k: v for k, v in layer.items() if k not in WORLD_OPTIONS} for layer in below]
    return server_config(*kept, top, base=scenario_config(scenario))


def _accounts_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [a.strip() for a in value.split(",")]
    accounts = tuple(a for a in value if a)
    if not accounts:
        raise ValueError("a gateway needs at least one managed account")
    return accounts


def _world_config(seed: int, managed: tuple[str, ...], scenario_accounts: Any) -> Any:
    """The broker world's configuration: each scenario account with its currency, cash and
    stock positions; a default account for a managed id the scenario does not describe."""
    from fake_tws.broker import AccountConfig, StartPosition, WorldConfig

    described = {a.id: a for a in scenario_accounts or ()}
    accounts = []
    for account_id in dict.fromkeys((*managed, *described)):
        spec = described.get(account_id)
        if spec is None:
            accounts.append(AccountConfig(account_id=account_id))
            continue
        positions = tuple(
            StartPosition(
                contract=Contract(symbol=p.symbol, secType="STK", currency=spec.currency),
                quantity=Decimal(str(p.quantity)),
                avg_price=p.avgCost or None,
            )
            for p in spec.positions
        )
        accounts.append(
            AccountConfig(
                account_id=account_id,
                base_currency=spec.currency,
                cash={spec.currency: Decimal(str(spec.cash))},
                positions=positions,
            )
        )
    return WorldConfig(seed=seed, accounts=tuple(accounts))
