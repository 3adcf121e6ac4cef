"""Checks that need the whole composed scenario, not one file's shape:
request names and their fields, bindings, rule references, replies' message types.

Each check reports located issues; `where` shorthand keys come back as full paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
from msgspec import inspect as mi

from fake_tws.protocol import table

from .actions import ORDER_ACTIONS, Step
from .errors import ScenarioIssue, SourceDoc, unknown_key_issues, validation_issue
from .events import EVENT_TYPES
from .matchers import BINDING_RE, Op, is_binding
from .paths import FieldPathError, resolve_path, suggestion, type_info, unwrap
from .schema import Rule, World
from .yaml_nodes import Segment, node_at


@dataclass
class PlacedRule:
    """A rule and the file and index it was written at."""

    rule: Rule
    doc: SourceDoc
    index: int

    def at(self, *segments: Segment) -> list[Segment]:
        return ["rules", self.index, *segments]

    def issue(self, message: str, *segments: Segment, at_key: str | None = None):
        return self.doc.issue(self.at(*segments), message, at_key=at_key)


def _unknown_name(kind: str, name: str, known: dict[str, type]) -> str:
    return f'unknown {kind} "{name}"{suggestion(name, known)}'


# --- literal values against field types ---------------------------------------------------


def _options(t: mi.Type) -> list[mi.Type]:
    t = unwrap(t)
    return [unwrap(o) for o in t.types] if isinstance(t, mi.UnionType) else [t]


def describe_type(t: mi.Type) -> str:
    words = []
    for o in _options(t):
        if isinstance(o, mi.StrType):
            words.append("a string")
        elif isinstance(o, mi.BoolType):
            words.append("true or false")
        elif isinstance(o, mi.IntType):
            words.append("an integer")
        elif isinstance(o, mi.FloatType | mi.DecimalType):
            words.append("a number")
        elif isinstance(o, mi.LiteralType):
            words.append("one of " + ", ".join(map(str, o.values)))
        elif isinstance(o, mi.StructType):
            words.append(f"a {o.cls.__name__}")
        elif isinstance(o, mi.NoneType):
            continue
        else:
            words.append("a list" if hasattr(o, "item_type") else "a value")
    return " or ".join(dict.fromkeys(words)) or "null"


def fits(t: mi.Type, value: Any) -> bool:
    """Whether a literal from a file can equal a value of field type `t`."""
    for o in _options(t):
        if isinstance(o, mi.AnyType):
            return True
        if isinstance(o, mi.NoneType) and value is None:
            return True
        if isinstance(o, mi.StrType) and isinstance(value, str):
            return True
        if isinstance(o, mi.BoolType) and isinstance(value, bool):
            return True
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(o, mi.IntType) and isinstance(value, int):
            return True
        if isinstance(o, mi.FloatType | mi.DecimalType) and isinstance(value, int | float):
            return True
        if isinstance(o, mi.LiteralType) and value in o.values:
            return True
    return False


def _is_numeric(t: mi.Type) -> bool:
    return any(isinstance(o, mi.IntType | mi.FloatType | mi.DecimalType) for o in _options(t))


def _is_text(t: mi.Type) -> bool:
    return any(isinstance(o, mi.StrType) for o in _options(t))


def _shown(value: Any) -> str:
    return msgspec.json.encode(value).decode()


# --- the checks ---------------------------------------------------------------------------


class Checker:
    def __init__(self, placed: list[PlacedRule], world: World, world_doc: SourceDoc | None):
        self.placed = placed
        self.world = world
        self.world_doc = world_doc
        self.issues: list[ScenarioIssue] = []
        self.rules: dict[str, PlacedRule] = {}
        self.normalized: list[Rule] = []

    def run(self) -> list[ScenarioIssue]:
        for p in self.placed:
            self._check_unique_id(p)
        self._check_world()
        global_bindings = self._explicit_bindings()
        for p in self.placed:
            rule = self._check_trigger(p)
            self._check_steps(p, global_bindings)
            self.normalized.append(rule)
        return self.issues

    def _check_unique_id(self, p: PlacedRule) -> None:
        first = self.rules.get(p.rule.id)
        if first is None:
            self.rules[p.rule.id] = p
            return
        node, _ = node_at(first.doc.root, tuple(first.at("id")))
        where = f"{first.doc.display}:{node.start_mark.line + 1}" if node else first.doc.display
        self.issues.append(p.issue(f'duplicate rule id "{p.rule.id}" (first at {where})', "id"))

    def _check_world(self) -> None:
        if self.world_doc is None:
            return
        ids = [a.id for a in self.world.accounts]
        seen: set[str] = set()
        for i, account_id in enumerate(ids):
            if account_id in seen:
                self.issues.append(
                    self.world_doc.issue(
                        ["world", "accounts", i, "id"], f'duplicate account "{account_id}"'
                    )
                )
            seen.add(account_id)
        for i, name in enumerate(self.world.managed_accounts or ()):
            if name not in seen:
                text = f'"{name}" is not one of the accounts{suggestion(name, ids)}'
                self.issues.append(self.world_doc.issue(["world", "managed_accounts", i], text))

    # triggers

    def _message_type(self, p: PlacedRule) -> type | None:
        when = p.rule.when
        if when.request is not None:
            if when.request not in table.REQUESTS_BY_NAME:
                text = _unknown_name("request", when.request, table.REQUESTS_BY_NAME)
                self.issues.append(p.issue(text, "when", "request"))
                return None
            return table.REQUESTS_BY_NAME[when.request]
        if when.event is not None:
            return EVENT_TYPES[when.event]
        return None

    def _check_trigger(self, p: PlacedRule) -> Rule:
        when = p.rule.when
        if when.after is not None and when.after not in self.rules:
            text = f'no rule has id "{when.after}"{suggestion(when.after, self.rules)}'
            self.issues.append(p.issue(text, "when", "after"))
        moment = when.at.absolute if when.at is not None else None
        if moment is not None and moment < self.world.start:
            start = self.world.start.isoformat()
            text = f"this is before the world starts ({start}); it would never fire"
            self.issues.append(p.issue(text, "when", "at"))
        cls = self._message_type(p)
        if cls is None or not when.where:
            return p.rule
        where: dict[str, Any] = {}
        for key, matcher in when.where.items():
            try:
                full, field_type = resolve_path(cls, key)
            except FieldPathError as e:
                self.issues.append(p.issue(str(e), "when", "where", at_key=key))
                continue
            path = ".".join(full)
            if path in where:
                text = f'"{key}" names {path} again'
                self.issues.append(p.issue(text, "when", "where", at_key=key))
            where[path] = matcher
            self._check_matcher(p, ["when", "where", key], path, field_type, matcher)
        new_when = msgspec.structs.replace(when, where=where)
        return msgspec.structs.replace(p.rule, when=new_when)

    def _check_matcher(
        self, p: PlacedRule, at: list[Segment], path: str, t: mi.Type, matcher: Any
    ) -> None:
        if isinstance(matcher, Op):
            for name, operand in matcher.operators().items():
                self._check_operator(p, [*at, name], path, t, name, operand)
        elif is_binding(matcher):
            if not BINDING_RE.match(matcher):
                text = (
                    f'"{matcher}" is not a binding name ($ then letters, digits, _); '
                    f'to match the text itself write {{eq: "{matcher}"}}'
                )
                self.issues.append(p.issue(text, *at))
        elif not fits(t, matcher):
            text = f"{path} is {describe_type(t)}; got {_shown(matcher)}"
            if _is_text(t) and not isinstance(matcher, str):
                text += f' (quote it: "{matcher}")' if matcher is not None else ""
            self.issues.append(p.issue(text, *at))

    def _check_operator(
        self, p: PlacedRule, at: list[Segment], path: str, t: mi.Type, op: str, operand: Any
    ) -> None:
        if op in ("gt", "ge", "lt", "le") and not _is_numeric(t):
            text = f"{op} compares numbers; {path} is {describe_type(t)}"
            self.issues.append(p.issue(text, *at))
        elif op == "regex" and not _is_text(t):
            text = f"regex matches text; {path} is {describe_type(t)}"
            self.issues.append(p.issue(text, *at))
        elif op == "regex":
            try:
                re.compile(operand)
            except re.error as e:
                self.issues.append(p.issue(f"regex {operand!r} does not compile: {e}", *at))
        elif op in ("eq", "ne") and not fits(t, operand):
            text = f"{path} is {describe_type(t)}; got {_shown(operand)}"
            self.issues.append(p.issue(text, *at))
        elif op in ("in", "not_in"):
            for i, item in enumerate(operand):
                if not fits(t, item):
                    text = f"{path} is {describe_type(t)}; got {_shown(item)}"
                    self.issues.append(p.issue(text, *at, i))

    # bindings

    def _explicit_bindings(self) -> set[str]:
        names = set()
        for p in self.placed:
            for matcher in p.rule.when.where.values():
                if is_binding(matcher) and BINDING_RE.match(matcher):
                    names.add(matcher[1:])
        return names

    def _implicit_bindings(self, rule: Rule, seen: frozenset[str] = frozenset()) -> set[str]:
        when = rule.when
        if when.request is not None:
            cls = table.REQUESTS_BY_NAME.get(when.request)
            if cls is None:
                return set()
            return {f.encode_name for f in msgspec.structs.fields(cls)} | {"clientId"}
        if when.event is not None:
            return {f.encode_name for f in msgspec.structs.fields(EVENT_TYPES[when.event])}
        target = self.rules.get(when.after) if when.after else None
        if target is None or rule.id in seen:
            return set()
        return self._implicit_bindings(target.rule, seen | {rule.id})

    def _check_steps(self, p: PlacedRule, global_bindings: set[str]) -> None:
        when = p.rule.when
        # An unknown request name or rule id is already reported; bindings would guess.
        check_bindings = (when.request is None or when.request in table.REQUESTS_BY_NAME) and (
            when.after is None or when.after in self.rules
        )
        bound = self._implicit_bindings(p.rule) | global_bindings
        for j, step in enumerate(p.rule.do):
            kind = step.kind
            if kind == "respond" and p.rule.when.kind != "request":
                text = f"respond answers a request; this rule's trigger is `{p.rule.when.kind}`"
                self.issues.append(p.issue(text, "do", j))
            if kind == "advance_clock" and self.world.clock != "virtual":
                text = "advance_clock needs `clock: virtual` in the world"
                self.issues.append(p.issue(text, "do", j))
            for at, name in _binding_uses(step):
                if name[1:] in bound or not check_bindings:
                    continue
                self.issues.append(self._binding_issue(p, ["do", j, *at], name, bound))
            if kind in ("respond", "send"):
                for k, spec in enumerate(step.spec):
                    self._check_message(p, ["do", j, kind, k], spec)

    def _binding_issue(
        self, p: PlacedRule, at: list[Segment], name: str, bound: set[str]
    ) -> ScenarioIssue:
        trigger = p.rule.when.kind
        _, depth = node_at(p.doc.root, tuple(p.at(*at)))
        if depth < len(p.at(*at)):  # not in the file: the default "$orderId" of an order action
            action = at[2]
            text = (
                f"{action} acts on $orderId, but this rule's `{trigger}` trigger binds no "
                f"order id; say which order with `order:`"
            )
            return p.issue(text, *at[:3])
        hint = suggestion(name, {f"${b}" for b in bound})
        known = ", ".join(f"${b}" for b in sorted(bound)) or "none"
        text = f'unknown binding "{name}"{hint} (bound here: {known})'
        return p.issue(text, *at)

    def _check_message(self, p: PlacedRule, at: list[Segment], spec: dict[str, Any]) -> None:
        if len(spec) != 1:
            names = ", ".join(spec) or "none"
            text = f"expected one message as {{apiName: {{fields}}}}, got {names}"
            self.issues.append(p.issue(text, *at))
            return
        ((name, fields),) = spec.items()
        cls = table.RESPONSES_BY_NAME.get(name)
        if cls is None:
            text = _unknown_name("response", name, table.RESPONSES_BY_NAME)
            self.issues.append(p.issue(text, *at, at_key=name))
            return
        where = p.at(*at, name)
        unknown = unknown_key_issues(p.doc, fields, cls, where)
        if unknown:
            self.issues.extend(unknown)
            return
        info = type_info(cls)

        def convert(data: Any) -> object:
            return msgspec.convert(_with_dummies(data, info), cls, strict=True)

        try:
            convert(fields)
        except msgspec.ValidationError as e:
            self.issues.append(
                validation_issue(
                    e, doc=p.doc, root_type=cls, data=fields, convert=convert, prefix=where
                )
            )


def _binding_uses(step: Step) -> Iterator[tuple[list[Segment], str]]:
    """(path within the step, "$name") for each binding an action refers to."""
    kind, spec = step.kind, step.spec
    if kind in ORDER_ACTIONS:
        slices = spec if kind == "partial_fill" else (spec,)
        for i, s in enumerate(slices):
            at = [kind, i, "order"] if kind == "partial_fill" else [kind, "order"]
            if isinstance(s.order, str):
                yield at, s.order
    elif kind in ("error", "pacing_violation", "revise_bar") and isinstance(spec.reqId, str):
        yield [kind, "reqId"], spec.reqId
    elif kind in ("respond", "send"):
        for k, message in enumerate(spec):
            for name, fields in message.items():
                for at, value in _strings(fields, [kind, k, name]):
                    if is_binding(value):
                        yield at, value


def _strings(value: Any, at: list[Segment]) -> Iterator[tuple[list[Segment], str]]:
    if isinstance(value, str):
        yield at, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, [*at, k])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, [*at, i])


def _dummy(t: mi.Type) -> Any:
    """A value of type `t` standing in for a `$binding` when checking a message's shape."""
    t = unwrap(t)
    if isinstance(t, mi.UnionType):
        return _dummy(next(o for o in t.types if not isinstance(o, mi.NoneType)))
    if isinstance(t, mi.StrType):
        return ""
    if isinstance(t, mi.BoolType):
        return False
    if isinstance(t, mi.IntType | mi.FloatType):
        lowest = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else 0)
        return lowest if isinstance(t, mi.IntType) else float(lowest)
    if isinstance(t, mi.DecimalType):
        return 0
    if isinstance(t, mi.LiteralType):
        return t.values[0]
    if isinstance(t, mi.StructType):
        return {f.encode_name: _dummy(f.type) for f in t.fields if f.required}
    if isinstance(t, mi.DictType):
        return {}
    if hasattr(t, "item_type") or isinstance(t, mi.TupleType):
        return []
    return None


def _with_dummies(value: Any, t: mi.Type | None) -> Any:
    if is_binding(value) and t is not None:
        return _dummy(t)
    inner = unwrap(t) if t is not None else None
    options = inner.types if isinstance(inner, mi.UnionType) else (inner,)
    if isinstance(value, dict):
        struct = next((unwrap(o) for o in options if isinstance(unwrap(o), mi.StructType)), None)
        fields = {f.encode_name: f.type for f in struct.fields} if struct else {}
        return {k: _with_dummies(v, fields.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        seq = next((unwrap(o) for o in options if hasattr(unwrap(o), "item_type")), None)
        return [_with_dummies(v, seq.item_type if seq else None) for v in value]
    return value
