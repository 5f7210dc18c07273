"""Calls that end early: `notifications/cancelled` mid-call and clients that leave during `jobs_wait`.

The server runs in the test's own event loop (an in-memory client, or uvicorn on a loopback port), so the
tasks it leaves behind can be counted: every task started during the test must end, and the loop's task
count must come back to where it was.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server import Server

from modelops_mcp.sandbox import Fault
from modelops_mcp.settings.config import Limits
from modelops_mcp.surface.http_auth import http_access
from modelops_mcp.surface.parts import Runtime
from modelops_mcp.surface.transports import run_http
from tests.support import CAILA_FIT, RunningSandbox, in_process, structured

pytestmark = pytest.mark.anyio

SLOW_S = 2.0  # how long the sandbox holds the slow request: well past the moment it is cancelled
SETTLE_S = 10.0  # the bound on waiting for stragglers to end
# A poll interval longer than each test's window: no background poll task comes and goes while tasks are
# counted, so what is left over is what the cancelled work leaked.
QUIET = Limits(poll_min_interval_s=3.0, poll_max_s=3.0)
FIT_PATH = r"/model/[^/]+/fit$"


def snapshot() -> set[asyncio.Task[Any]]:
    return {task for task in asyncio.all_tasks() if not task.done()}


async def leftovers(baseline: set[asyncio.Task[Any]]) -> list[str]:
    """Tasks started since `baseline` that are still running after a bounded wait (empty: none leaked)."""
    for _ in range(int(SETTLE_S / 0.05)):
        if not snapshot() - baseline and len(snapshot()) <= len(baseline):
            break
        await anyio.sleep(0.05)  # nothing signals a task's end to a bystander: look again
    return sorted(repr(task.get_coro()) for task in snapshot() - baseline)


async def until(condition: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await anyio.sleep(0.02)
    raise AssertionError(f"not within {seconds}s")


def jobs_in(runtime: Runtime) -> list[str]:
    jobs, _ = runtime.jobs.store.page(limit=100)
    return [job.id for job in jobs]


async def test_a_cancelled_slow_call_is_abandoned_and_leaves_no_task(sandbox: RunningSandbox, state_dir: Path) -> None:
    slow = sandbox.emulators.faults.add(Fault(backend="caila", method="POST", path=FIT_PATH, delay_s=SLOW_S))
    async with in_process(sandbox.env(), state_dir, QUIET) as (server, runtime), Client(server, mode="legacy") as c:
        assert not (
            await c.call_tool("caila_list_fit_configs", {"account": "demo", "model": "text-classifier"})
        ).is_error
        baseline = snapshot()
        with anyio.move_on_after(SLOW_S * 10) as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(c.call_tool, "caila_fit_service", CAILA_FIT)
                await until(lambda: slow.hits == 1)  # the request is at the backend
                tg.cancel_scope.cancel()  # the client sends notifications/cancelled
        assert not scope.cancelled_caught
        assert await leftovers(baseline) == []
        # Had the server carried on, the fit would have been accepted once the delay ran out and a job made.
        await anyio.sleep(SLOW_S + 0.5)
        assert jobs_in(runtime) == []
        fits = [r for r in sandbox.requests("caila") if r.method == "POST" and r.path.endswith("/fit")]
        assert len(fits) == 1  # abandoned, not retried
        # Still serving: the same call, now without the fault, starts its job.
        sandbox.emulators.faults.clear()
        started = structured(await c.call_tool("caila_fit_service", CAILA_FIT))
        assert jobs_in(runtime) == [started["job"]["id"]]


async def test_fifty_concurrent_calls_all_cancelled_leave_no_task_and_no_job(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    calls = 50
    slow = sandbox.emulators.faults.add(Fault(backend="caila", method="POST", path=FIT_PATH, delay_s=SLOW_S))
    async with in_process(sandbox.env(), state_dir, QUIET) as (server, runtime), Client(server, mode="legacy") as c:
        assert not (await c.call_tool("jobs_list", {})).is_error
        baseline = snapshot()
        with anyio.fail_after(SLOW_S * 10):
            async with anyio.create_task_group() as tg:
                for _ in range(calls):
                    tg.start_soon(c.call_tool, "caila_fit_service", CAILA_FIT)
                # The backend client's pool admits some at once; cancel while they are out.
                await until(lambda: slow.hits >= 10)
                tg.cancel_scope.cancel()
        assert await leftovers(baseline) == []
        await anyio.sleep(SLOW_S + 0.5)
        assert jobs_in(runtime) == []
        assert not (await c.call_tool("jobs_list", {})).is_error


async def test_a_client_that_disconnects_in_memory_during_jobs_wait_frees_the_waiter(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir, QUIET) as (server, runtime):
        async with Client(server, mode="legacy") as first:
            job_id = structured(await first.call_tool("caila_fit_service", CAILA_FIT))["job"]["id"]
        baseline = snapshot()
        with anyio.fail_after(30):
            async with Client(server, mode="legacy") as leaving, anyio.create_task_group() as tg:
                tg.start_soon(leaving.call_tool, "jobs_wait", {"job_id": job_id, "timeout_s": 300})
                await anyio.sleep(0.5)  # the wait is parked on the job
                tg.cancel_scope.cancel()
        assert await leftovers(baseline) == []
        await job_still_followed_to_the_end(server, runtime, sandbox, job_id)


async def job_still_followed_to_the_end(
    server: Server[object] | str, runtime: Runtime, sandbox: RunningSandbox, job_id: str
) -> None:
    assert job_id in runtime.jobs.store.active_ids()
    sandbox.emulators.clock.advance(10_000)  # the fit is done on the backend
    async with Client(server, mode="legacy") as client:
        waited = structured(await client.call_tool("jobs_wait", {"job_id": job_id, "timeout_s": 30}))
    assert waited["job"]["status"] == "completed", waited


@asynccontextmanager
async def http_in_this_loop(server: Server[object]) -> AsyncIterator[str]:
    """The one place this module serves HTTP: `run_http` on a free loopback port, in the test's event loop,
    without a token (`--no-auth` on loopback): these tests are about sessions, tests/test_http_auth.py about auth."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_http, server, "127.0.0.1", port, http_access("127.0.0.1", no_auth=True))
        url = f"http://127.0.0.1:{port}/mcp"
        with anyio.fail_after(15):
            while True:
                try:
                    await anyio.connect_tcp("127.0.0.1", port)
                    break
                except OSError:
                    await anyio.sleep(0.05)
        yield url
        tg.cancel_scope.cancel()


async def test_an_http_client_that_disconnects_during_jobs_wait_frees_the_waiter(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir, QUIET) as (server, runtime), http_in_this_loop(server) as url:
        async with Client(url, mode="legacy") as first:
            job_id = structured(await first.call_tool("caila_fit_service", CAILA_FIT))["job"]["id"]
        await anyio.sleep(0.3)  # the first session's teardown
        baseline = snapshot()
        with anyio.fail_after(30):
            async with Client(url, mode="legacy") as leaving, anyio.create_task_group() as tg:
                tg.start_soon(leaving.call_tool, "jobs_wait", {"job_id": job_id, "timeout_s": 300})
                await anyio.sleep(0.5)
                tg.cancel_scope.cancel()
        assert await leftovers(baseline) == []
        await job_still_followed_to_the_end(url, runtime, sandbox, job_id)


async def test_an_http_call_cancelled_mid_flight_is_abandoned_and_leaves_no_task(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    slow = sandbox.emulators.faults.add(Fault(backend="caila", method="POST", path=FIT_PATH, delay_s=SLOW_S))
    async with (
        in_process(sandbox.env(), state_dir, QUIET) as (server, runtime),
        http_in_this_loop(server) as url,
        Client(url, mode="legacy") as client,
    ):
        assert not (await client.call_tool("jobs_list", {})).is_error
        baseline = snapshot()
        with anyio.fail_after(SLOW_S * 10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.call_tool, "caila_fit_service", CAILA_FIT)
                await until(lambda: slow.hits == 1)
                tg.cancel_scope.cancel()
        assert await leftovers(baseline) == []
        await anyio.sleep(SLOW_S + 0.5)
        assert jobs_in(runtime) == []
        assert not (await client.call_tool("jobs_list", {})).is_error
