"""YAML as located nodes: parse with PyYAML's node API, build plain data, find a node
again from a field path, so every error can name its line and column.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Segment = str | int
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class NodeError(Exception):
    """A problem found while reading nodes, pinned to one node."""

    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def compose(text: str) -> Node | None:
    """The document's root node (None for an empty file). Raises yaml.YAMLError."""
    return yaml.compose(text, Loader=_Loader)


def to_data(node: Node | None) -> Any:
    """Plain Python data from a node tree, strict about what YAML lets slip by:
    duplicate keys are errors, keys are always text, and timestamps stay text (the
    schema parses them, insisting on a time zone)."""
    if node is None:
        return {}
    return _Builder().build(node)


class _Builder:
    def __init__(self) -> None:
        self._constructor = SafeConstructor()

    def build(self, node: Node) -> Any:
        if isinstance(node, MappingNode):
            return self._mapping(node)
        if isinstance(node, SequenceNode):
            return [self.build(item) for item in node.value]
        return self._scalar(node)

    def _mapping(self, node: MappingNode) -> dict[str, Any]:
        written = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        try:
            self._constructor.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        except ConstructorError as e:
            raise NodeError(node, f"bad merge key: {e.problem}") from None
        out: dict[str, Any] = {}
        first_seen: dict[str, Node] = {}
        for key_node, value_node in node.value:
            # Keys are names (fields, symbols, paths): `1:` or `ON:` mean their text.
            if not isinstance(key_node, ScalarNode):
                raise NodeError(key_node, "expected a plain text key")
            key = key_node.value
            # Merged-in keys come first and give way to keys written in the mapping.
            if id(key_node) in written:
                if key in first_seen:
                    line = first_seen[key].start_mark.line + 1
                    message = f'duplicate key "{key}" (first given on line {line})'
                    raise NodeError(key_node, message)
                first_seen[key] = key_node
            out[key] = self.build(value_node)
        return out

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value
        try:
            return self._constructor.construct_object(node, deep=True)
        except ConstructorError as e:
            raise NodeError(node, f"cannot read this value: {e.problem}") from None


def node_at(root: Node | None, path: tuple[Segment, ...]) -> tuple[Node | None, int]:
    """The node at `path`, or the deepest node on the way; also how many segments matched."""
    node, depth = root, 0
    for segment in path:
        child = child_node(node, segment)
        if child is None:
            break
        node, depth = child, depth + 1
    return node, depth


def child_node(node: Node | None, segment: Segment) -> Node | None:
    if isinstance(node, MappingNode) and isinstance(segment, str):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == segment:
                return value_node
    if isinstance(node, SequenceNode) and isinstance(segment, int) and segment < len(node.value):
        return node.value[segment]
    return None


def key_node(node: Node | None, key: str) -> Node | None:
    if isinstance(node, MappingNode):
        for k, _ in node.value:
            if isinstance(k, ScalarNode) and k.value == key:
                return k
    return None


def show(node: Node | None) -> str:
    """How a value reads in an error message: "abc" for text, 5 for numbers."""
    if isinstance(node, MappingNode):
        return "a mapping" if node.value else "an empty mapping"
    if isinstance(node, SequenceNode):
        return "a list" if node.value else "an empty list"
    if isinstance(node, ScalarNode):
        if node.tag == "tag:yaml.org,2002:str":
            return json.dumps(node.value)
        if node.tag == "tag:yaml.org,2002:null":
            return "null"
        return node.value
    return "nothing"
