"""The Tasks handlers alone: tasks/get, tasks/cancel and tasks/update called directly on 2026-07-28 requests."""

from __future__ import annotations

from pathlib import Path

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from modelops_mcp.surface.parts import Runtime
from modelops_mcp.surface.tasks import TaskParams, Tasks, TaskUpdateParams
from tests.handler_context import TASKS, legacy_context, modern_context
from tests.support import CAILA_FIT, RunningSandbox, in_process

pytestmark = pytest.mark.anyio


def task(task_id: str) -> TaskParams:
    return TaskParams(taskId=task_id)


async def start_fit(runtime: Runtime) -> str:
    result = await runtime.executor.call("caila_fit_service", dict(CAILA_FIT))
    assert result.structured_content is not None, result
    job_id: str = result.structured_content["job"]["id"]
    return job_id


async def test_tasks_get_reads_the_job_then_inlines_the_tool_result_once_it_ends(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    ctx = modern_context(extensions=(TASKS,), method="tasks/get")
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        tasks = Tasks(runtime.jobs, runtime.catalog)
        job_id = await start_fit(runtime)
        working = await tasks.get(ctx, task(job_id))
        sandbox.emulators.clock.advance(600)
        # tasks/get polls the backend once the state is older than the minimum interval (50 ms here).
        with anyio.fail_after(10):
            while True:
                ended = await tasks.get(ctx, task(job_id))
                if ended["status"] != "working":
                    break
                await anyio.sleep(0.02)
    assert (working["taskId"], working["status"], working["pollIntervalMilliseconds"]) == (job_id, "working", 50)
    assert "result" not in working
    assert ended["status"] == "completed"
    result = types.CallToolResult.model_validate(ended["result"])
    assert result.is_error is not True
    assert result.structured_content is not None
    assert result.structured_content["state"] == "SUCCESS"
    assert result.structured_content["job"] == {"id": job_id, "uri": f"job://{job_id}", "status": "completed"}


async def test_a_task_request_without_the_extension_or_for_an_unknown_task_is_an_error(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        tasks = Tasks(runtime.jobs, runtime.catalog)
        job_id = await start_fit(runtime)
        with pytest.raises(MCPError) as undeclared:
            await tasks.get(modern_context(method="tasks/get"), task(job_id))
        with pytest.raises(MCPError) as unknown:
            await tasks.get(modern_context(extensions=(TASKS,)), task("nosuchtask"))
        # The handshake era has no envelope to declare it in: the request is served.
        assert (await tasks.get(legacy_context(method="tasks/get"), task(job_id)))["taskId"] == job_id
    assert undeclared.value.error.code == types.MISSING_REQUIRED_CLIENT_CAPABILITY
    assert TASKS in undeclared.value.error.message
    assert (unknown.value.error.code, unknown.value.error.message) == (types.INVALID_PARAMS, "Unknown task: nosuchtask")


async def test_tasks_cancel_lets_go_of_the_job_and_is_acknowledged_even_for_an_unknown_task(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    ctx = modern_context(extensions=(TASKS,), method="tasks/cancel")
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        tasks = Tasks(runtime.jobs, runtime.catalog)
        job_id = await start_fit(runtime)
        assert await tasks.cancel(ctx, task(job_id)) == {}
        assert await tasks.cancel(ctx, task("nosuchtask")) == {}
        cancelled = await tasks.get(ctx, task(job_id))
        job = runtime.jobs.get(job_id)
        with pytest.raises(MCPError):
            await tasks.cancel(modern_context(method="tasks/cancel"), task(job_id))
    assert job.following is False
    assert job.status == "working"  # Caila documents no cancel for a fit: the remote work is let go of
    assert cancelled["status"] == "cancelled"
    assert "result" not in cancelled


async def test_tasks_update_is_acknowledged_only_with_the_extension(sandbox: RunningSandbox, state_dir: Path) -> None:
    params = TaskUpdateParams(taskId="any", inputResponses={"confirm": {"action": "accept"}})
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        tasks = Tasks(runtime.jobs, runtime.catalog)
        assert await tasks.update(modern_context(extensions=(TASKS,), method="tasks/update"), params) == {}
        with pytest.raises(MCPError) as undeclared:
            await tasks.update(modern_context(method="tasks/update"), params)
    assert undeclared.value.error.code == types.MISSING_REQUIRED_CLIENT_CAPABILITY
