"""Errors that name the next step, through real MCP clients against the sandbox (issue 17 item 5).

A not-found names the tool that lists valid ids, a malformed id says where ids come from, a size refusal
says the limit, a refused upload path names the tool's other ways; all derived from the catalog, and every
one still the error shape of README's "Errors" (tests/support.py error_of reads it as a client does).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from modelops_mcp.sandbox.datarobot_state import DEMO_MODEL_ID, DEMO_VERSION_ID
from modelops_mcp.sandbox.pieces_data import PHI_3_MINI_ID
from tests.support import RunningSandbox, error_of, in_process, ok, stdio_server, structured, text_of

pytestmark = pytest.mark.anyio

ROWS = {"name": "tiny", "task_type": "classifier", "inputs": ["good", "bad"], "classes": [0, 1]}


async def failed(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], str]:
    result = await client.call_tool(tool, arguments)
    return error_of(result), text_of(result)


@pytest.mark.parametrize("discovery", ["tools", "search"])
async def test_a_model_that_is_not_found_names_the_tool_that_lists_models(
    sandbox: RunningSandbox, state_dir: Path, discovery: str
) -> None:
    async with in_process(sandbox.env(), state_dir, discovery=discovery) as (server, _), Client(server) as client:
        error, text = await failed(client, "tunethemodel_classify", {"model_id": "sentiment-clf", "input": "hi"})
        assert (error["kind"], error["status"]) == ("not_found", 404)
        assert "sentiment-clf" in error["message"]
        assert error["next"] == ["tunethemodel_list_models"]
        assert "`model_id`" in error["hint"]
        assert "not found. Next: call tunethemodel_list_models" in text  # what a text-only host shows the model
        # The step named works: it answers the models whose ids the classify call takes.
        assert "models" in await ok(client, error["next"][0])
        if discovery == "search":  # the same through ops_call, the way search mode calls operations
            arguments = {"name": "tunethemodel_classify", "arguments": {"model_id": "sentiment-clf", "input": "hi"}}
            routed, _ = await failed(client, "ops_call", arguments)
            assert routed["next"] == ["tunethemodel_list_models"]


async def test_the_backends_own_not_found_names_the_list_of_the_argument_it_names(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    missing = "5e8f3b1c9a2d4e6f7a00dead"
    arguments = {"customModelId": DEMO_MODEL_ID, "customModelVersionId": DEMO_VERSION_ID, "datasetId": missing}
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server) as client:
        error, _ = await failed(client, "datarobot_create_custom_model_test", arguments)
        assert error["kind"] == "not_found"
        # Three ids were given; the message names the dataset's, so the dataset list is the step.
        assert error["next"] == ["datarobot_list_datasets"]
        assert "`datasetId`" in error["hint"]
        version, _ = await failed(
            client,
            "datarobot_get_custom_model_version",
            {"customModelId": DEMO_MODEL_ID, "customModelVersionId": missing},
        )
        assert version["next"] == ["datarobot_list_custom_model_versions"]
        # DataRobot says it with a 422: the words, not the status, make it a not-found.
        arguments = {"customModelId": DEMO_MODEL_ID, "isMajorUpdate": "false", "baseEnvironmentId": missing}
        environment, _ = await failed(client, "datarobot_create_custom_model_version_from_latest", arguments)
        assert (environment["kind"], environment["status"]) == ("validation", 422)
        assert environment["next"] == ["datarobot_list_execution_environments"]


async def test_a_name_given_for_a_uuid_says_where_ids_come_from_over_stdio(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with stdio_server(sandbox.env(), state_dir) as (client, _):
        error, text = await failed(client, "pieces_load_model", {"model": "Phi-3 Mini 4K"})
        assert error["kind"] == "validation"
        assert error["violations"] == [{"pointer": "/model", "message": "'Phi-3 Mini 4K' is not a 'uuid'"}]
        assert error["next"] == ["pieces_list_models"]
        assert "not a name" in error["hint"]
        assert "pieces_list_models" in text
        listed = await ok(client, "pieces_list_models")
        by_name = {m["name"]: m["id"] for m in listed["iterable"]}
        assert by_name["Phi-3 Mini 4K"] == PHI_3_MINI_ID  # the step leads to the id the call takes
    assert not [r for r in sandbox.requests("pieces") if r.path.endswith("/load")]  # the name was never sent


async def test_a_count_refusal_states_the_limit(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server) as client:
        error, text = await failed(client, "tunethemodel_upload_dataset", ROWS)
    messages = {v["pointer"]: v["message"] for v in error["violations"]}
    assert messages["/classes"] == "[0, 1] is too short: it must have at least 32 items, and has 2"
    assert "at least 32 items" in messages["/inputs"]
    assert "at least 32 items, and has 2" in text
    assert sandbox.requests("tunethemodel") == []


async def test_an_upload_path_outside_the_allowed_folders_names_the_inline_rows(
    sandbox: RunningSandbox, state_dir: Path, tmp_path: Path
) -> None:
    allowed, elsewhere = tmp_path / "allowed", tmp_path / "elsewhere"
    allowed.mkdir()
    elsewhere.mkdir()
    data = elsewhere / "train.csv"
    data.write_text("text,label\n" + "".join(f"row {i},{i % 2}\n" for i in range(40)))
    upload = {"name": "train", "task_type": "classifier", "path": str(data)}
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[allowed]) as (server, _),
        Client(server) as client,
    ):
        error, text = await failed(client, "tunethemodel_upload_dataset", upload)
        assert (error["kind"], error["code"]) == ("validation", "path_not_allowed")
        assert error["next"] == ["tunethemodel_upload_dataset"]
        for alternative in ("`inputs`", "`classes`", "`outputs`", "at least 32 items", "allowed folders"):
            assert alternative in error["hint"], alternative
        assert "--allow-dir" in error["message"]  # the third way, said by the refusal itself
        assert "inline" in text
        # A multipart file has no inline form: the hint says where the file may be, and names no tool.
        files, _ = await failed(client, "datarobot_upload_dataset", {"file": str(data)})
        assert files["code"] == "path_not_allowed"
        assert "allowed folders" in files["hint"]
        assert "next" not in files
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server) as client:
        unset, _ = await failed(client, "tunethemodel_upload_dataset", upload)
        assert (unset["kind"], unset["code"]) == ("config", "no_upload_dir")
        assert unset["next"] == ["tunethemodel_upload_dataset"]
        assert "`inputs`" in unset["hint"]
        assert "allowed folders" not in unset["hint"]  # there are none
    assert sandbox.requests("tunethemodel") == []


async def test_a_wrong_session_key_names_the_tool_that_starts_one(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server) as client:
        await ok(client, "training_start_session")
        error, _ = await failed(client, "training_monitor", {"key": "not-the-key"})
        assert error["kind"] == "auth"
        assert error["next"] == ["training_start_session"]


async def test_only_tools_a_client_can_call_are_named(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with (
        in_process(sandbox.env(), state_dir, tools=["tunethemodel_classify"]) as (server, _),
        Client(server) as client,
    ):
        error, text = await failed(client, "tunethemodel_classify", {"model_id": "sentiment-clf", "input": "hi"})
        assert error["kind"] == "not_found"
        assert "next" not in error
        assert "hint" not in error
        assert "Next:" not in text


async def test_an_unknown_job_names_jobs_list(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server) as client:
        error, _ = await failed(client, "jobs_get", {"job_id": "nosuchjob"})
        assert error["next"] == ["jobs_list"]
        assert structured(await client.call_tool(error["next"][0], {}))["jobs"] == []
