"""What real services send, through a real MCP client (the Python SDK over stdio, which checks structured
content against the listed output schema) to the server and the sandbox over loopback HTTP.

- A DataRobot custom model without versions has `latestVersion: null` (as the service sends it): creating one
  is a plain success, in lean and full listing modes.
- A 2xx answer that truly breaks the listed schema (a string where an integer is listed) is still a success:
  the text says the backend carried the call out, with its HTTP status, shows the whole answer and says not to
  repeat the call; structuredContent is the answer with the offending value nulled, valid under the listed
  schema; and nothing was sent twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from modelops_mcp.calls.response import MISMATCH_META
from modelops_mcp.jobs import Job
from modelops_mcp.sandbox import datarobot_views
from modelops_mcp.sandbox.faults import Fault
from modelops_mcp.surface.tasks import Tasks
from tests.support import DATAROBOT_BINARY_MODEL, RunningSandbox, in_process, stdio_server, structured, text_of

pytestmark = pytest.mark.anyio

MODEL = {"name": "ticket-sentiment", **DATAROBOT_BINARY_MODEL}


@pytest.fixture
def latest_version_null(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's model without versions answers `latestVersion: null`, as DataRobot does. (An emulator that
    already sends null has no `_no_version` stand-in left: then this changes nothing.)"""
    monkeypatch.setattr(datarobot_views, "_no_version", lambda model: None, raising=False)


def listed_output(tools: list[Any], name: str) -> Draft202012Validator:
    schema = next(t.output_schema for t in tools if t.name == name)
    assert schema is not None
    return Draft202012Validator(schema)


@pytest.mark.parametrize("mode", ["lean", "full"])
async def test_a_custom_model_without_versions_is_created(
    sandbox: RunningSandbox, state_dir: Path, latest_version_null: None, mode: str
) -> None:
    async with stdio_server(sandbox.env(), state_dir, "--output-schemas", mode) as (client, _):
        tools = (await client.list_tools()).tools
        result = await client.call_tool("datarobot_create_custom_model", MODEL)
        assert not result.is_error, text_of(result)
        created = structured(result)
        assert created["latestVersion"] is None
        assert created["id"]
        assert listed_output(tools, "datarobot_create_custom_model").is_valid(created)
        assert not (result.meta or {}).get(MISMATCH_META)
        # Read back: the same null, the same success.
        got = await client.call_tool("datarobot_get_custom_model", {"customModelId": created["id"]})
        assert not got.is_error
        assert structured(got)["latestVersion"] is None
    posts = [r for r in sandbox.requests("datarobot") if r.method == "POST" and r.path.endswith("/customModels/")]
    assert len(posts) == 1


async def test_an_answer_that_breaks_the_schema_is_a_success_that_says_not_to_repeat_the_call(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with stdio_server(sandbox.env(), state_dir) as (client, _):
        tools = (await client.list_tools()).tools
        real = structured(await client.call_tool("datarobot_create_custom_model", MODEL))
        # The same model as the service might send it back: an integer field as text, an unknown field.
        broken = {**real, "id": "another-model", "deploymentsCount": "none yet", "brandNew": {"a": 1}}
        sandbox.emulators.faults.add(
            Fault(backend="datarobot", method="POST", path=r"/customModels/$", status=201, body=broken, times=1)
        )
        result = await client.call_tool("datarobot_create_custom_model", MODEL)
    assert not result.is_error
    fitted = structured(result)
    assert listed_output(tools, "datarobot_create_custom_model").is_valid(fitted)
    assert fitted["deploymentsCount"] is None  # the offending value, nulled
    assert fitted["id"] == "another-model"
    assert fitted["brandNew"] == {"a": 1}
    text = text_of(result)
    assert "HTTP 201" in text
    assert "carried out" in text
    assert "Do not repeat the call" in text
    assert "/deploymentsCount" in text
    assert '"deploymentsCount":"none yet"' in text  # the whole answer, as sent
    assert result.meta is not None
    assert result.meta[MISMATCH_META] == {"status": 201, "paths": ["/deploymentsCount"]}
    posts = [r for r in sandbox.requests("datarobot") if r.method == "POST" and r.path.endswith("/customModels/")]
    assert len(posts) == 2  # one each: nothing was retried


async def test_a_required_field_of_the_wrong_type_is_shown_as_null(sandbox: RunningSandbox, state_dir: Path) -> None:
    """Caila requires `done` (a boolean): a job status whose `done` is text still arrives, with `done` null."""
    real_job = {"accountId": 1, "jobId": 5, "jobType": "fit", "state": "RUNNING", "done": "not yet"}
    sandbox.emulators.faults.add(Fault(backend="caila", path="/job/", status=200, body=real_job, times=1))
    async with stdio_server(sandbox.env(), state_dir) as (client, _):
        tools = (await client.list_tools()).tools
        result = await client.call_tool("caila_get_job_status", {"account": "demo", "jobId": 5})
    assert not result.is_error
    fitted = structured(result)
    assert listed_output(tools, "caila_get_job_status").is_valid(fitted)
    assert fitted == {**real_job, "done": None}
    assert json.dumps(real_job, separators=(",", ":")) in text_of(result)
    assert "HTTP 200" in text_of(result)


async def test_an_operation_started_without_a_job_id_is_a_success_that_says_not_to_repeat_it(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    """Caila answers a fit with its job; an answer without `jobId` leaves nothing to follow, yet the fit began."""
    answer = {"accountId": 1, "jobType": "fit", "state": "RUNNING", "done": False}
    sandbox.emulators.faults.add(Fault(backend="caila", method="POST", path="/fit$", status=200, body=answer, times=1))
    fit = {"account": "demo", "model": "text-classifier", "datasetId": 501}
    async with stdio_server(sandbox.env(), state_dir) as (client, _):
        tools = (await client.list_tools()).tools
        result = await client.call_tool("caila_fit_service", fit)
        jobs = structured(await client.call_tool("jobs_list", {}))["jobs"]
    assert not result.is_error
    assert listed_output(tools, "caila_fit_service").is_valid(structured(result))
    text = text_of(result)
    assert "cannot be followed" in text
    assert "Do not repeat the call" in text
    assert jobs == []
    assert len([r for r in sandbox.requests("caila") if r.method == "POST"]) == 1


async def test_a_task_result_whose_last_answer_breaks_the_schema_is_fitted_to_it(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    """A job's final answer becomes a task's tool result: checked against the tool's schema, and fitted."""
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        tasks = Tasks(runtime.jobs, runtime.catalog)
        last = {"accountId": 1, "jobId": "seven", "jobType": "fit", "state": "SUCCESS", "done": True}
        job = Job(id="abcdefghjk", backend="caila", operation="caila_fit_service", remote={}, status="completed")
        result = tasks.final_result(job.model_copy(update={"result": last}))
        schema = runtime.catalog.operations["caila_fit_service"].output_schema
    assert not result.is_error
    assert Draft202012Validator(schema).is_valid(result.structured_content)
    assert result.structured_content == {**last, "jobId": None, "job": job.handle()}
    assert "/jobId" in text_of(result)
    assert '"jobId":"seven"' in text_of(result)
