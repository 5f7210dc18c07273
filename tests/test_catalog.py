"""The catalog: schema documents → MCP tools, and located errors for malformed documents."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from modelops_mcp.schemas import bundled_documents
from modelops_mcp.spec.catalog import Catalog
from modelops_mcp.spec.load import load_backend, load_catalog
from modelops_mcp.spec.openapi import SchemaError
from tests.support import CAILA_TOOLS, DATAROBOT_TOOLS, PIECES_TOOLS, TRAINING_TOOLS, TUNETHEMODEL_TOOLS


def minimal_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Toy", "version": "1"},
        "servers": [{"url": "https://toy.example"}],
        "x-mcp": {"backend": "toy"},
        "paths": {
            "/items/{name}": {
                "post": {
                    "operationId": "renameItem",
                    "summary": "Rename an item.",
                    "x-mcp": {"tool": "toy_rename_item"},
                    "parameters": [
                        {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "dry-run", "in": "query", "schema": {"type": "boolean"}},
                    ],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["name"],
                                    "properties": {
                                        "name": {"type": "string"},
                                        "size": {"type": "integer", "format": "int32"},
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}},
                        }
                    },
                }
            }
        },
    }


def write(tmp_path: Path, document: dict[str, Any], name: str = "toy.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


@pytest.fixture(scope="module")
def bundled() -> Catalog:
    """The bundled documents loaded as untrusted, so every tool's schemas are meta-checked (the check a server
    start skips for them): once for the module, about 2 s of CPU; the tests below only read it."""
    return load_catalog(bundled_documents())


def test_bundled_catalog_has_exactly_the_documented_operations_of_each_backend(bundled: Catalog) -> None:
    catalog = bundled
    tools = {
        name: {op.tool_name for op in spec.operations if not op.internal} for name, spec in catalog.backends.items()
    }
    assert tools == {
        "caila": CAILA_TOOLS,
        "training": TRAINING_TOOLS,
        "pieces": PIECES_TOOLS,
        "datarobot": DATAROBOT_TOOLS,
        "tunethemodel": TUNETHEMODEL_TOOLS,
    }
    assert len(DATAROBOT_TOOLS) == 58  # the seed's 54 and the four dataset operations
    # The status route DataRobot's jobs are followed through is the server's own, never a tool.
    internal = [op.tool_name for spec in catalog.backends.values() for op in spec.operations if op.internal]
    assert internal == ["datarobot_get_status"]
    assert "datarobot_get_status" not in {tool.name for tool in catalog.tools()}


def test_every_tool_schema_compiles_and_has_no_top_level_composition(bundled: Catalog) -> None:
    for tool in bundled.tools():
        Draft202012Validator.check_schema(tool.input_schema)
        assert tool.input_schema["type"] == "object"
        assert not {"anyOf", "oneOf", "allOf"} & tool.input_schema.keys()
        assert tool.output_schema is not None
        Draft202012Validator.check_schema(tool.output_schema)
        assert tool.output_schema["type"] == "object"
        assert len(tool.name) <= 64
        assert tool.title
        assert tool.description


def test_caila_shapes_follow_the_vendor_spec(bundled: Catalog) -> None:
    catalog = bundled
    derived = catalog.operations["caila_create_derived_service"]
    # `derived` takes query parameters, not a JSON body.
    assert {f.arg: f.location for f in derived.fields} == {
        "account": "path",
        "model": "path",
        "name": "query",
        "hidden": "query",
    }
    assert derived.body_mode == "none"
    configs = catalog.operations["caila_list_fit_configs"]
    item = configs.output_schema["properties"]["result"]["items"]  # type: ignore[index]
    assert item["properties"]["config"]["type"] == "string"
    job = catalog.operations["caila_get_job_status"]
    assert job.input_schema["properties"]["jobId"]["maximum"] == 2**63 - 1
    assert set(job.output_schema["required"]) >= {"accountId", "jobId", "jobType", "state", "done"}  # type: ignore[index]
    fit = catalog.operations["caila_fit_service"]
    assert fit.job is not None
    assert fit.job.status is not None
    assert fit.job.status.operation == "getJobStatus"


def test_annotations_follow_the_http_method(bundled: Catalog) -> None:
    ops = bundled.operations
    listing = ops["caila_list_datasets"].annotations
    assert (listing.read_only_hint, listing.idempotent_hint, listing.destructive_hint) == (True, True, False)
    fit = ops["caila_fit_service"].annotations
    assert (fit.read_only_hint, fit.idempotent_hint, fit.destructive_hint) == (False, False, False)
    assert fit.open_world_hint is True


def test_flattening_suffixes_clashing_names_and_keeps_required(tmp_path: Path) -> None:
    backend = load_backend(write(tmp_path, minimal_document()))
    op = backend.operations[0]
    assert [(f.arg, f.location, f.wire) for f in op.fields] == [
        ("name_path", "path", "name"),
        ("dry_run", "query", "dry-run"),
        ("name_body", "body", "name"),
        ("size", "body", "size"),
    ]
    assert op.input_schema["required"] == ["name_path", "name_body"]
    assert op.input_schema["additionalProperties"] is False
    assert op.input_schema["properties"]["size"]["maximum"] == 2**31 - 1
    # A non-object response is wrapped so structured output is always an object; null stands for an answer
    # that did not come as documented (the whole answer is then in the text).
    assert op.wrap_output
    assert op.output_schema == {
        "type": "object",
        "properties": {"result": {"type": ["array", "null"], "items": {"type": "string"}}},
        "required": ["result"],
    }


def _multipart(schema: dict[str, Any]) -> dict[str, Any]:
    document = minimal_document()
    operation = document["paths"]["/items/{name}"]["post"]
    operation["requestBody"] = {"content": {"multipart/form-data": {"schema": schema}}}
    return document


def test_a_multipart_file_part_becomes_a_local_path_argument(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "required": ["upload"],
        "properties": {"upload": {"type": "string", "format": "binary"}, "note": {"type": "string"}},
    }
    op = load_backend(write(tmp_path, _multipart(schema))).operations[0]
    assert op.body_mode == "multipart"
    assert [(f.arg, f.file) for f in op.fields if f.location == "body"] == [("upload", True), ("note", False)]
    assert "Local path" in op.input_schema["properties"]["upload"]["description"]
    assert "format" not in op.input_schema["properties"]["upload"]
    assert "upload" in op.input_schema["required"]


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "format": "binary"},
        {"type": "object", "properties": {"a": {"type": "string"}}, "anyOf": [{"required": ["a"]}]},
    ],
)
def test_a_multipart_body_that_is_not_a_flat_object_is_refused_at_load(tmp_path: Path, schema: dict[str, Any]) -> None:
    with pytest.raises(SchemaError) as refused:
        load_backend(write(tmp_path, _multipart(schema)))
    assert refused.value.pointer.endswith("/requestBody/content/multipart~1form-data/schema")


def test_annotation_overrides_win_over_method_defaults(tmp_path: Path) -> None:
    document = minimal_document()
    document["paths"]["/items/{name}"]["post"]["x-mcp"]["annotations"] = {"idempotentHint": True}
    op = load_backend(write(tmp_path, document)).operations[0]
    assert op.annotations.idempotent_hint is True
    assert op.idempotent


def test_refs_are_inlined(tmp_path: Path) -> None:
    document = minimal_document()
    body = document["paths"]["/items/{name}"]["post"]["requestBody"]["content"]["application/json"]
    document["components"] = {"schemas": {"Item": body["schema"]}}
    body["schema"] = {"$ref": "#/components/schemas/Item"}
    op = load_backend(write(tmp_path, document)).operations[0]
    assert "name_body" in op.input_schema["properties"]
    assert "$ref" not in json.dumps(op.input_schema)


def _broken(mutate: Any) -> dict[str, Any]:
    document = copy.deepcopy(minimal_document())
    mutate(document)
    return document


OP = "/paths/~1items~1{name}/post"


@pytest.mark.parametrize(
    ("mutate", "pointer", "words"),
    [
        (
            lambda d: d["paths"]["/items/{name}"]["post"]["x-mcp"].update(tool="Rename Item"),
            f"{OP}/x-mcp/tool",
            "snake_case",
        ),
        (
            lambda d: d["paths"]["/items/{name}"]["post"]["x-mcp"].update(tool="other_rename"),
            f"{OP}/x-mcp/tool",
            "toy_",
        ),
        (lambda d: d["paths"]["/items/{name}"]["post"].pop("operationId"), OP, "operationId"),
        (
            lambda d: d["paths"]["/items/{name}"]["post"].update(responses={"404": {"description": "x"}}),
            f"{OP}/responses",
            "2xx",
        ),
        (lambda d: d["paths"]["/items/{name}"]["post"]["x-mcp"].update(colour="red"), f"{OP}/x-mcp/colour", "Extra"),
        (lambda d: d.pop("x-mcp"), "/x-mcp", "valid dictionary"),
        (lambda d: d.update(openapi="3.0.1"), "/openapi", "3.1"),
        (
            lambda d: d["paths"]["/items/{name}"]["post"]["requestBody"]["content"]["application/json"].update(
                schema={"$ref": "#/components/schemas/Missing"}
            ),
            f"{OP}/requestBody/content",
            "unresolvable",
        ),
        (
            lambda d: d["paths"]["/items/{name}"]["post"]["x-mcp"].update(
                job={"ids": {"id": "$response.body#/id"}, "status": {"operation": "nope"}}
            ),
            f"{OP}/x-mcp/job/status/operation",
            "unknown operation",
        ),
        (
            lambda d: d["paths"]["/items/{name}"]["post"]["x-mcp"].update(job={"ids": {"id": "response.id"}}),
            f"{OP}/x-mcp/job/ids",
            "runtime expression",
        ),
    ],
)
def test_malformed_documents_fail_with_file_and_pointer(tmp_path: Path, mutate: Any, pointer: str, words: str) -> None:
    with pytest.raises(SchemaError) as caught:
        load_backend(write(tmp_path, _broken(mutate), "broken.json"))
    assert caught.value.source == "broken.json"
    assert caught.value.pointer == pointer
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"broken.json#{pointer}: ")


def test_recursive_schemas_are_refused(tmp_path: Path) -> None:
    document = minimal_document()
    document["components"] = {
        "schemas": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Node"}}}}
    }
    body = document["paths"]["/items/{name}"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"]["properties"]["tree"] = {"$ref": "#/components/schemas/Node"}
    with pytest.raises(SchemaError, match="recursive schema"):
        load_backend(write(tmp_path, document))


def test_not_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"openapi": "3.1.0",\n  oops}')
    with pytest.raises(SchemaError, match=r"bad.json#: not valid JSON \(line 2"):
        load_backend(path)


def test_duplicate_tool_names_across_documents_are_refused(tmp_path: Path) -> None:
    first = write(tmp_path, minimal_document(), "a.json")
    second_doc = minimal_document()
    second_doc["x-mcp"]["backend"] = "toy"
    second = write(tmp_path, second_doc, "b.json")
    with pytest.raises(SchemaError, match="already loaded"):
        load_catalog([first, second])


def test_an_added_document_is_meta_checked_at_load_while_trusted_bundled_ones_skip_it(tmp_path: Path) -> None:
    document = minimal_document()
    body = document["paths"]["/items/{name}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    body["properties"]["size"]["minimum"] = "zero"  # not a number: invalid JSON Schema
    path = write(tmp_path, document)
    with pytest.raises(SchemaError, match="not a valid JSON Schema"):
        load_catalog([path])
    # Trusted documents skip the (slow) meta-check: only the bundled ones, which the tests above check.
    assert "toy_rename_item" in load_catalog([path], trusted=[path]).operations
