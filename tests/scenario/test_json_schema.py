"""The editor schema describes the file format (jsonschema itself is not installed, so
these tests check its shape and that a good file's data fits its declared fields)."""

from __future__ import annotations

import json

from fake_tws.protocol.table import REQUESTS_BY_NAME, RESPONSES_BY_NAME
from fake_tws.scenario import scenario_json_schema
from fake_tws.scenario.actions import ACTION_NAMES, BARE_ACTIONS
from fake_tws.scenario.yaml_nodes import compose, to_data
from tests.scenario.helpers import FIXTURES


def test_schema_is_json_with_the_file_at_its_root():
    schema = scenario_json_schema()
    json.dumps(schema)  # serialisable as is
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$ref"] == "#/$defs/ScenarioFile"
    root = schema["$defs"]["ScenarioFile"]
    assert set(root["properties"]) == {"name", "description", "include", "world", "rules"}
    assert root["additionalProperties"] is False


def test_each_step_is_one_action_or_a_bare_name():
    defs = scenario_json_schema()["$defs"]
    step = defs["Step"]
    assert set(step["properties"]) == set(ACTION_NAMES)
    assert step["minProperties"] == step["maxProperties"] == 1
    items = defs["Rule"]["properties"]["do"]["items"]["anyOf"]
    assert items[0] == {"$ref": "#/$defs/Step"}
    assert items[1] == {"enum": sorted(BARE_ACTIONS)}


def test_when_takes_one_trigger_and_known_request_names():
    when = scenario_json_schema()["$defs"]["When"]
    assert when["oneOf"] == [{"required": [k]} for k in ("request", "event", "at", "after")]
    assert when["properties"]["request"]["anyOf"][0]["enum"] == sorted(REQUESTS_BY_NAME)


def test_durations_and_replies_are_described():
    defs = scenario_json_schema()["$defs"]
    delay = defs["Step"]["properties"]["delay"]["anyOf"][0]
    assert delay["type"] == "string" and "ms" in delay["pattern"]
    respond = defs["Step"]["properties"]["respond"]["anyOf"][0]["items"]
    assert respond["propertyNames"] == {"enum": sorted(RESPONSES_BY_NAME)}
    slices = defs["Step"]["properties"]["partial_fill"]["anyOf"][0]["items"]["anyOf"]
    assert slices[0] == {"$ref": "#/$defs/Slice"} and slices[1]["type"] == "string"


def _keys_fit(data, schema, defs, where="$"):
    """Every key in `data` is a property the schema declares (the part of validation an
    editor does first: completion and unknown-key warnings)."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[1]]
    options = schema.get("anyOf", [schema])
    if isinstance(data, dict):
        objects = [o for o in options if o.get("type") == "object" or "$ref" in o]
        assert objects, f"{where}: a mapping where the schema has none"
        target = objects[0]
        if "$ref" in target:
            target = defs[target["$ref"].rsplit("/", 1)[1]]
        props = target.get("properties")
        for key, value in data.items():
            if props is None:
                continue  # a free mapping (symbols -> prices, response fields)
            assert key in props, f"{where}: {key} is not in the schema"
            _keys_fit(value, props[key], defs, f"{where}.{key}")
    elif isinstance(data, list):
        arrays = [o for o in options if o.get("type") == "array"]
        assert arrays, f"{where}: a list where the schema has none"
        for i, item in enumerate(data):
            _keys_fit(item, arrays[0]["items"], defs, f"{where}[{i}]")


def test_a_good_file_fits_the_schema():
    schema = scenario_json_schema()
    data = to_data(compose((FIXTURES / "full.yaml").read_text()))
    _keys_fit(data, schema, schema["$defs"])
