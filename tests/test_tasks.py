"""The Tasks extension (SEP-2663) through the SDK's client extension hooks: task handles, tasks/get, cancel."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.shared.exceptions import MCPError
from pydantic import Field, TypeAdapter

from tests.support import CAILA_FIT, RunningSandbox, error_in_json, in_process, structured

pytestmark = pytest.mark.anyio

TASKS = "io.modelcontextprotocol/tasks"
RAW = TypeAdapter(dict[str, Any])


class CreatedTask(types.Result):
    result_type: Literal["task"] = Field(alias="resultType")
    task_id: str = Field(alias="taskId")
    status: str
    status_message: str | None = Field(default=None, alias="statusMessage")
    created_at: str = Field(alias="createdAt")
    last_updated_at: str = Field(alias="lastUpdatedAt")
    ttl_seconds: int | None = Field(alias="ttlSeconds")
    poll_interval_ms: int | None = Field(default=None, alias="pollIntervalMilliseconds")


class TaskRef(types.RequestParams):
    task_id: str = Field(alias="taskId")


class TaskGet(types.Request[TaskRef, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    name_param = "taskId"


class TaskCancel(types.Request[TaskRef, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    name_param = "taskId"


async def task_get(session: Any, task_id: str) -> dict[str, Any]:
    return await session.send_request(TaskGet(params=TaskRef(taskId=task_id)), RAW)  # type: ignore[no-any-return]


class TasksClient(ClientExtension):
    """What a task-aware client does: poll tasks/get at the server's pace, then hand back the tool result."""

    identifier = TASKS

    def __init__(self) -> None:
        self.seen: list[CreatedTask] = []
        self.polls = 0

    def claims(self) -> Sequence[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=CreatedTask, resolve=self.resolve)]

    async def resolve(self, created: CreatedTask, ctx: ClaimContext) -> types.CallToolResult:
        self.seen.append(created)
        with anyio.fail_after(30):
            while True:
                task = await task_get(ctx.session, created.task_id)
                self.polls += 1
                if task["status"] == "completed":
                    return types.CallToolResult.model_validate(task["result"])
                assert task["status"] == "working", task
                await anyio.sleep((task["pollIntervalMilliseconds"] or 1000) / 1000)


async def advance_after(sandbox: RunningSandbox, delay: float, seconds: float) -> None:
    await anyio.sleep(delay)
    sandbox.emulators.clock.advance(seconds)


async def test_a_client_that_opts_in_gets_a_task_and_then_the_tool_result(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    tasks = TasksClient()
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, extensions=[tasks]) as client:
        assert client.server_capabilities.extensions == {TASKS: {}}
        async with anyio.create_task_group() as tg:
            tg.start_soon(advance_after, sandbox, 0.3, 600)
            result = await client.call_tool("caila_fit_service", CAILA_FIT)
        jobs = structured(await client.call_tool("jobs_list", {}))["jobs"]

    (created,) = tasks.seen
    assert created.status == "working"
    assert created.poll_interval_ms == 50  # the server's minimum poll interval
    assert created.ttl_seconds is None
    assert tasks.polls >= 2  # it was working, then completed
    assert [job["id"] for job in jobs] == [created.task_id]  # the task is the job
    assert not result.is_error
    final = structured(result)
    assert final["done"] is True
    assert final["state"] == "SUCCESS"
    assert final["job"] == {"id": created.task_id, "uri": f"job://{created.task_id}", "status": "completed"}


async def test_tasks_get_and_cancel_on_the_wire(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with (
        in_process(sandbox.env(), state_dir) as (server, _),
        Client(server, extensions=[TasksClient()]) as client,
    ):
        created = await client.session.call_tool("caila_fit_service", CAILA_FIT, allow_claimed=True)
        assert isinstance(created, CreatedTask)
        task = await task_get(client.session, created.task_id)
        assert task["resultType"] == "complete"
        assert task["status"] == "working"
        assert "result" not in task

        ack = await client.session.send_request(TaskCancel(params=TaskRef(taskId=created.task_id)), RAW)
        assert ack.get("resultType") == "complete"
        assert set(ack) <= {"resultType", "_meta"}
        assert (await task_get(client.session, created.task_id))["status"] == "cancelled"
        job = structured(await client.call_tool("jobs_get", {"job_id": created.task_id}))["job"]
        # Caila documents no cancel for a fit: the task is over for the client, but the job is not called
        # cancelled, since the remote fit may still run; it is no longer followed, and both say so.
        assert (job["status"], job["following"]) == ("working", False)
        assert "may still be running" in job["message"]
        assert "may still run" in (await task_get(client.session, created.task_id))["statusMessage"]

        # An unknown task: cancel is still acknowledged (the SEP's rule), get is an invalid-params error.
        await client.session.send_request(TaskCancel(params=TaskRef(taskId="nosuchtask")), RAW)
        with pytest.raises(MCPError) as raised:
            await task_get(client.session, "nosuchtask")
        assert raised.value.code == types.INVALID_PARAMS


async def test_a_failed_fit_completes_the_task_with_an_error_result(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with (
        in_process(sandbox.env(), state_dir) as (server, _),
        Client(server, extensions=[TasksClient()]) as client,
    ):
        created = await client.session.call_tool(
            "caila_fit_service", {**CAILA_FIT, "datasetId": 503}, allow_claimed=True
        )
        assert isinstance(created, CreatedTask)
        sandbox.emulators.clock.advance(200)
        for _ in range(200):  # at most ten seconds
            task = await task_get(client.session, created.task_id)
            if task["status"] != "working":
                break
            await anyio.sleep(0.05)
    # A tool result with isError is `completed` in the SEP; `failed` is for JSON-RPC errors only.
    assert task["status"] == "completed"
    assert task["result"]["isError"] is True
    assert "broken-labels" in error_in_json(task["result"])["message"]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_client_that_does_not_opt_in_gets_the_plain_result(
    sandbox: RunningSandbox, state_dir: Path, mode: str
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode=mode) as client:
        result = await client.call_tool("caila_fit_service", CAILA_FIT)
    assert not result.is_error
    assert structured(result)["job"]["status"] == "working"


class TaskUpdateRef(TaskRef):
    input_responses: dict[str, Any] = Field(default_factory=dict, alias="inputResponses")


class TaskUpdate(types.Request[TaskUpdateRef, Literal["tasks/update"]]):
    method: Literal["tasks/update"] = "tasks/update"
    name_param = "taskId"


async def test_tasks_methods_need_the_extension_on_the_2026_wire(sandbox: RunningSandbox, state_dir: Path) -> None:
    """SEP-2663: tasks/get, tasks/update and tasks/cancel from a client that did not name the extension are
    -32021 (missing required client capability), even for a real task; the conformance suite's
    tasks-capability-negotiation checks it."""
    async with in_process(sandbox.env(), state_dir) as (server, _):
        async with Client(server, extensions=[TasksClient()]) as opted_in:
            created = await opted_in.session.call_tool("caila_fit_service", CAILA_FIT, allow_claimed=True)
            assert isinstance(created, CreatedTask)
        async with Client(server, mode="auto") as plain:
            requests: list[types.Request[Any, Any]] = [
                TaskGet(params=TaskRef(taskId=created.task_id)),
                TaskUpdate(params=TaskUpdateRef(taskId=created.task_id)),
                TaskCancel(params=TaskRef(taskId=created.task_id)),
            ]
            for request in requests:
                with pytest.raises(MCPError) as refused:
                    await plain.session.send_request(request, RAW)
                assert refused.value.code == types.MISSING_REQUIRED_CLIENT_CAPABILITY, request.method
                assert refused.value.error.data == {"requiredCapabilities": {"extensions": {TASKS: {}}}}
            job = structured(await plain.call_tool("jobs_get", {"job_id": created.task_id}))["job"]
    assert job["status"] == "working"  # the refused cancel did not cancel it
