"""Valid scenario files load into the typed structures the engine will run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import get_args

import pytest

from fake_tws.ibtypes import Contract
from fake_tws.scenario import load_scenario
from fake_tws.scenario.actions import (
    ACTION_NAMES,
    BARE_ACTIONS,
    Cancel,
    ConnectivityRestored,
    Disconnect,
    FarmStatus,
    PacingViolation,
    ServerRestart,
    Slice,
)
from fake_tws.scenario.durations import Duration, TimePoint
from fake_tws.scenario.events import EVENT_TYPES
from fake_tws.scenario.matchers import Op
from fake_tws.scenario.schema import EventName, Location, World
from tests.scenario.helpers import FIXTURES, load_text, write


@pytest.fixture(scope="module")
def full():
    return load_scenario(FIXTURES / "full.yaml")


def test_world_merges_included_world_under_the_files_own(full):
    world = full.world
    assert world.seed == 7  # the file's own value wins over the included 1
    assert world.start == datetime(2026, 4, 7, 9, 30, tzinfo=timezone(timedelta(hours=-4)))
    assert (world.server_version.min, world.server_version.max) == (150, 187)  # included
    assert world.pacing.max_messages_per_second == 40  # included
    assert world.market_data.mode == "static" and world.market_data.type == 3
    assert world.market_data.tick_interval == timedelta(milliseconds=250)  # default
    (account,) = world.accounts
    assert (account.id, account.cash, account.currency) == ("DU1234567", 250000.0, "USD")
    assert [(p.symbol, p.quantity, p.avgCost) for p in account.positions] == [
        ("AAPL", 100.0, 150.5)
    ]
    assert world.managed == ("DU1234567",)
    (instrument,) = world.instruments
    assert instrument.contract == Contract(
        symbol="XYZ", secType="STK", exchange="SMART", currency="USD", conId=900001
    )
    assert instrument.price == 12.5


def test_rules_of_included_files_come_first(full):
    assert [r.id for r in full.rules] == [
        "farm-flap",
        "ack-then-partial",
        "reject-second-msft",
        "cancel-later",
        "historical-pacing",
        "clock-time",
        "on-fill",
        "outage",
    ]
    assert [p.name for p in full.files] == ["world.yaml", "faults.yaml", "full.yaml"]
    assert full.name == "every feature once"


def test_request_trigger_with_matchers_and_short_names_made_full(full):
    rule = full.rule("ack-then-partial")
    assert rule.when.kind == "request" and rule.when.request == "placeOrder"
    assert rule.when.where == {
        "contract.symbol": "AAPL",
        "order.orderType": "LMT",  # written as the bare `orderType`
        "order.action": Op(in_=("BUY", "SELL")),
        "order.totalQuantity": Op(ge=100.0, lt=1000.0),
        "order.orderRef": "$ref",
    }
    assert rule.times == 0 and rule.nth is None
    delay, partial = rule.do
    assert delay.kind == "delay" and delay.spec == timedelta(milliseconds=200)
    assert partial.spec == (
        Slice(quantity=40, price=150.10),
        Slice(quantity=60, price=150.2, delay=Duration(seconds=1)),
    )


def test_client_nth_and_reject(full):
    rule = full.rule("reject-second-msft")
    assert (rule.nth, rule.times, rule.when.client) == (2, 1, 2)
    assert rule.when.where == {"contract.symbol": "MSFT"}
    (step,) = rule.do
    assert step.spec.code == 201 and step.spec.order == "$orderId"


def test_after_trigger_and_bare_action(full):
    rule = full.rule("cancel-later")
    assert rule.when.kind == "after" and rule.when.after == "ack-then-partial"
    assert rule.when.delay == timedelta(seconds=5)
    assert rule.do[0].spec == Cancel()


def test_error_pacing_respond_send_revise(full):
    pacing, error = full.rule("historical-pacing").do
    assert pacing.spec == PacingViolation(kind="historical")
    assert (error.spec.code, error.spec.reqId) == (162, "$reqId")
    assert full.rule("historical-pacing").when.where == {"whatToShow": Op(regex="TRADES|MIDPOINT")}
    assert full.rule("clock-time").do[0].spec == ({"currentTime": {"time": 1775568600}},)
    send, revise = full.rule("on-fill").do
    assert send.kind == "send"
    assert send.spec[0]["error"]["reqId"] == "$orderId"
    assert (revise.spec.close, revise.spec.volume, revise.spec.high) == (0.05, 10.0, 0.0)


def test_time_trigger_and_fault_actions(full):
    rule = full.rule("outage")
    assert rule.when.at == TimePoint(offset=Duration(seconds=30))
    assert rule.when.at.resolve(full.world.start) == full.world.start + timedelta(seconds=30)
    kinds = [s.kind for s in rule.do]
    assert kinds == [
        "farm_status",
        "connectivity_lost",
        "advance_clock",
        "connectivity_restored",
        "market_data_type",
        "move_price",
        "raw",
        "disconnect",
        "server_restart",
    ]
    farm, _, clock, restored, mdt, move, raw, drop, restart = (s.spec for s in rule.do)
    assert farm == FarmStatus(farm="usfarm", state="broken") and farm.code == 2103
    assert clock == timedelta(minutes=2)
    assert restored == ConnectivityRestored(data="lost", delay=Duration(seconds=1))
    assert restored.code == 1101
    assert (mdt, move) == (3, {"AAPL": 151.25})
    assert raw == ("4", "2", -1, 2104, "Market data farm connection is OK:usfarm")
    assert drop == Disconnect(mode="reset")
    assert restart == ServerRestart(down=Duration(seconds=10))


def test_rule_locations_point_at_each_id(full):
    assert full.rule_locations["ack-then-partial"] == Location(FIXTURES / "full.yaml", 19, 9)
    farm_flap = full.rule_locations["farm-flap"]
    assert (farm_flap.file.name, farm_flap.line) == ("faults.yaml", 2)
    assert str(farm_flap).endswith("faults.yaml:2:9")


def test_empty_file_is_the_default_world():
    scenario = load_text("")
    assert scenario.world == World() and scenario.rules == ()
    assert scenario.world.accounts[0].id == "DU1234567"
    assert scenario.world.start == datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    assert scenario.world.farms == ("usfarm", "ushmds", "secdefil")


def test_every_bare_action_loads_with_its_defaults():
    steps = "".join(f"              - {name}\n" for name in sorted(BARE_ACTIONS))
    scenario = load_text(
        f"""
        rules:
          - id: all
            when: {{event: order_submitted}}
            do:
{steps}"""
    )
    assert [s.kind for s in scenario.rules[0].do] == sorted(BARE_ACTIONS)
    assert scenario.rules[0].do[-1].spec == ServerRestart(down=Duration(seconds=5))


def test_yaml_anchors_and_merge_keys_share_settings():
    scenario = load_text(
        """
        rules:
          - id: first
            when: &placed {request: placeOrder, where: {contract.symbol: AAPL}}
            do: [{fill: &half {quantity: 50, price: 10}}]
          - id: second
            when: *placed
            do: [{fill: {<<: *half, price: 11}}]
        """
    )
    first, second = scenario.rules
    assert first.when == second.when
    assert second.do[0].spec.quantity == 50 and second.do[0].spec.price == 11


def test_event_trigger_binds_its_fields_for_order_actions():
    scenario = load_text(
        """
        rules:
          - id: cancel-after-partial
            when: {event: execution, where: {remaining: {gt: 0}, symbol: AAPL}}
            do: [cancel]
        """
    )
    assert scenario.rules[0].when.where == {"remaining": Op(gt=0), "symbol": "AAPL"}


def test_an_explicitly_captured_binding_is_usable_in_later_rules():
    scenario = load_text(
        """
        rules:
          - id: remember
            when: {request: placeOrder, where: {orderId: $first}}
            do: [{delay: 1s}]
          - id: use
            when: {at: "+10s"}
            do: [{cancel: {order: $first}}, {fill: {order: 7}}]
        """
    )
    assert scenario.rule("use").do[0].spec.order == "$first"
    assert scenario.rule("use").do[1].spec.order == 7


def test_after_inherits_the_bindings_of_the_rule_it_follows():
    scenario = load_text(
        """
        rules:
          - id: ack
            when: {request: placeOrder}
            do: [{delay: 10ms}]
          - id: later
            when: {after: ack, delay: 2s}
            do: [{fill: {price: 1.5}}]
        """
    )
    assert scenario.rule("later").do[0].spec.order == "$orderId"


def test_absolute_time_trigger():
    scenario = load_text(
        """
        world: {start: "2026-01-05T14:30:00Z"}
        rules:
          - id: close
            when: {at: "2026-01-05T16:00:00-05:00"}
            do: [{disconnect: {mode: silence, client: 3}}]
        """
    )
    at = scenario.rules[0].when.at
    assert at.resolve(scenario.world.start) == datetime(2026, 1, 5, 21, 0, tzinfo=UTC)


def test_include_merges_world_mappings_and_replaces_lists(tmp_path):
    write(
        tmp_path,
        "base.yaml",
        """
        world:
          seed: 1
          server_version: {min: 120, max: 170}
          farms: [usfarm, eufarm]
          accounts: [{id: DU1}, {id: DU2}]
        """,
    )
    root = write(
        tmp_path,
        "root.yaml",
        """
        include: [base.yaml]
        world:
          server_version: {max: 180}
          farms: [cashfarm]
        """,
    )
    world = load_scenario(root).world
    assert (world.seed, world.server_version.min, world.server_version.max) == (1, 120, 180)
    assert world.farms == ("cashfarm",)
    assert [a.id for a in world.accounts] == ["DU1", "DU2"]


def test_a_file_included_twice_is_composed_once(tmp_path):
    write(
        tmp_path,
        "lib.yaml",
        "rules:\n  - id: shared\n    when: {event: connected}\n    do: [{delay: 1s}]\n",
    )
    write(tmp_path, "left.yaml", "include: [lib.yaml]\n")
    write(tmp_path, "right.yaml", "include: [lib.yaml]\n")
    root = write(tmp_path, "root.yaml", "include: [left.yaml, right.yaml]\n")
    scenario = load_scenario(root)
    assert [r.id for r in scenario.rules] == ["shared"]
    assert [p.name for p in scenario.files] == ["lib.yaml", "left.yaml", "right.yaml", "root.yaml"]


def test_include_falls_back_to_the_scenario_library(tmp_path, monkeypatch):
    library = tmp_path / "library"
    write(
        library,
        "faults/flap.yaml",
        "rules:\n  - id: flap\n    when: {event: connected}\n    do: [{delay: 1s}]\n",
    )
    monkeypatch.setenv("FAKE_TWS_SCENARIO_PATH", str(library))
    root = write(tmp_path / "tests", "mine.yaml", "include: [faults/flap.yaml]\n")
    assert [r.id for r in load_scenario(root).rules] == ["flap"]


def test_load_scenario_by_library_name(tmp_path, monkeypatch):
    write(tmp_path, "fills/partial.yaml", "name: partial fills\n")
    monkeypatch.setenv("FAKE_TWS_SCENARIO_PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path / "fills")  # so "fills/partial.yaml" is not a local path
    assert load_scenario("fills/partial.yaml").name == "partial fills"
    assert load_scenario("fills/partial").name == "partial fills"


def test_event_names_are_the_event_types():
    assert set(get_args(EventName)) == set(EVENT_TYPES)


def test_action_names_are_the_step_fields():
    assert ACTION_NAMES[0] == "fill" and "respond" in ACTION_NAMES
    assert set(ACTION_NAMES) >= BARE_ACTIONS


def test_farm_kind_comes_from_the_name_unless_given():
    assert FarmStatus(farm="ushmds", state="broken").code == 2105
    assert FarmStatus(farm="secdefnj", state="ok").code == 2158
    assert FarmStatus(farm="usfarm", state="inactive").code == 2108
    assert FarmStatus(farm="odd", state="ok", kind="hmds").code == 2106
