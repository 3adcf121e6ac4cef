"""How options, project defaults and a scenario's world combine into a ServerConfig."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fake_tws.clock import RealClock, VirtualClock
from fake_tws.control.settings import (
    DEFAULT_START,
    build_config,
    load_scenarios,
    make_clock,
    server_config,
)
from fake_tws.journal import Journal, Note
from fake_tws.scenario import ScenarioError, parse_scenario

SCENARIO = parse_scenario(
    """\
name: shop
world:
  start: 2026-05-04T13:30:00Z
  accounts:
    - id: DU10
      cash: 5000
      positions: [{symbol: AAPL, quantity: 10, avgCost: 100}]
  server_version: {min: 170}
  next_order_id: 40
  seed: 3
"""
)


def test_layers_later_win_and_none_leaves_the_choice_below():
    config = server_config({"accounts": ("DU1",), "max_version": 180}, {"max_version": 170})
    assert (config.accounts, config.max_version) == (("DU1",), 170)
    config = server_config({"accounts": ("DU1",)}, {"accounts": None, "next_order_id": 9})
    assert (config.accounts, config.first_order_id) == (("DU1",), 9)
    assert server_config({"accounts": "DU1, DU2"}).accounts == ("DU1", "DU2")


def test_clocks():
    assert make_clock("virtual", None).now() == DEFAULT_START
    assert isinstance(make_clock("realtime", None), RealClock)
    clock = VirtualClock(DEFAULT_START)
    assert make_clock(clock, None) is clock
    # A start time from a lower layer belongs to its clock: a real clock on top drops it.
    config = server_config({"start": "2026-02-02T00:00:00Z"}, {"clock": "real"})
    assert isinstance(config.clock, RealClock)
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        make_clock("virtual", "yesterday")


def test_without_a_scenario_the_default_clock_applies():
    assert isinstance(build_config({}, {}).clock, VirtualClock)
    assert isinstance(build_config({}, {}, default_clock="real").clock, RealClock)
    assert isinstance(build_config({"clock": "real"}, {}).clock, RealClock)


def test_a_scenario_world_sits_between_project_defaults_and_explicit_options():
    project = {"clock": "real", "accounts": ("DU99",), "timezone": "Europe/London"}
    config = build_config(project, {}, scenario=SCENARIO)
    assert config.accounts == ("DU10",)  # the world's, not the project default's
    assert config.timezone == "Europe/London"  # what the world does not say stays
    assert (config.min_version, config.first_order_id) == (170, 40)
    assert config.clock.now() == datetime(2026, 5, 4, 13, 30, tzinfo=UTC)
    if config.world is not None:
        assert config.world.seed == 3
        [account] = config.world.accounts
        assert account.cash == {"USD": 5000} and len(account.positions) == 1

    explicit = {"accounts": ("DU10", "DU11"), "seed": 8, "start": "2026-05-05T13:30:00Z"}
    config = build_config(project, explicit, scenario=SCENARIO)
    assert config.accounts == ("DU10", "DU11")
    assert config.clock.now() == datetime(2026, 5, 5, 13, 30, tzinfo=UTC)
    if config.world is not None:
        assert config.world.seed == 8
        assert [a.account_id for a in config.world.accounts] == ["DU10", "DU11"]


def test_unknown_options_are_named_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown option\(s\) colour \(known: accounts, "):
        server_config({"colour": "blue"})


def test_several_scenarios_compose_in_order(tmp_path):
    (tmp_path / "a.yaml").write_text("world: {next_order_id: 5, seed: 1}\n")
    (tmp_path / "b.yaml").write_text("world: {next_order_id: 6}\n")
    scenario = load_scenarios(["a.yaml", "b.yaml"], relative_to=tmp_path)
    assert (scenario.name, scenario.world.next_order_id, scenario.world.seed) == ("a + b", 6, 1)
    (tmp_path / "bad.yaml").write_text("world: {seed: x}\n")
    with pytest.raises(ScenarioError, match=r"bad\.yaml:1:15: world\.seed"):
        load_scenarios(["a.yaml", "bad.yaml"], relative_to=tmp_path)


def test_journal_listeners_see_each_entry_after_it_is_recorded():
    journal = Journal()
    seen = []
    stop = journal.listen(lambda entry: seen.append((entry.seq, len(journal))))
    journal.record_event(1, "one")
    stop()
    journal.record(1, journal.entries[0].direction, Note("two"))
    assert seen == [(1, 1)]
