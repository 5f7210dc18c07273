"""Lean output schemas (about half the bytes, never stricter than the full schema, which stays one call
away) and the single-type spelling strict clients need."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from mcp import Client

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.present.lean import lean_output, listed_output
from modelops_mcp.present.lean_shared import share_outputs
from modelops_mcp.present.portable import single_types
from modelops_mcp.settings.config import Settings
from modelops_mcp.surface.listing import listed_tools
from tests.support import RunningSandbox, in_process, structured, text_of

pytestmark = pytest.mark.anyio


def size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


NAMED = "Nullable: "


def only_drops(lean: Any, full: Any, at: str = "") -> list[str]:
    """Where `lean` says something `full` does not: nothing may be added or changed, only left out
    (oneOf may read anyOf, which is looser). The one addition allowed is an object's description naming,
    after what `full` said, the fields it lists there instead of under `properties` (a description
    constrains nothing)."""
    if isinstance(lean, dict) and isinstance(full, dict):
        problems = []
        for key, value in lean.items():
            source = "oneOf" if key == "anyOf" and "anyOf" not in full else key
            if key == "description" and isinstance(value, str) and NAMED in value:
                before = value[: value.index(NAMED)].rstrip()
                if before != full.get("description", ""):
                    problems.append(f"{at}/description changed")
            elif source not in full:
                problems.append(f"{at}/{key} added")
            else:
                problems += only_drops(value, full[source], f"{at}/{key}")
        return problems
    if at.endswith("/required") and isinstance(lean, list) and isinstance(full, list):
        # A required list naming fewer fields leaves a promise out.
        return [] if set(lean) <= set(full) else [f"{at} added"]
    if isinstance(lean, list) and isinstance(full, list) and len(lean) == len(full):
        return [p for i, (a, b) in enumerate(zip(lean, full, strict=True)) for p in only_drops(a, b, f"{at}/{i}")]
    return [] if lean == full else [f"{at} changed"]


def test_every_lean_output_schema_only_leaves_things_out_of_the_full_one(tmp_path: Path) -> None:
    catalog = load_settings_catalog(Settings(state_dir=tmp_path))
    for op in catalog.operations.values():
        assert op.output_schema is not None
        lean = lean_output(op.output_schema, catalog.operations.keys())
        assert only_drops(lean, op.output_schema) == [], op.tool_name


def test_lean_keeps_top_level_fields_list_rows_and_guiding_descriptions() -> None:
    full = {
        "type": "object",
        "required": ["data", "owner"],
        "properties": {
            "data": {
                "type": "array",
                "maxItems": 100,
                "items": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {
                        "id": {"type": "string", "description": "Pass it as `id` to toy_get_item."},
                        "kind": {"type": "string", "enum": ["a", "b"], "description": "The kind."},
                        "meta": {"type": "object", "properties": {"deep": {"type": "string"}}, "required": ["deep"]},
                    },
                },
            },
            "owner": {"oneOf": [{"type": "object", "properties": {"name": {"type": "string"}}}, {"type": "null"}]},
            "name": {"type": "string", "maxLength": 10, "description": "A name."},
        },
    }
    assert lean_output(full, ["toy_get_item"]) == {
        "type": "object",
        "required": ["data", "owner"],
        "properties": {
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {
                        "id": {"type": "string", "description": "Pass it as `id` to toy_get_item."},
                        "kind": {"type": "string", "enum": ["a", "b"]},
                        "meta": {"type": "object"},
                    },
                },
            },
            "owner": {"anyOf": [{"type": "object"}, {"type": "null"}]},
            "name": {"type": "string"},
        },
    }


def test_the_listed_form_names_nullable_fields_and_keeps_rows_enums_and_guidance() -> None:
    lean = {
        "type": "object",
        "required": ["data", "owner"],
        "properties": {
            "data": {
                "type": ["array", "null"],
                "items": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {
                        "id": {"type": "string", "description": "Pass it as `id` to toy_get_item."},
                        "state": {"type": ["string", "null"], "enum": ["on", "off", None]},
                        "tags": {"type": "array", "items": {"type": "object", "properties": {"t": {"type": "string"}}}},
                    },
                },
            },
            "owner": {"anyOf": [{"type": "object"}, {"type": "null"}]},
            "name": {"type": "string"},
            "note": {"type": ["string", "null"], "description": "Then call toy_get_item."},
            "labels": {"type": ["array", "null"], "items": {"type": "string"}},
        },
    }
    assert listed_output(lean) == {
        "type": "object",
        "required": ["data"],  # `owner` may be null: its key's presence promised no more
        "properties": {
            "data": {
                "type": ["array", "null"],
                "items": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {
                        "id": {"type": "string", "description": "Pass it as `id` to toy_get_item."},
                        "state": {"enum": ["on", "off", None]},  # may be null: its values, not its type
                        "tags": {"type": "array", "items": {"type": "object"}},  # a list inside a row: its type
                    },
                },
            },
            "name": {"type": "string"},
        },
        # May be null, and listed they would constrain nothing: named here, guidance kept.
        "description": "Nullable: owner, note (Then call toy_get_item), labels.",
    }


def test_an_answer_listed_alike_by_several_tools_is_kept_by_the_one_that_reads_it() -> None:
    model = {"type": "object", "properties": {f"field{i}": {} for i in range(10)}, "required": ["field0"]}
    small = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    schemas: dict[str, dict[str, Any] | None] = {
        "toy_create_model": model,
        "toy_old_get_model": model,
        "toy_get_model": model,
        "other_get_model": model,
        "toy_delete_model": small,
        "toy_stop_model": small,
        "toy_none": None,
    }
    shared = share_outputs(
        schemas,
        deprecated={"toy_old_get_model"},
        read_only={"toy_old_get_model", "toy_get_model", "other_get_model"},
        backend={name: name.split("_")[0] for name in schemas},
    )
    reference = {"type": "object", "description": "As toy_get_model answers."}
    assert shared["toy_get_model"] == model  # read-only and not deprecated: it keeps the fields
    assert shared["toy_create_model"] == shared["toy_old_get_model"] == reference
    assert shared["other_get_model"] == model  # another backend keeps its own
    assert shared["toy_delete_model"] == shared["toy_stop_model"] == small  # a reference would save too little
    assert shared["toy_none"] is None
    for value in ({}, {"field0": 1, "x": None}):  # a reference accepts whatever the shared schema did
        assert not Draft202012Validator(model).is_valid(value) or Draft202012Validator(reference).is_valid(value)


CONSTRAINING = {"type", "enum", "const", "not", "$ref", "anyOf", "oneOf", "allOf", "items", "properties"}


def accepting_anything(schema: Any, at: str = "") -> list[str]:
    """The paths of field schemas under `properties` with no keyword that constrains a value."""
    if isinstance(schema, list):
        return [p for i, item in enumerate(schema) for p in accepting_anything(item, f"{at}/{i}")]
    if not isinstance(schema, dict):
        return []
    found = []
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            for name, field in value.items():
                if isinstance(field, dict) and not CONSTRAINING & field.keys():
                    found.append(f"{at}/properties/{name}")
                found += accepting_anything(field, f"{at}/properties/{name}")
        else:
            found += accepting_anything(value, f"{at}/{key}")
    return found


def test_every_listed_output_schema_only_leaves_things_out_of_the_checked_one(tmp_path: Path) -> None:
    """What the server passes matched the checked (lean) schema, so it matches the listed one too."""
    catalog = load_settings_catalog(Settings(state_dir=tmp_path))
    for op in catalog.operations.values():
        assert op.output_schema is not None
        lean = lean_output(op.output_schema, catalog.operations.keys())
        listed = listed_output(lean)
        assert only_drops(listed, lean) == [], op.tool_name
        # As the MCP Inspector's strict check wants (CI runs it): no listed field schema that accepts anything.
        assert accepting_anything(listed) == [], op.tool_name
        # Every field still named: under properties, or in the description when listing it would say nothing.
        named = listed.get("description", "")
        for name in lean["properties"]:
            assert name in listed["properties"] or re.search(rf"\b{re.escape(name)}\b", named), (op.tool_name, name)


def test_the_lean_tool_list_is_well_under_the_full_one(tmp_path: Path) -> None:
    catalog = load_settings_catalog(Settings(state_dir=tmp_path))
    exposed = dict(catalog.operations)
    dump = [
        t.model_dump(by_alias=True, mode="json", exclude_none=True)
        for t in listed_tools(Settings(state_dir=tmp_path), catalog, exposed)
    ]
    full = [
        t.model_dump(by_alias=True, mode="json", exclude_none=True)
        for t in listed_tools(Settings(state_dir=tmp_path, output_schemas="full"), catalog, exposed)
    ]
    assert [t["inputSchema"] for t in dump] == [t["inputSchema"] for t in full]  # inputs are never trimmed
    assert size(dump) < 0.6 * size(full), (size(dump), size(full))


async def test_full_schemas_by_flag_and_always_through_ops_describe(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with (
        in_process(sandbox.env(), state_dir, output_schemas="full") as (server, runtime),
        Client(server, mode="legacy") as c,
    ):
        tools = {t.name: t for t in (await c.list_tools()).tools}
        full = single_types(runtime.catalog.operations["datarobot_get_custom_model"].output_schema)
        assert tools["datarobot_get_custom_model"].output_schema == full
    async with (
        in_process(sandbox.env(), state_dir, discovery="search") as (server, runtime),
        Client(server, mode="legacy") as c,
    ):
        described = structured(await c.call_tool("ops_describe", {"names": ["datarobot_get_custom_model"]}))
        assert described["operations"][0]["output_schema"] == full


@pytest.mark.parametrize(
    "schema",
    [
        {"type": ["string", "null"], "maxLength": 3, "description": "d"},
        {"type": ["integer", "null"], "minimum": 2, "format": "int64"},
        {"type": ["string", "null"], "enum": ["a", "b"]},  # null is not in the enum: still refused
        {"type": ["array", "null"], "items": {"type": ["integer", "string"]}, "maxItems": 2},
        {"type": ["object", "null"], "properties": {"a": {"type": ["boolean", "null"]}}, "required": ["a"]},
    ],
)
def test_single_types_accepts_exactly_the_values_the_type_list_did(schema: dict[str, Any]) -> None:
    portable = single_types(schema)
    assert "anyOf" in portable
    assert "type" not in json.dumps(portable).replace('"type": "', "")  # every type is a single name
    samples = [None, "", "ab", "abcd", "a", 1, 2, 5, [], [1, "x"], [1, 2, 3], {}, {"a": None}, {"a": 1}, True]
    for value in samples:
        before = Draft202012Validator(schema).is_valid(value)
        assert Draft202012Validator(portable).is_valid(value) is before, (schema, value)


async def test_answers_are_checked_against_the_schema_the_tool_list_shows(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    """A field deep inside an answer that the full schema would refuse passes the lean one the client holds;
    a top-level one the lean schema describes is still caught: the call succeeded, so the result is no error,
    but that value is nulled in structuredContent and named in the text."""
    from modelops_mcp.sandbox.datarobot_state import DEMO_MODEL_ID
    from modelops_mcp.sandbox.faults import Fault

    args = {"customModelId": DEMO_MODEL_ID}
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as c:
        tool = next(t for t in (await c.list_tools()).tools if t.name == "datarobot_get_custom_model")
        real = structured(await c.call_tool("datarobot_get_custom_model", args))
        # latestVersion.id is documented as a string: the full schema refuses a number there.
        deep = {**real, "latestVersion": {**real["latestVersion"], "id": 7}}
        sandbox.emulators.faults.add(
            Fault(backend="datarobot", path=f"/customModels/{DEMO_MODEL_ID}/", status=200, body=deep, times=1)
        )
        result = await c.call_tool("datarobot_get_custom_model", args)
        assert not result.is_error
        assert tool.output_schema is not None
        assert Draft202012Validator(tool.output_schema).is_valid(result.structured_content)
        sandbox.emulators.faults.add(
            Fault(
                backend="datarobot", path=f"/customModels/{DEMO_MODEL_ID}/", status=200, body={**real, "id": 7}, times=1
            )
        )
        top = await c.call_tool("datarobot_get_custom_model", args)
        assert not top.is_error
        assert structured(top)["id"] is None
        assert "/id" in text_of(top)
        assert Draft202012Validator(tool.output_schema).is_valid(top.structured_content)
    sandbox.emulators.faults.add(
        Fault(backend="datarobot", path=f"/customModels/{DEMO_MODEL_ID}/", status=200, body=deep, times=1)
    )
    async with (
        in_process(sandbox.env(), state_dir, output_schemas="full") as (server, _),
        Client(server, mode="legacy") as c,
    ):
        full_tool = next(t for t in (await c.list_tools()).tools if t.name == "datarobot_get_custom_model")
        full = await c.call_tool("datarobot_get_custom_model", args)
        assert not full.is_error
        assert structured(full)["latestVersion"]["id"] is None
        assert "/latestVersion/id" in text_of(full)
        assert full_tool.output_schema is not None
        assert Draft202012Validator(full_tool.output_schema).is_valid(full.structured_content)
