"""Every listed output schema accepts what the vendors' official clients accept (spec/tolerant.py).

Answers are generated from each document's own response schema (as written, before the server loosens it):
one with every field filled and an unknown extra field in every object, then one per depth with the fields at
that depth null — every field on DataRobot, whose client drops nulls before it validates, the ones the document
does not require elsewhere. Each must validate against the output schema of every listing mode: tools/list in
lean mode (the default) and in full mode, and ops_describe in search mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.calls.conform import conform
from modelops_mcp.schemas import bundled_documents
from modelops_mcp.settings.config import Settings
from modelops_mcp.spec.catalog import Catalog, Operation
from modelops_mcp.spec.openapi import Resolver, load_document, resolve_pointer
from modelops_mcp.spec.tolerant import Tolerance, tolerance_for, tolerant_body
from modelops_mcp.surface.discovery import describe_operation
from modelops_mcp.surface.listing import listed_tools

EXTRA = {"fieldNobodyDocumented": {"nested": [1, "two", None]}}


def documented_body(catalog: Catalog, op: Operation) -> tuple[Any, bool] | None:
    """The response schema as the document writes it ($refs inlined), and whether it is wrapped as result."""
    source = op
    if op.upload is not None and op.upload.then is not None:
        source = catalog.find(op.backend, op.upload.then.operation) or op
    name, pointer = source.source.split("#", 1)
    document = next(load_document(p)[1] for p in bundled_documents() if p.name == name)
    responses = resolve_pointer(document, pointer)["responses"]
    resolver = Resolver(name, document)
    code = sorted(c for c in responses if str(c).startswith("2"))[0]
    content = resolver.deref(responses[code], "").get("content") or {}
    media = content.get("application/json") or content.get("*/*")
    if source.download or media is None or "schema" not in media:
        return None
    return resolver.inline(media["schema"], ""), op.wrap_output


def _first(schema: dict[str, Any]) -> Any:
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else [k for k in (kinds or []) if k != "null"]
    return kinds[0] if kinds else ("object" if "properties" in schema else None)


def sample(schema: Any, null_depth: int, every: bool, depth: int = 0) -> Any:
    """A value of `schema`; in objects at `null_depth`, fields are null (all, or those not required)."""
    if not isinstance(schema, dict):
        return "text"
    if "enum" in schema:
        return next((v for v in schema["enum"] if v is not None), None)
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branch = next((b for b in schema[key] if isinstance(b, dict) and b.get("type") != "null"), {})
            return sample(branch, null_depth, every, depth)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for branch in schema["allOf"]:
            value = sample(branch, null_depth, every, depth)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = _first(schema)
    if kind == "object":
        required = set(schema.get("required") or [])
        value: dict[str, Any] = {}
        for name, sub in (schema.get("properties") or {}).items():
            null_here = depth == null_depth and (every or name not in required)
            value[name] = None if null_here else sample(sub, null_depth, every, depth + 1)
        entries = schema.get("additionalProperties")
        if isinstance(entries, dict):  # a map: its extra keys are its entries
            return {**value, "someKey": sample(entries, null_depth, every, depth + 1)}
        return {**value, **EXTRA}
    if kind == "array":
        return [sample(schema.get("items", {}), null_depth, every, depth + 1)]
    return {"string": "text", "integer": 3, "number": 2.5, "boolean": True, "null": None}.get(kind, "text")


def max_depth(schema: Any, depth: int = 0) -> int:
    if isinstance(schema, dict):
        return max([depth, *(max_depth(v, depth + (k == "properties")) for k, v in schema.items())])
    if isinstance(schema, list):
        return max([depth, *(max_depth(v, depth) for v in schema)])
    return depth


def answers(catalog: Catalog, op: Operation) -> list[Any]:
    documented = documented_body(catalog, op)
    if documented is None:
        return []
    schema, wrapped = documented
    every = tolerance_for(op.backend).nulls == "every"
    bodies = [sample(schema, depth, every) for depth in range(-1, max_depth(schema) + 1)]
    if op.upload is not None:
        bodies = [{**b, "uploaded_rows": 3, "class_names": None} for b in bodies if isinstance(b, dict)]
    return [{"result": b} for b in bodies] if wrapped else bodies


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_settings_catalog(Settings(state_dir=Path("/nonexistent")))


def listed_schemas(catalog: Catalog, mode: str, tmp: Path) -> dict[str, dict[str, Any]]:
    if mode == "search":
        return {name: describe_operation(op)["output_schema"] for name, op in catalog.operations.items()}
    settings = Settings(state_dir=tmp, output_schemas=mode)
    tools = listed_tools(settings, catalog, dict(catalog.operations))
    return {t.name: t.output_schema for t in tools if t.output_schema is not None}


@pytest.mark.parametrize("mode", ["lean", "full", "search"])
def test_every_listed_output_schema_accepts_nulls_extra_fields_and_null_enums(
    catalog: Catalog, mode: str, tmp_path: Path
) -> None:
    schemas = listed_schemas(catalog, mode, tmp_path)
    checked = 0
    refused = []
    for name, op in catalog.operations.items():
        validator = Draft202012Validator(schemas[name])
        for answer in answers(catalog, op):
            checked += 1
            error = next(iter(validator.iter_errors(answer)), None)
            if error is not None:
                refused.append(f"{name} at {list(error.absolute_path)}: {error.message[:120]}")
    assert not refused, "\n".join(refused[:20])
    assert checked > 300  # every operation with a JSON answer, several answers each


def test_the_answers_do_exercise_nulls_where_the_documents_forbid_them(catalog: Catalog) -> None:
    """The generated answers are not trivially valid: many break the documents' own schemas."""
    broken = 0
    for op in catalog.operations.values():
        documented = documented_body(catalog, op)
        if documented is None or op.upload is not None:
            continue
        schema = documented[0]
        validator = Draft202012Validator(
            {"type": "object", "properties": {"result": schema}} if op.wrap_output else schema
        )
        broken += sum(not validator.is_valid(a) for a in answers(catalog, op))
    assert broken > 100


def test_network_egress_policy_null_passes_every_datarobot_tool_that_lists_it(catalog: Catalog, tmp_path: Path) -> None:
    tools = [name for name, op in catalog.operations.items() if "networkEgressPolicy" in str(op.output_schema)]
    assert len(tools) >= 13
    for mode in ("lean", "full", "search"):
        schemas = listed_schemas(catalog, mode, tmp_path)
        for name in tools:
            for answer in answers(catalog, catalog.operations[name]):
                validator = Draft202012Validator(schemas[name])
                assert validator.is_valid(answer), (mode, name)


@pytest.mark.parametrize("mode", ["lean", "full", "search"])
def test_no_listed_output_schema_closes_an_object(catalog: Catalog, mode: str, tmp_path: Path) -> None:
    text = str(listed_schemas(catalog, mode, tmp_path))
    assert "'additionalProperties': False" not in text
    assert "'unevaluatedProperties': False" not in text


def test_conform_fits_any_answer_to_every_listed_schema(catalog: Catalog, tmp_path: Path) -> None:
    """Whatever a backend sends, the fitted structured content validates (so no result is ever refused)."""
    wrong = [7, "text", [1, 2], {"id": [1], "name": {"x": 1}}, None]
    for mode in ("lean", "full"):
        for name, schema in listed_schemas(catalog, mode, tmp_path).items():
            validator = Draft202012Validator(schema)
            op = catalog.operations.get(name)
            if op is None or op.download:
                continue  # the jobs_* tools, a saved file's description: the server's own answers
            bodies = [{k: w for k in schema.get("properties", {})} for w in wrong]
            bodies += [{"result": w} for w in wrong] + wrong
            for body in bodies:
                fitted, paths = conform(body, validator)
                assert validator.is_valid(fitted), (mode, name, body, fitted)
                assert paths or validator.is_valid(body)


def test_conform_keeps_what_fits_and_drops_only_rows_that_do_not() -> None:
    schema = {
        "type": "object",
        "properties": {
            "count": {"type": ["integer", "null"]},
            "name": {"type": ["string", "null"]},
            "rows": {
                "type": "array",
                "items": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
            },
        },
        "required": ["name"],
    }
    validator = Draft202012Validator(schema)
    rows = [{"id": str(i)} if i % 2 else {"id": i} for i in range(2000)]
    answer = {"count": "many", "name": 5, "rows": rows, "extra": True}
    fitted, paths = conform(answer, validator)
    assert validator.is_valid(fitted)
    assert fitted["count"] is None  # nullable: nulled
    assert fitted["name"] is None  # required, so not left out: null (as every top-level field may be)
    assert fitted["rows"] == [r for r in rows if isinstance(r["id"], str)]
    assert fitted["extra"] is True
    assert set(paths) == {"/count", "/name", *(f"/rows/{i}" for i in range(0, 2000, 2))}
    assert answer["count"] == "many"  # the caller's answer is left as it came


def test_each_policy_loosens_a_documented_body_as_its_client_would() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "kind", "nested"],
        "properties": {
            "id": {"type": "string", "format": "uuid", "maxLength": 36},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "nested": {
                "type": "object",
                "additionalProperties": False,
                "required": ["n"],
                "properties": {"n": {"type": "integer", "minimum": 0}, "m": {"oneOf": [{"type": "string"}, {}]}},
            },
        },
    }
    optional, every, open_enums = (
        Draft202012Validator(tolerant_body(schema, t))
        for t in (Tolerance(), Tolerance(nulls="every"), Tolerance(open_enums=True))
    )
    loose = {"id": None, "kind": None, "nested": {"n": -1, "m": None, "more": 1}, "more": 2}
    assert optional.is_valid(loose)  # top-level nulls, an optional field's null, extra fields, no limits
    assert not optional.is_valid({**loose, "nested": {"n": None}})  # a required field below the top: not null
    assert not optional.is_valid({**loose, "kind": "c"})
    assert every.is_valid({**loose, "nested": {"n": None}})
    assert every.is_valid({"nested": {}})  # null is missing to that client: nothing is required
    assert open_enums.is_valid({**loose, "kind": "c"})
    assert not open_enums.is_valid({**loose, "kind": 3})  # still a string
