"""The shipped library as a whole: every scenario loads, is described, and has a test."""

from __future__ import annotations

from pathlib import Path

import pytest

from fake_tws.scenario import load_scenario, validate_files
from fake_tws.scenario.engine import scenario_config

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios"
TESTS = Path(__file__).resolve().parent
SCENARIOS = sorted(
    p.relative_to(LIBRARY).with_suffix("").as_posix()
    for p in LIBRARY.rglob("*.yaml")
    if not p.name.startswith("_")  # parts other scenarios include
)


def test_the_library_is_large_and_grouped_by_theme():
    assert len(SCENARIOS) >= 25
    themes = {name.split("/")[0] for name in SCENARIOS}
    assert themes >= {"orders", "faults", "connection", "data", "contracts"}


def test_every_file_loads_without_a_problem():
    assert validate_files(sorted(LIBRARY.rglob("*.yaml"))) == []


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_scenario_is_described_and_runs_a_server_config(name):
    scenario = load_scenario(name)
    assert scenario.name and scenario.description.strip()
    scenario_config(scenario)


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_scenario_has_a_test_with_a_real_client(name):
    sources = "".join(p.read_text() for p in TESTS.glob("test_library_*.py"))
    assert f'served("{name}"' in sources, f"no test_library_*.py serves {name}"
