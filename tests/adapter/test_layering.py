"""The adapter stands alone: it imports neither the fake server nor NautilusTrader's adapter."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ADAPTER = Path(__file__).resolve().parents[2] / "adapter"
FORBIDDEN = ("fake_tws", "nautilus_trader.adapters.interactive_brokers")


def imported_modules(source: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize(
    "source", sorted(ADAPTER.rglob("*.py")), ids=lambda p: str(p.relative_to(ADAPTER))
)
def test_module_imports_nothing_forbidden(source):
    forbidden = {m for m in imported_modules(source) if m.startswith(FORBIDDEN)}
    assert forbidden == set()
