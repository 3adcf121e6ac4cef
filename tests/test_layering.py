"""The dependency rules of DESIGN.md, checked on the source of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fake_tws"

# Which parts of fake_tws each layer may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "fake_tws.ibtypes": set(),
    "fake_tws.protocol": {"fake_tws.ibtypes"},
    "fake_tws.broker": {"fake_tws.ibtypes"},
    "fake_tws.clock": set(),
}
CLIENTS = ("ibapi", "ib_async", "adapter", "nautilus_trader")
# Only the demo puts fake_tws and the clients together.
MAY_IMPORT_CLIENTS = {"fake_tws.demo", "fake_tws.demo.node", "fake_tws.demo.strategy"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def violations(name: str, imports: set[str]) -> list[str]:
    """What module `name` may not import among `imports`."""
    bad = []
    if name not in MAY_IMPORT_CLIENTS:
        bad += sorted(i for i in imports if i.split(".")[0] in CLIENTS)
    for layer, allowed in ALLOWED.items():
        if name == layer or name.startswith(layer + "."):
            bad += sorted(
                i
                for i in imports
                if i.startswith("fake_tws.")
                and not i.startswith(layer)
                and not any(i == a or i.startswith(a + ".") for a in allowed)
            )
    return bad


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_module_respects_the_layers(path: Path):
    assert violations(module_name(path), imports_of(path)) == []


def test_the_checker_reports_a_layer_violation_and_a_client_import():
    assert violations("fake_tws.broker.market", {"fake_tws.protocol.codec"}) == [
        "fake_tws.protocol.codec"
    ]
    assert violations("fake_tws.session", {"ibapi.client"}) == ["ibapi.client"]
    assert violations("fake_tws.demo", {"ibapi.client"}) == []
    assert violations("fake_tws.broker.market", {"fake_tws.ibtypes.order"}) == []


def test_relative_imports_resolve_to_their_absolute_names():
    assert "fake_tws.ibtypes" in imports_of(PACKAGE / "broker" / "world.py")
    assert "fake_tws.protocol.fields" in imports_of(PACKAGE / "protocol" / "codec.py")
