"""Load scenario text in tests and read back its located errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

from fake_tws.scenario import Scenario, ScenarioError, parse_scenario

FIXTURES = Path(__file__).parent / "fixtures"


def load_text(text: str, source: str | Path = "test.yaml") -> Scenario:
    return parse_scenario(textwrap.dedent(text), source)


def errors_of(text: str, source: str | Path = "test.yaml") -> list[str]:
    """Each problem as "line:col: path: message" (the file name is checked elsewhere)."""
    try:
        load_text(text, source)
    except ScenarioError as e:
        return [str(i).split(":", 1)[1] if i.line else str(i) for i in e.issues]
    raise AssertionError("the scenario loaded without errors")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path
