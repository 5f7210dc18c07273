"""Bugs the fuzzer found, each pinned by the smallest call that showed it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.support import RunningSandbox, error_of, in_process

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("arguments", "pointer"),
    [
        ({"next_page": None}, "/next_page"),
        ({"next_page": 7}, "/next_page"),
        ({"next_page": "{base}/executionEnvironments/?limit=1", "0": None}, "/0"),
        ({"next_page": "{base}/executionEnvironments/?limit=1", "limit": "ten"}, "/limit"),
    ],
    ids=["null next_page", "number next_page", "unknown field beside next_page", "ill-typed field beside next_page"],
)
async def test_arguments_beside_next_page_are_validated_before_the_url_is_followed(
    sandbox: RunningSandbox, state_dir: Path, arguments: dict[str, Any], pointer: str
) -> None:
    base = sandbox.env()["DATAROBOT_ENDPOINT"]
    filled = {k: v.replace("{base}", base) if isinstance(v, str) else v for k, v in arguments.items()}
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        result = await client.call_tool("datarobot_list_execution_environments", filled)
    error = error_of(result)
    assert error["kind"] == "validation"
    assert [v["pointer"] for v in error["violations"]] == [pointer]
    assert sandbox.requests() == []


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("tunethemodel_delete_model", {"model_id": "m" * 70_000}),
        ("datarobot_list_custom_models", {"searchFor": "q" * 70_000}),
    ],
    ids=["path", "query"],
)
async def test_a_schema_valid_value_too_long_for_a_url_is_refused_not_a_crash(
    sandbox: RunningSandbox, state_dir: Path, tool: str, arguments: dict[str, Any]
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        result = await client.call_tool(tool, arguments)
    error = error_of(result)
    assert (error["kind"], error["code"]) == ("validation", "invalid_url")
    assert "unexpected failure" not in error["message"]
    assert sandbox.requests() == []


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("training_upload_dataset", {"key": "k", "train_file": "~0/train.csv", "test_file": "test.csv"}),
        ("training_upload_dataset", {"key": "k", "train_file": "train\x00.csv", "test_file": "test.csv"}),
        (
            "datarobot_create_custom_model_version_from_latest",
            {"customModelId": "m", "isMajorUpdate": "false", "files": ["~0"]},
        ),
        ("tunethemodel_upload_dataset", {"name": "d", "task_type": "classifier", "path": "rows\x00.csv"}),
    ],
    ids=["unknown ~user", "NUL byte", "unknown ~user in a file set", "NUL byte in a dataset path"],
)
async def test_a_local_path_no_file_can_have_is_refused_not_a_crash(
    sandbox: RunningSandbox, state_dir: Path, tmp_path: Path, tool: str, arguments: dict[str, Any]
) -> None:
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[tmp_path]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        result = await client.call_tool(tool, arguments)
    error = error_of(result)
    assert (error["kind"], error["code"]) == ("validation", "file_not_found")
    assert sandbox.requests() == []


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("datarobot_delete_custom_model", {"customModelId": ".."}),
        ("datarobot_delete_custom_model", {"customModelId": "."}),
        ("caila_list_fit_configs", {"account": "demo", "model": ".."}),
        ("datarobot_get_custom_model_version", {"customModelId": "m", "customModelVersionId": ".."}),
    ],
    ids=["DELETE climbing to /api/v2/", "DELETE on the collection", "account route", "version to model"],
)
async def test_a_dot_segment_path_argument_is_refused_not_sent_to_another_route(
    sandbox: RunningSandbox, state_dir: Path, tool: str, arguments: dict[str, Any]
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        result = await client.call_tool(tool, arguments)
    error = error_of(result)
    assert (error["kind"], error["code"]) == ("validation", "invalid_url")
    assert sandbox.requests() == []
