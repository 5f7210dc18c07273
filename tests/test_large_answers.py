"""A large answer is handled off the event loop, a piece at a time: the result is byte for byte what the whole
answer handled at once gives (issue 18 item 5). Redaction copies only what it changes. A tool result is handed
to the SDK as a dict (wire_result) and goes on the wire exactly as the model did."""

from __future__ import annotations

import json
from typing import Any

import httpx
import mcp_types as types
import pytest
from jsonschema import Draft202012Validator
from mcp_types import methods
from mcp_types.version import KNOWN_PROTOCOL_VERSIONS

from modelops_mcp.calls.json_pieces import compact_pieces, loads
from modelops_mcp.calls.response import compact, parse_body, success_result
from modelops_mcp.core.redact import MASK, Redactor
from modelops_mcp.schemas import bundled_documents
from modelops_mcp.spec.load import load_catalog
from modelops_mcp.surface.wire_result import wire_result

ROW = {
    "id": "5f1e",
    "name": 'Sentiment — ünïcode \u2028 "quoted" \\ back',
    "latestVersion": {"id": "v1", "versionMajor": 1, "items": [{"fileName": "a.py", "size": 12}]},
    "targetType": "Binary",
    "created": "2026-01-01T00:00:00Z",
    "score": 0.1 + 0.2,
    "big": 10**30,
    "tags": [],
    "extra": {},
    "deployed": False,
    "description": None,
}


def big_list(rows: int = 3000) -> dict[str, Any]:
    # Each row its own copy, as a parsed answer's rows are.
    data = [json.loads(json.dumps({**ROW, "id": f"{i:024x}", "name": f"{ROW['name']} #{i}"})) for i in range(rows)]
    return {"count": rows, "next": None, "previous": None, "data": data, "totalCount": rows}


DOCS: list[Any] = [
    big_list(50),
    [],
    {},
    [[], {}, [1, [2, [3]]], {"a": {"b": {"c": []}}}],
    "just a string",
    12.5,
    None,
    [1e308, -0.0, 3],
]


@pytest.mark.parametrize("doc", DOCS)
def test_pieces_parse_and_encode_as_the_json_module_does(doc: Any) -> None:
    for spaced in (json.dumps(doc), json.dumps(doc, indent=2), json.dumps(doc, ensure_ascii=False)):
        content = (" \n" + spaced + "\r\n\t").encode()
        assert loads(content) == json.loads(content)
        assert json.dumps(loads(content)) == json.dumps(json.loads(content))  # order of keys too
    assert "".join(compact_pieces(doc)) == json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def test_other_encodings_and_keys_are_read_and_written_as_the_json_module_does() -> None:
    doc = big_list(5)
    for content in (b"\xef\xbb\xbf" + json.dumps(doc).encode(), json.dumps(doc).encode("utf-16")):
        assert loads(content) == json.loads(content)
    duplicated = b'{"dup": 1, "rows": [{"k": 1, "k": 2}], "dup": {"last": true}}'
    assert loads(duplicated) == json.loads(duplicated)  # the last one wins, in the first one's place
    assert list(loads(duplicated)) == list(json.loads(duplicated))
    odd_keys = {"rows": [{1: "a", None: "b", False: "c"}], 2.5: ("tuple", 1)}
    assert "".join(compact_pieces(odd_keys)) == json.dumps(odd_keys, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize(
    "text", ['{"a": [1, 2,]}', '{"a": 1,}', "[1 2]", '{"a" 1}', "{1: 2}", "[1, 2] x", '{"a": [1, 2}', "", "[", '{"a":']
)
def test_a_malformed_body_is_refused_and_parse_body_answers_as_before(text: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        loads(text.encode())
    response = httpx.Response(200, content=text.encode(), headers={"content-type": "application/json"})
    assert parse_body(response, in_pieces=True) == parse_body(response)


@pytest.mark.parametrize("limit", [200, 8000, 10**8])
def test_the_text_is_the_same_cut_of_the_same_json(limit: int) -> None:
    doc = big_list()
    assert compact(doc, limit, in_pieces=True) == compact(doc, limit)


def test_a_large_answer_gives_byte_for_byte_the_result_it_gave_before() -> None:
    catalog = load_catalog(bundled_documents())
    op = catalog.operations["datarobot_list_custom_models"]
    assert op.output_schema is not None
    validator = Draft202012Validator(op.output_schema)
    body = json.dumps(big_list(600)).encode()
    assert len(body) > 200_000
    response = httpx.Response(200, content=body, headers={"content-type": "application/json"})
    whole = success_result(op, 200, parse_body(response), validator, 8000)
    pieces = success_result(op, 200, parse_body(response, in_pieces=True), validator, 8000, in_pieces=True)
    assert pieces.model_dump_json(by_alias=True) == whole.model_dump_json(by_alias=True)
    # And an answer the schema refuses (fitted, with a note): the same too.
    broken = {**big_list(), "data": [{**ROW, "id": 5}] * 20}
    whole = success_result(op, 200, broken, validator, 8000)
    pieces = success_result(op, 200, broken, validator, 8000, in_pieces=True)
    assert whole.meta  # the mismatch was found, so the fitted path ran
    assert pieces.model_dump_json(by_alias=True) == whole.model_dump_json(by_alias=True)


def test_redaction_copies_only_what_holds_a_secret() -> None:
    secret = "sekrit-token-123456"
    redactor = Redactor([secret])
    clean = big_list(20)
    assert redactor.value(clean) is clean  # nothing to mask: not rebuilt
    dirty = big_list(20)
    dirty["data"][7]["latestVersion"]["items"].append({f"key {secret}": f"the {secret} value"})
    masked = redactor.value(dirty)
    assert secret not in json.dumps(masked)
    assert masked["data"][7]["latestVersion"]["items"][-1] == {f"key {MASK}": f"the {MASK} value"}
    assert secret in json.dumps(dirty)  # the answer it was given is left as it was
    assert masked["data"][6] is dirty["data"][6]  # the rows without a secret are shared, not copied
    assert masked == json.loads(json.dumps(dirty).replace(secret, MASK))
    assert redactor.value(("a", secret)) == ["a", MASK]  # a tuple comes back as a list, as it always did


def wire(version: str, dumped: dict[str, Any]) -> str:
    """What the SDK sends for a tools/call result (mcp/server/runner.py `_serialize`: the sieve, then JSON)."""
    return json.dumps(methods.serialize_server_result("tools/call", version, dumped))


RESULTS = [
    types.CallToolResult(
        content=[types.TextContent(type="text", text="x" * 50)],
        structured_content={"data": big_list(30)["data"], "n": 1.5, "none": None, "nested": {"a": [None, {}]}},
    ),
    types.CallToolResult(
        content=[types.TextContent(type="text", text="note")],
        structured_content={"http_status": 204},
        _meta={"io.modelops-mcp/schema-mismatch": {"status": 200, "paths": ["/x"]}},
    ),
    types.CallToolResult(content=[types.TextContent(type="text", text="plain")], is_error=True),
]


@pytest.mark.parametrize("result", RESULTS)
@pytest.mark.parametrize("version", sorted(KNOWN_PROTOCOL_VERSIONS))
def test_a_result_handed_over_as_a_dict_goes_on_the_wire_as_the_model_did(
    result: types.CallToolResult, version: str
) -> None:
    handed = wire_result(result)
    dumped = handed if isinstance(handed, dict) else handed.model_dump(by_alias=True, mode="json", exclude_none=True)
    assert wire(version, dumped) == wire(version, result.model_dump(by_alias=True, mode="json", exclude_none=True))
