"""Schema-invalid arguments are refused with every violation located, and nothing reaches the backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from modelops_mcp.calls import validation
from modelops_mcp.core.errors import ToolFailure
from tests.support import RunningSandbox, error_of, in_process, text_of

pytestmark = pytest.mark.anyio

FIT = {"account": "demo", "model": "text-classifier", "datasetId": 501}

CASES: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
    # tool, case, arguments, {pointer: words in the message}
    ("caila_fit_service", "wrong type", {**FIT, "config": "epochs=3"}, {"/config": "is not of type 'object'"}),
    ("caila_fit_service", "string for an int", {**FIT, "datasetId": "501"}, {"/datasetId": "is not of type 'integer'"}),
    ("caila_fit_service", "float for an int", {**FIT, "datasetId": 501.5}, {"/datasetId": "is not of type 'integer'"}),
    ("caila_fit_service", "bool for an int", {**FIT, "datasetId": True}, {"/datasetId": "is not of type 'integer'"}),
    ("caila_fit_service", "int64 overflow", {**FIT, "datasetId": 2**63}, {"/datasetId": "maximum"}),
    ("caila_fit_service", "int64 underflow", {**FIT, "configId": -(2**63) - 1}, {"/configId": "minimum"}),
    ("caila_fit_service", "missing required", {"account": "demo", "model": "m"}, {"/datasetId": "required"}),
    ("caila_fit_service", "unknown field", {**FIT, "epochs": 3}, {"/epochs": "unknown field"}),
    ("caila_create_derived_service", "missing query", {"account": "demo", "model": "x"}, {"/name": "required"}),
    (
        "caila_create_derived_service",
        "bool as text",
        {"account": "a", "model": "m", "name": "n", "hidden": "yes"},
        {"/hidden": "boolean"},
    ),
    (
        "caila_get_job_status",
        "everything wrong",
        {"jobId": "x", "extra": 1},
        {"/account": "required", "/jobId": "integer", "/extra": "unknown"},
    ),
    ("caila_list_datasets", "no arguments at all", {}, {"/account": "required"}),
]


@pytest.mark.parametrize(("tool", "case", "arguments", "expected"), CASES, ids=[c[1] for c in CASES])
async def test_invalid_arguments_are_refused_before_any_request(
    sandbox: RunningSandbox, state_dir: Path, tool: str, case: str, arguments: dict[str, Any], expected: dict[str, str]
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        result = await client.call_tool(tool, arguments)
        error = error_of(result)
        assert error["kind"] == "validation"
        assert error["operation"] == tool
        assert "status" not in error  # ours, not the backend's
        found = {v["pointer"]: v["message"] for v in error["violations"]}
        assert set(found) == set(expected)
        for pointer, words in expected.items():
            assert words in found[pointer]
            assert pointer in text_of(result)
        assert "nothing was sent" in error["message"]
    assert sandbox.requests("caila") == []


async def test_the_same_server_keeps_serving_after_refusals(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="auto") as client:
        for _ in range(3):
            assert (await client.call_tool("caila_list_datasets", {"account": 7})).is_error
        ok = await client.call_tool("caila_list_datasets", {"account": "demo"})
        assert not ok.is_error
    assert len(sandbox.requests("caila")) == 1


def test_flat_arguments_found_valid_are_remembered_without_changing_a_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "config": {"type": "object"}},
        "additionalProperties": False,
        "required": ["id"],
    }
    validator = validation.ArgumentValidator(schema)
    walks: list[dict[str, Any]] = []
    walk = validator.violations
    monkeypatch.setattr(validator, "violations", lambda arguments: walks.append(arguments) or walk(arguments))

    for _ in range(3):  # a job's status poll: the same ids each time, the schema walked once
        validator.check({"id": 7}, "op")
    assert walks == [{"id": 7}]
    # `True == 1` in Python, yet a boolean is no integer: not taken for the remembered 7 or 1.
    validator.check({"id": 1}, "op")
    with pytest.raises(ToolFailure, match="1 invalid argument"):
        validator.check({"id": True}, "op")
    for _ in range(2):  # refusals are never remembered
        with pytest.raises(ToolFailure):
            validator.check({"id": "7"}, "op")
    for _ in range(2):  # nor is anything but flat arguments
        validator.check({"id": 7, "config": {"a": 1}}, "op")
    assert len(walks) == 1 + 1 + 1 + 2 + 2

    monkeypatch.setattr(validation, "REMEMBERED_VALID", 2)
    for n in range(10, 15):
        validator.check({"id": n}, "op")
    assert len(validator._valid) <= 2  # bounded: starts afresh when full
