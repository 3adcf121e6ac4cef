"""Load scenario files into typed `Scenario`s, with every mistake located.

    load_scenario("tests/scenarios/fills.yaml") -> Scenario     (raises ScenarioError)
    validate_files([...]) -> list[ScenarioIssue]                (for linters and CI)

A file may `include:` others (paths relative to it, else names in the shipped library).
Included files come first: their worlds merge key by key under the including file's
(lists are replaced, not appended) and their rules run before its rules. Each file is
read once even when included twice; an include cycle is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import yaml

from .actions import ACTION_NAMES, BARE_ACTIONS
from .checks import Checker, PlacedRule
from .durations import Duration, TimePoint
from .editor_schema import scenario_json_schema
from .errors import (
    ScenarioError,
    ScenarioIssue,
    SourceDoc,
    display_path,
    issue_at_node,
    unknown_key_issues,
    validation_issue,
)
from .library import ScenarioNotFound, find_scenario
from .paths import suggestion
from .schema import Location, Scenario, ScenarioFile, World
from .yaml_nodes import NodeError, compose, node_at, to_data

__all__ = ["load_scenario", "parse_scenario", "scenario_json_schema", "validate_files"]


def _dec_hook(t: type, value: Any) -> Any:
    if t is Duration:
        return Duration.parse(value)
    if t is TimePoint:
        return TimePoint.parse(value)
    raise NotImplementedError(t)


def convert(data: Any, t: type) -> Any:
    """msgspec conversion as the loader does it: strict types, scenario value types."""
    return msgspec.convert(data, t, strict=True, dec_hook=_dec_hook)


@dataclass
class _File:
    doc: SourceDoc
    data: dict[str, Any]
    parsed: ScenarioFile


class _Composer:
    def __init__(self) -> None:
        self.files: dict[Path, _File | None] = {}  # None: read but broken
        self.order: list[Path] = []
        self.issues: list[ScenarioIssue] = []

    def load(self, path: Path, text: str | None, stack: tuple[Path, ...]) -> None:
        if path in self.files:
            return
        self.files[path] = None
        loaded = self._read(path, text)
        if loaded is None:
            return
        for i, name in enumerate(loaded.parsed.include):
            target = self._resolve_include(loaded.doc, i, name)
            if target is None:
                continue
            if target in (*stack, path):
                chain = " -> ".join(display_path(p) for p in (*stack, path, target))
                self.issues.append(loaded.doc.issue(["include", i], f"include cycle: {chain}"))
                continue
            self.load(target, None, (*stack, path))
        self.files[path] = loaded
        self.order.append(path)

    def _read(self, path: Path, text: str | None) -> _File | None:
        doc = SourceDoc(path, None)
        if text is None:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                self.issues.append(ScenarioIssue(doc.display, None, None, "", f"cannot read: {e}"))
                return None
        try:
            root = compose(text)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            problem = e.problem or e.context or "invalid YAML"
            line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
            self.issues.append(ScenarioIssue(doc.display, line, col, "", f"YAML: {problem}"))
            return None
        doc = SourceDoc(path, root)
        try:
            data = to_data(root)
        except NodeError as e:
            self.issues.append(issue_at_node(doc.display, e.node, "", e.message))
            return None
        if not isinstance(data, dict):
            message = "expected a mapping at the top level (world:, rules:, include:)"
            self.issues.append(issue_at_node(doc.display, root, "", message))
            return None
        problems = _expand_shorthands(doc, data) + unknown_key_issues(doc, data, ScenarioFile)
        if problems:
            self.issues.extend(problems)
            return None
        try:
            parsed = convert(data, ScenarioFile)
        except msgspec.ValidationError as e:
            self.issues.append(
                validation_issue(
                    e,
                    doc=doc,
                    root_type=ScenarioFile,
                    data=data,
                    convert=lambda d: convert(d, ScenarioFile),
                )
            )
            return None
        return _File(doc, data, parsed)

    def _resolve_include(self, doc: SourceDoc, i: int, name: str) -> Path | None:
        local = (doc.path.parent / name).resolve()
        if local.is_file():
            return local
        try:
            return find_scenario(name).resolve()
        except ScenarioNotFound as e:
            text = f'include "{name}" is not next to this file ({local.parent}), and {e.reason}'
            self.issues.append(doc.issue(["include", i], text))
            return None

    def compose(self, root: Path) -> Scenario:
        loaded = [f for p in self.order if (f := self.files[p]) is not None]
        world, world_doc = self._world(loaded)
        placed = [
            PlacedRule(rule, f.doc, i) for f in loaded for i, rule in enumerate(f.parsed.rules)
        ]
        if self.issues:  # a broken file's rules are missing: cross-checks would mislead
            raise ScenarioError(self.issues)
        checker = Checker(placed, world, world_doc)
        self.issues.extend(checker.run())
        if self.issues:
            raise ScenarioError(self.issues)
        root_file = self.files[root].parsed
        return Scenario(
            name=root_file.name or root.stem,
            description=root_file.description,
            world=world,
            rules=tuple(checker.normalized),
            files=tuple(self.order),
            rule_locations={p.rule.id: _location(p) for p in placed},
        )

    def _world(self, loaded: list[_File]) -> tuple[World, SourceDoc | None]:
        merged: dict[str, Any] = {}
        last: _File | None = None
        for f in loaded:
            if "world" in f.data:
                merged = _merge(merged, f.data["world"])
                last = f
        if last is None:
            return World(), None
        try:
            return convert(merged, World), last.doc
        except msgspec.ValidationError as e:
            # Each file's world was valid alone; only their combination can fail here.
            self.issues.append(
                validation_issue(
                    e,
                    doc=last.doc,
                    root_type=World,
                    data=merged,
                    convert=lambda d: convert(d, World),
                    prefix=["world"],
                )
            )
            return World(), None


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario file (or a shipped scenario's name) with its includes composed.

    Raises ScenarioError listing every located problem found.
    """
    file = Path(path)
    if not file.is_file():
        if file.is_absolute():
            raise ScenarioError([ScenarioIssue(str(path), None, None, "", "no such file")])
        try:
            file = find_scenario(str(path))
        except ScenarioNotFound as e:
            message = f"no such file, and {e.reason}"
            raise ScenarioError([ScenarioIssue(str(path), None, None, "", message)]) from None
    return _load(file.resolve(), None)


def parse_scenario(text: str, source: str | Path = "<scenario>") -> Scenario:
    """Load a scenario from text; `source` names it in errors and anchors its includes."""
    return _load(Path(source).resolve(), text)


def _load(path: Path, text: str | None) -> Scenario:
    composer = _Composer()
    composer.load(path, text, ())
    return composer.compose(path)


def validate_files(paths: Iterable[str | Path]) -> list[ScenarioIssue]:
    """Every problem in the given scenario files (a file included twice is reported once)."""
    found: dict[ScenarioIssue, None] = {}
    for path in paths:
        try:
            load_scenario(path)
        except ScenarioError as e:
            found.update(dict.fromkeys(e.issues))
    return list(found)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _location(p: PlacedRule) -> Location:
    node, _ = node_at(p.doc.root, tuple(p.at("id")))
    mark = node.start_mark
    return Location(p.doc.path, mark.line + 1, mark.column + 1)


_SLICE = re.compile(r"^\s*([^@\s]+)\s*@\s*([^@\s]+)\s*$")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _expand_shorthands(doc: SourceDoc, data: dict[str, Any]) -> list[ScenarioIssue]:
    """Rewrite, in place, the short forms the schema itself does not describe:
    a bare action name (`- cancel`) and a partial-fill slice written "40@150.25"."""
    issues: list[ScenarioIssue] = []
    rules = data.get("rules")
    for i, rule in enumerate(rules if isinstance(rules, list) else ()):
        steps = rule.get("do") if isinstance(rule, dict) else None
        for j, step in enumerate(steps if isinstance(steps, list) else ()):
            at = ["rules", i, "do", j]
            if isinstance(step, str):
                if step in BARE_ACTIONS:
                    steps[j] = step = {step: {}}
                elif step in ACTION_NAMES:
                    issues.append(doc.issue(at, f'"{step}" needs a value: write "{step}: ..."'))
                else:
                    hint = (
                        suggestion(step, ACTION_NAMES) or f" (actions: {', '.join(ACTION_NAMES)})"
                    )
                    issues.append(doc.issue(at, f'unknown action "{step}"{hint}'))
            slices = step.get("partial_fill") if isinstance(step, dict) else None
            for k, item in enumerate(slices if isinstance(slices, list) else ()):
                if isinstance(item, str):
                    issues.extend(_expand_slice(doc, [*at, "partial_fill", k], slices, k, item))
    return issues


def _expand_slice(doc: SourceDoc, at: list, slices: list, k: int, text: str) -> list[ScenarioIssue]:
    m = _SLICE.match(text)
    if not m:
        example = '"40@150.25" or {quantity: 40, price: 150.25}'
        return [doc.issue(at, f'expected a slice like {example}, got "{text}"')]
    values = {}
    for name, raw in (("quantity", m.group(1)), ("price", m.group(2))):
        value = _number(raw)
        if value is None or value <= 0:
            wanted = "a number" if value is None else "a number > 0"
            return [doc.issue([*at, name], f'expected {wanted}, got "{raw}"')]
        values[name] = value
    slices[k] = values
    return []
