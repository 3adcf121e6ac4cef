"""Located scenario errors: `file:line:col: field.path: what was expected`.

msgspec reports a validation failure as "Expected `int`, got `str` - at `$.a[2].b`";
this module maps that path back to the YAML node (for the line and column) and says
it in the file's own terms: "expected an integer, got "abc"".
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from msgspec import inspect as mi
from yaml.nodes import Node, ScalarNode

from .actions import Step
from .matchers import BINDING_PATTERN
from .paths import suggestion, type_info, unwrap
from .yaml_nodes import Segment, key_node, node_at, show


@dataclass(frozen=True)
class ScenarioIssue:
    """One problem in a scenario file, with where it is."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario could not be loaded; `issues` says every problem found."""

    def __init__(self, issues: Sequence[ScenarioIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


def display_path(path: Path) -> str:
    """The path relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def format_path(segments: Sequence[Segment]) -> str:
    out = ""
    for s in segments:
        if isinstance(s, int):
            out += f"[{s}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", s):
            out += f".{s}" if out else s
        else:
            out += f'["{s}"]'
    return out


@dataclass(frozen=True)
class SourceDoc:
    """One parsed file: where it is, how to show it, and its node tree."""

    path: Path
    root: Node | None

    @property
    def display(self) -> str:
        return display_path(self.path)

    def issue(
        self, segments: Sequence[Segment], message: str, *, at_key: str | None = None
    ) -> ScenarioIssue:
        """An issue at the node for `segments` (or its key `at_key`, for unknown fields)."""
        node, _ = node_at(self.root, tuple(segments))
        shown = list(segments)
        if at_key is not None:
            node = key_node(node, at_key) or node
            shown.append(at_key)
        return issue_at_node(self.display, node, format_path(shown), message)


def issue_at_node(file: str, node: Node | None, path: str, message: str) -> ScenarioIssue:
    if node is None:
        return ScenarioIssue(file, None, None, path, message)
    mark = node.start_mark
    return ScenarioIssue(file, mark.line + 1, mark.column + 1, path, message)


# --- translating msgspec validation errors ----------------------------------------------

_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>.*)`)?$", re.S)
_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[(\.\.\.)\]")
_ANY_KEY = object()  # msgspec's `[...]`: an entry of a dict, key not reported

_TYPE_WORDS = {
    "int": "an integer",
    "float": "a number",
    "decimal": "a number",
    "str": "a string",
    "bool": "true or false",
    "array": "a list",
    "object": "a mapping",
    "datetime": "a date-time",
}
_PATTERN_WORDS = {
    BINDING_PATTERN: 'a number or a $binding like "$orderId"',
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$": "an id of letters, digits and _ . : -",
}


def _parse_path(text: str | None) -> list[Any]:
    out: list[Any] = []
    for name, index, _ in _SEGMENT.findall(text or ""):
        out.append(name or (int(index) if index else _ANY_KEY))
    return out


def _type_words(spec: str) -> str:
    words: list[str] = []
    for part in spec.split(" | "):
        word = _TYPE_WORDS.get(part, part)
        if part == "null" or word in words:
            continue
        words.append(word)
    if "an integer" in words and "a number" in words:
        words.remove("an integer")
    return " or ".join(words) if words else "null"


def _constraint_words(constraint: str) -> str:
    m = re.fullmatch(r"matching regex '(.*)'", constraint)
    if m:
        return _PATTERN_WORDS.get(m.group(1), f"matching {m.group(1)}")
    if constraint == "with a timezone component":
        return "with a UTC offset, e.g. 2026-01-05T09:30:00-05:00"
    m = re.fullmatch(r"of length >= (\d+)", constraint)
    if m:
        return f"with at least {m.group(1)} item(s)" if m.group(1) != "1" else "that is not empty"
    return re.sub(r"(\d+)\.0\b", r"\1", constraint)


def type_at(root: mi.Type, segments: Sequence[Any]) -> mi.Type | None:
    """The schema type at a data path (dict keys: any string)."""
    t: mi.Type | None = root
    for s in segments:
        t = _member_for(t, s)
        if t is None:
            return None
    return t


def _member_for(t: mi.Type | None, segment: Any) -> mi.Type | None:
    t = unwrap(t) if t is not None else None
    options = t.types if isinstance(t, mi.UnionType) else (t,)
    for option in options:
        option = unwrap(option)
        if isinstance(option, mi.StructType) and isinstance(segment, str):
            for f in option.fields:
                if f.encode_name == segment:
                    return f.type
        if isinstance(option, mi.DictType) and not isinstance(segment, int):
            return option.value_type
        if isinstance(option, mi.ListType | mi.VarTupleType) and isinstance(segment, int):
            return option.item_type
    return None


def _struct_at(root: mi.Type, segments: Sequence[Any]) -> mi.StructType | None:
    t = type_at(root, segments)
    if t is None:
        return None
    t = unwrap(t)
    options = t.types if isinstance(t, mi.UnionType) else (t,)
    return next((unwrap(o) for o in options if isinstance(unwrap(o), mi.StructType)), None)


def _enum_values(root: mi.Type, segments: Sequence[Any]) -> list[str]:
    t = type_at(root, segments)
    t = unwrap(t) if t is not None else None
    options = t.types if isinstance(t, mi.UnionType) else (t,)
    for o in options:
        if isinstance(unwrap(o), mi.LiteralType):
            return [str(v) for v in unwrap(o).values]
    return []


def _pin_dict_keys(
    err: msgspec.ValidationError, data: Any, convert: Callable[[Any], object]
) -> tuple[str, list[Segment]]:
    """Replace each `[...]` in the error's path with the key whose entry fails.

    msgspec does not name dict keys in error paths, so each entry of the dict is tried
    on its own (the rest of the data unchanged) until the failing one is found.
    """
    data = copy.deepcopy(data)
    pinned: list[str] = []
    while True:
        m = _AT.match(str(err))
        segments = _parse_path(m.group("path"))
        for key in pinned:
            segments[segments.index(_ANY_KEY)] = key
        if _ANY_KEY not in segments:
            return m.group("message"), segments
        at = segments.index(_ANY_KEY)
        holder = _walk(data, segments[:at])
        if not isinstance(holder, dict):
            return m.group("message"), segments[:at]
        for key, value in list(holder.items()):
            holder.clear()
            holder[key] = value
            try:
                convert(data)
            except msgspec.ValidationError as narrowed:
                err = narrowed
                pinned.append(key)
                break
        else:
            return m.group("message"), segments[:at]


def _walk(data: Any, segments: Sequence[Any]) -> Any:
    for s in segments:
        if isinstance(data, dict) and isinstance(s, str):
            data = data.get(s)
        elif isinstance(data, list) and isinstance(s, int) and s < len(data):
            data = data[s]
        else:
            return None
    return data


def validation_issue(
    err: msgspec.ValidationError,
    *,
    doc: SourceDoc,
    root_type: type,
    data: Any,
    convert: Callable[[Any], object],
    prefix: Sequence[Segment] = (),
) -> ScenarioIssue:
    """A located, plainly worded issue for a msgspec error raised by `convert(data)`.

    `prefix` is where `data` sits in the file, when only part of it was converted.
    """
    message, segments = _pin_dict_keys(err, data, convert)
    root = type_info(root_type)
    full = [*prefix, *segments]

    m = re.fullmatch(r"Object contains unknown field `(.+)`", message)
    if m:
        return doc.issue(full, _unknown_field(root, segments, m.group(1)), at_key=m.group(1))

    m = re.fullmatch(r"Object missing required field `(.+)`", message)
    if m:
        return doc.issue(full, f'missing required field "{m.group(1)}"')

    node, _ = node_at(doc.root, tuple(full))
    got = show(node)
    m = re.fullmatch(r"Expected `(.+?)`, got `(.+?)`", message)
    if m:
        text = f"expected {_type_words(m.group(1))}, got {got}"
        if m.group(1) == "str" and isinstance(node, ScalarNode):
            text += f' (quote it: "{node.value}")'
        return doc.issue(full, text)

    m = re.fullmatch(r"Expected `(.+?)` (.+)", message)
    if m:
        constraint = _constraint_words(m.group(2))
        words = _type_words(m.group(1))
        if m.group(2).startswith("matching regex"):
            return doc.issue(full, f"expected {constraint}, got {got}")
        return doc.issue(full, f"expected {words} {constraint}, got {got}")

    if message.startswith("Invalid enum value"):
        choices = _enum_values(root, segments)
        value = node.value if isinstance(node, ScalarNode) else got
        text = f"expected one of {', '.join(choices)}; got {got}{suggestion(str(value), choices)}"
        return doc.issue(full, text)

    if message == "Invalid decimal string":
        return doc.issue(full, f"expected a number, got {got}")

    # Our own checks (durations, times, one-action-per-step...) already speak plainly.
    if message.startswith("expected") and ", got" not in message and "; got" not in message:
        message = f"{message}, got {got}"
    return doc.issue(full, message)


def _unknown_field(root: mi.Type, segments: Sequence[Any], name: str) -> str:
    struct = _struct_at(root, segments)
    names = [f.encode_name for f in struct.fields] if struct else []
    is_step = struct is not None and struct.cls is Step
    what = "action" if is_step else "field"
    hint = suggestion(name, names)
    if not hint and names and (is_step or len(names) <= 12):
        hint = f" ({what}s: {', '.join(names)})"
    return f'unknown {what} "{name}"{hint}'


def unknown_key_issues(
    doc: SourceDoc, data: Any, root_type: type, prefix: Sequence[Segment] = ()
) -> list[ScenarioIssue]:
    """Every key that names no field, anywhere in `data`.

    Runs before msgspec so all such slips are reported at once, with suggestions, and
    so structs borrowed from IB's vocabulary (Contract, Order), which tolerate unknown
    fields on the wire, are strict in scenario files.
    """
    issues: list[ScenarioIssue] = []
    _collect_unknown(doc, data, type_info(root_type), list(prefix), issues)
    return issues


def _collect_unknown(
    doc: SourceDoc,
    data: Any,
    t: mi.Type,
    at: list[Segment],
    issues: list[ScenarioIssue],
) -> None:
    t = unwrap(t)
    options = t.types if isinstance(t, mi.UnionType) else (t,)
    for option in (unwrap(o) for o in options):
        if isinstance(data, dict) and isinstance(option, mi.StructType):
            fields = {f.encode_name: f for f in option.fields}
            for key, value in data.items():
                if key not in fields:
                    message = _unknown_field(option, [], key)
                    issues.append(doc.issue(at, message, at_key=key))
                else:
                    _collect_unknown(doc, value, fields[key].type, [*at, key], issues)
            return
        if isinstance(data, dict) and isinstance(option, mi.DictType):
            for key, value in data.items():
                _collect_unknown(doc, value, option.value_type, [*at, key], issues)
            return
        if isinstance(data, list) and isinstance(option, mi.ListType | mi.VarTupleType):
            for i, item in enumerate(data):
                _collect_unknown(doc, item, option.item_type, [*at, i], issues)
            return
