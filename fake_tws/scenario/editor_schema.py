"""A JSON Schema for scenario files, so editors complete and check them as people type.

It is msgspec's schema of `ScenarioFile`, plus what the types alone cannot say: one
action per step (or a bare action name), one trigger kind per `when`, slices as
"qty@price", and the request/response names fake-tws knows.
"""

from __future__ import annotations

from typing import Any

import msgspec

from fake_tws.protocol import table

from .actions import BARE_ACTIONS
from .durations import DURATION_PATTERN, TIME_POINT_PATTERN, Duration, TimePoint
from .schema import TRIGGER_KINDS, ScenarioFile

SCHEMA_ID = "https://fake-tws.dev/schema/scenario.json"


def _custom_types(t: type) -> dict[str, Any]:
    if t is Duration:
        return {"type": "string", "pattern": DURATION_PATTERN, "examples": ["500ms", "30s"]}
    if t is TimePoint:
        return {"type": "string", "pattern": TIME_POINT_PATTERN, "examples": ["+30s"]}
    raise NotImplementedError(t)


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file."""
    schema = msgspec.json.schema(ScenarioFile, schema_hook=_custom_types)
    defs = schema["$defs"]

    step = defs["Step"]
    step["minProperties"] = step["maxProperties"] = 1
    for name in ("respond", "send"):
        message = _message_item(step["properties"][name])
        message["propertyNames"] = {"enum": sorted(table.RESPONSES_BY_NAME)}
        message["minProperties"] = message["maxProperties"] = 1

    rule_do = defs["Rule"]["properties"]["do"]
    rule_do["items"] = {
        "anyOf": [rule_do["items"], {"enum": sorted(BARE_ACTIONS)}],
    }

    when = defs["When"]
    when["oneOf"] = [{"required": [kind]} for kind in TRIGGER_KINDS]
    when["properties"]["request"] = {
        "anyOf": [{"enum": sorted(table.REQUESTS_BY_NAME)}, {"type": "null"}],
        "default": None,
    }

    slices = _array_of(step["properties"]["partial_fill"])
    slices["items"] = {
        "anyOf": [
            slices["items"],
            {"type": "string", "pattern": r"^\s*[0-9.]+\s*@\s*[0-9.]+\s*$"},
        ]
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "fake-tws scenario"
    return schema


def _array_of(prop: dict[str, Any]) -> dict[str, Any]:
    # Optional fields come out as {"anyOf": [{array...}, {"type": "null"}]}.
    return next(o for o in prop.get("anyOf", [prop]) if o.get("type") == "array")


def _message_item(prop: dict[str, Any]) -> dict[str, Any]:
    return _array_of(prop)["items"]
