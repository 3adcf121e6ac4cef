"""Scenario files: a small YAML language saying "when the client sends this, do that".

    from fake_tws.scenario import load_scenario
    scenario = load_scenario("tests/scenarios/partial_fill.yaml")

`schema` is the language's typed shape, `loader` reads files into it (every mistake
located to file:line:col), `library` finds shipped scenarios by name, `matchers` says
how `where:` matches a message.
"""

from .errors import ScenarioError, ScenarioIssue
from .library import ScenarioNotFound, find_scenario, list_scenarios
from .loader import load_scenario, parse_scenario, scenario_json_schema, validate_files
from .schema import Location, Rule, Scenario, When, World

__all__ = [
    "Location",
    "Rule",
    "Scenario",
    "ScenarioError",
    "ScenarioIssue",
    "ScenarioNotFound",
    "When",
    "World",
    "find_scenario",
    "list_scenarios",
    "load_scenario",
    "parse_scenario",
    "scenario_json_schema",
    "validate_files",
]
