"""Listed output schemas write a repeated subschema once (`$defs`) and accept exactly the answers they did."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.present.lean import listed_output
from modelops_mcp.present.portable import single_types
from modelops_mcp.present.shared_defs import shared_definitions
from modelops_mcp.settings.config import Settings
from modelops_mcp.surface import job_tools
from modelops_mcp.surface.listing import listed_tools, shown_output_schemas

NULLABLE = {"anyOf": [{"type": "string"}, {"type": "null"}]}


def expanded(schema: Any, defs: dict[str, Any]) -> Any:
    """Every local reference replaced by what it names, `$defs` gone: the schema as if never shared."""
    if isinstance(schema, dict):
        if set(schema) == {"$ref"}:
            return expanded(defs[schema["$ref"].removeprefix("#/$defs/")], defs)
        return {k: expanded(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [expanded(v, defs) for v in schema]
    return schema


def size(schema: Any) -> int:
    return len(json.dumps(schema, separators=(",", ":")))


def test_every_listed_output_schema_is_the_lean_one_with_repeats_referred_to(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    catalog = load_settings_catalog(settings)
    shown = shown_output_schemas(settings, catalog)
    listed = {t.name: t.output_schema for t in listed_tools(settings, catalog, dict(catalog.operations))}

    def resolved(schema: Any, name: str) -> Any:
        """Each "As <tool> answers." (a whole answer, or a list's rows) as that tool's own listed schema."""
        if isinstance(schema, list):
            return [resolved(v, name) for v in schema]
        if not isinstance(schema, dict):
            return schema
        text = schema.get("description")
        owner = re.fullmatch(r"As (\w+) answers\.", text) if isinstance(text, str) else None
        if owner is None:
            return {k: resolved(v, name) for k, v in schema.items()}
        assert schema == {"type": "object", "description": owner.group(0)}, name
        assert catalog.operations[owner.group(1)].backend == catalog.operations[name].backend, name
        own = listed[owner.group(1)]
        assert own is not None, name
        assert "answers." not in json.dumps(own), name  # the owner lists its fields
        return expanded(own, own.get("$defs", {}))

    before = after = 0
    for name in catalog.operations:  # (shown also has the operations jobs poll through, which are not listed)
        lean = shown[name]
        schema = listed[name]
        assert schema is not None
        assert resolved(expanded(schema, schema.get("$defs", {})), name) == single_types(listed_output(lean)), name
        assert "properties" in schema or "answers." in schema["description"], name  # unpacked where it was
        before, after = before + size(single_types(listed_output(lean))), after + size(schema)
    assert after < 0.85 * before, (after, before)
    # The operations' listed schemas name their nullable fields untyped, which leaves little to repeat; the
    # jobs_* tools' own schemas still repeat a nullable string.
    job_get = next(t for t in job_tools.definitions(sorted(catalog.backends), False) if t.name == "jobs_get")
    assert job_get.output_schema is not None
    shared = listed["jobs_get"] or {}
    assert "$defs" in shared
    assert expanded(shared, shared["$defs"]) == single_types(job_get.output_schema)
    assert size(shared) < size(single_types(job_get.output_schema))
    full = listed_tools(Settings(state_dir=tmp_path, output_schemas="full"), catalog, dict(catalog.operations))
    assert not any("$defs" in (t.output_schema or {}) for t in full)  # full mode: as the document spells it


def test_a_repeat_is_referred_to_and_accepts_the_same_values() -> None:
    row = {"type": "object", "properties": {"id": NULLABLE, "name": NULLABLE, "owner": NULLABLE}}
    schema = {
        "type": "object",
        "properties": {
            "first": row,
            "rows": {"type": "array", "items": row},
            "note": NULLABLE,
            "n": {"type": "integer"},
        },
        "required": ["first"],
    }
    shared = shared_definitions(schema)
    assert size(shared) < size(schema)
    assert shared["properties"]["n"] == {"type": "integer"}  # said once: stays inline
    defs = shared["$defs"]
    assert NULLABLE in defs.values()  # the field, referred to from the row too
    assert row in [expanded(d, defs) for d in defs.values()]  # the row, once
    samples = [
        {"first": {"id": "a", "name": None}},
        {"first": {"id": 1}},
        {"first": {}, "rows": [{"owner": None}, {"owner": 3}]},
        {"first": {}, "rows": [{"owner": "x"}], "note": 2},
        {"rows": []},
        {"first": None},
        {"first": {"extra": [1]}, "n": 1.5},
    ]
    for value in samples:
        assert Draft202012Validator(shared).is_valid(value) is Draft202012Validator(schema).is_valid(value), value
    assert expanded(shared, shared["$defs"]) == schema


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}},  # too small to pay
        {"type": "object", "properties": {"a": NULLABLE}},  # said once
        {"type": "object", "properties": {"a": {"$ref": "#/$defs/x"}}, "$defs": {"x": NULLABLE}},  # its own names
    ],
)
def test_a_schema_without_a_paying_repeat_is_listed_as_it_is(schema: dict[str, Any]) -> None:
    assert shared_definitions(schema) == schema
