"""Destructive calls ask the user first (elicitation), before anything is sent; decline sends nothing.

Driven through the SDK's Client in memory on both wires (handshake era: a mid-call elicitation/create;
2026-07-28: an InputRequiredResult the client answers and retries), over stdio and over Streamable HTTP.
With MODELOPS_SECURITY_REPORT=path set, the counts of confirmed, refused and unasked calls are appended.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from mcp.client import advertise
from mcp.client.context import ClientRequestContext
from mcp.shared.exceptions import MCPError

from tests.support import (
    CAILA_FIT,
    RunningSandbox,
    error_of,
    http_client,
    http_server_process,
    in_process,
    ok,
    record_security_check,
    stdio_server,
    structured,
)

pytestmark = pytest.mark.anyio

MODERN = "2026-07-28"
DESTRUCTIVE = {
    "datarobot_cancel_custom_model_test",
    "datarobot_cancel_dependency_build",
    "datarobot_delete_custom_model",
    "datarobot_delete_dataset",
    "datarobot_delete_execution_environment",
    "datarobot_permanently_delete_execution_environments",
    "datarobot_stop_custom_model_conversion",
    "pieces_cancel_model_download",
    "training_start_session",
    "training_stop_training",
    "tunethemodel_delete_file",
    "tunethemodel_delete_model",
    "jobs_cancel",
}


class User:
    """The person behind the client: answers each question as told, and remembers what was asked."""

    def __init__(self, action: str = "accept", confirm: bool = True) -> None:
        self.action = action
        self.confirm = confirm
        self.questions: list[types.ElicitRequestFormParams] = []

    async def __call__(self, context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestFormParams)
        self.questions.append(params)
        if self.action != "accept":
            return types.ElicitResult(action=self.action)  # type: ignore[arg-type]
        return types.ElicitResult(action="accept", content={"confirm": self.confirm})


def training_calls(sandbox: RunningSandbox) -> int:
    return len(sandbox.emulators.log.entries("training", path_suffix="/start_session"))


def deletes(sandbox: RunningSandbox) -> list[Any]:
    return sandbox.emulators.log.entries("tunethemodel", method="DELETE")


@asynccontextmanager
async def connected(
    sandbox: RunningSandbox, state_dir: Path, user: User | None, mode: str = "legacy", **settings: Any
) -> AsyncIterator[Client]:
    async with (
        in_process(sandbox.env(), state_dir, **settings) as (server, _),
        Client(server, mode=mode, elicitation_callback=user) as client,
    ):
        yield client


def refused(result: types.CallToolResult, tool: str) -> None:
    error = error_of(result)
    assert error["kind"] == "validation"
    assert error["code"] == "not_confirmed"
    assert error["operation"] == tool
    assert "nothing was sent" in error["message"]


async def test_destructive_tools_carry_the_destructive_hint(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with connected(sandbox, state_dir, None) as client:
        tools = (await client.list_tools()).tools
    destructive = {t.name for t in tools if t.annotations is not None and t.annotations.destructive_hint}
    assert destructive == DESTRUCTIVE
    # Whatever their method: every cancel and stop is destructive, and no read-only tool is.
    assert {t.name for t in tools if "_cancel_" in t.name or "_stop_" in t.name} <= destructive
    assert not {t.name for t in tools if t.annotations and t.annotations.read_only_hint} & destructive


@pytest.mark.parametrize("mode", ["legacy", MODERN])
async def test_force_restart_is_asked_first_and_only_a_yes_sends_it(
    sandbox: RunningSandbox, state_dir: Path, mode: str
) -> None:
    user = User()
    async with connected(sandbox, state_dir, user, mode) as client:
        first = await ok(client, "training_start_session")
        assert user.questions == []  # without force_restart nothing is wiped: nothing to ask
        for action, confirm in (("decline", True), ("cancel", True), ("accept", False)):
            user.action, user.confirm = action, confirm
            sent = training_calls(sandbox)
            refused(await client.call_tool("training_start_session", {"force_restart": 1}), "training_start_session")
            assert training_calls(sandbox) == sent
        user.action, user.confirm = "accept", True
        second = await ok(client, "training_start_session", {"force_restart": 1})
    assert second["key"] != first["key"]
    assert len(user.questions) == 4
    question = user.questions[-1]
    assert "training_start_session" in question.message
    assert "force_restart=1" in question.message
    assert question.requested_schema["properties"]["confirm"]["type"] == "boolean"
    record_security_check(f"declined/cancelled/unchecked force_restart sent nothing ({mode})", 3, 3)


@pytest.mark.parametrize("mode", ["legacy", MODERN])
async def test_a_delete_is_asked_first_and_names_its_target(
    sandbox: RunningSandbox, state_dir: Path, mode: str
) -> None:
    user = User(action="decline")
    async with connected(sandbox, state_dir, user, mode) as client:
        model_id = (await ok(client, "tunethemodel_create_model", {"model_type": "classifier"}))["model_id"]
        refused(
            await client.call_tool("tunethemodel_delete_model", {"model_id": model_id}), "tunethemodel_delete_model"
        )
        assert deletes(sandbox) == []
        assert (await ok(client, "tunethemodel_get_model", {"model_id": model_id}))["model_id"] == model_id
        user.action = "accept"
        await ok(client, "tunethemodel_delete_model", {"model_id": model_id})
    assert len(deletes(sandbox)) == 1
    assert [q.message.count(model_id) for q in user.questions] == [1, 1]
    assert all("DELETE" in q.message for q in user.questions)


async def test_bad_arguments_are_refused_without_asking(sandbox: RunningSandbox, state_dir: Path) -> None:
    user = User()
    async with connected(sandbox, state_dir, user) as client:
        error = error_of(await client.call_tool("tunethemodel_delete_model", {"model_id": 5}))
        assert error["kind"] == "validation"
        assert error.get("code") != "not_confirmed"
    assert user.questions == []
    assert deletes(sandbox) == []


async def test_a_client_without_elicitation_is_not_asked(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with connected(sandbox, state_dir, None) as client:
        await ok(client, "training_start_session")
        await ok(client, "training_start_session", {"force_restart": 1})
    assert training_calls(sandbox) == 2


async def test_no_confirm_runs_destructive_calls_without_asking(sandbox: RunningSandbox, state_dir: Path) -> None:
    user = User(action="decline")  # would refuse, were it asked
    async with connected(sandbox, state_dir, user, confirm=False) as client:
        await ok(client, "training_start_session")
        await ok(client, "training_start_session", {"force_restart": 1})
    assert user.questions == []
    assert training_calls(sandbox) == 2


async def test_jobs_cancel_asks_before_cancelling_a_running_job(sandbox: RunningSandbox, state_dir: Path) -> None:
    user = User(action="decline")
    async with connected(sandbox, state_dir, user) as client:
        handle = (await ok(client, "caila_fit_service", CAILA_FIT))["job"]
        refused(await client.call_tool("jobs_cancel", {"job_id": handle["id"]}), "jobs_cancel")
        assert (await ok(client, "jobs_get", {"job_id": handle["id"]}))["job"]["status"] == "working"
        user.action = "accept"
        # Caila documents no cancel for a fit: the job is let go of, not called cancelled.
        cancelled = await ok(client, "jobs_cancel", {"job_id": handle["id"], "stop_following": True})
        assert (cancelled["job"]["status"], cancelled["job"]["following"]) == ("working", False)
        await ok(client, "jobs_cancel", {"job_id": handle["id"]})  # no longer followed: nothing to ask about
        assert error_of(await client.call_tool("jobs_cancel", {"job_id": "nosuchjob"}))["kind"] == "not_found"
    assert len(user.questions) == 2
    assert handle["id"] in user.questions[0].message


@pytest.mark.parametrize("mode", ["legacy", MODERN])
async def test_ops_call_in_search_mode_asks_too(sandbox: RunningSandbox, state_dir: Path, mode: str) -> None:
    user = User(action="decline")
    async with connected(sandbox, state_dir, user, mode, discovery="search") as client:
        model_id = (await ok(client, "tunethemodel_create_model", {"model_type": "generator"}))["model_id"]
        call = {"name": "tunethemodel_delete_model", "arguments": {"model_id": model_id}}
        refused(await client.call_tool("ops_call", call), "tunethemodel_delete_model")
        assert deletes(sandbox) == []
        user.action = "accept"
        await ok(client, "ops_call", call)
    assert len(deletes(sandbox)) == 1
    assert len(user.questions) == 2


async def test_a_task_aware_client_is_asked_before_anything_starts(sandbox: RunningSandbox, state_dir: Path) -> None:
    user = User(action="decline")
    tasks = advertise("io.modelcontextprotocol/tasks", {})
    async with (
        in_process(sandbox.env(), state_dir) as (server, _),
        Client(server, mode=MODERN, elicitation_callback=user, extensions=[tasks]) as client,
    ):
        refused(await client.call_tool("training_start_session", {"force_restart": 1}), "training_start_session")
        assert training_calls(sandbox) == 0
        user.action = "accept"
        started = await ok(client, "training_start_session", {"force_restart": 1})
    assert "key" in started
    assert training_calls(sandbox) == 1


async def test_read_only_mode_lists_no_destructive_tool_and_asks_nothing(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    user = User(action="decline")
    async with connected(sandbox, state_dir, user, read_only=True) as client:
        tools = (await client.list_tools()).tools
        await ok(client, "caila_list_datasets", {"account": "demo"})
        with pytest.raises(MCPError, match="Unknown tool"):  # not exposed, so never asked about
            await client.call_tool("tunethemodel_delete_model", {"model_id": "m"})
    assert not [t.name for t in tools if t.annotations and t.annotations.destructive_hint]
    assert user.questions == []
    assert deletes(sandbox) == []


async def test_over_stdio_decline_sends_nothing_and_accept_sends(sandbox: RunningSandbox, state_dir: Path) -> None:
    user = User(action="decline")
    async with stdio_server(sandbox.env(), state_dir, elicitation_callback=user) as (client, _):
        await ok(client, "training_start_session")
        refused(await client.call_tool("training_start_session", {"force_restart": 1}), "training_start_session")
        assert training_calls(sandbox) == 1
        user.action = "accept"
        await ok(client, "training_start_session", {"force_restart": 1})
    assert training_calls(sandbox) == 2
    assert len(user.questions) == 2


async def test_over_stdio_the_no_confirm_variable_turns_questions_off(sandbox: RunningSandbox, state_dir: Path) -> None:
    user = User(action="decline")
    env = sandbox.env(MODELOPS_NO_CONFIRM="1")
    async with stdio_server(env, state_dir, elicitation_callback=user) as (client, _):
        await ok(client, "training_start_session")
        await ok(client, "training_start_session", {"force_restart": 1})
    async with stdio_server(sandbox.env(), state_dir, "--no-confirm", elicitation_callback=user) as (client, _):
        await ok(client, "training_start_session", {"force_restart": 1})
    assert user.questions == []
    assert training_calls(sandbox) == 3


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_over_streamable_http_both_wires_ask(sandbox: RunningSandbox, state_dir: Path, mode: str) -> None:
    user = User(action="decline")
    with http_server_process(sandbox.env(), state_dir) as (url, _):
        async with http_client(url, mode=mode, elicitation_callback=user) as client:
            await ok(client, "training_start_session")
            result = await client.call_tool("training_start_session", {"force_restart": 1})
            refused(result, "training_start_session")
            user.action = "accept"
            assert "key" in structured(await client.call_tool("training_start_session", {"force_restart": 1}))
    assert training_calls(sandbox) == 2
    assert len(user.questions) == 2
