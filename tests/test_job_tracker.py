"""The tracker's manners towards a backend: backoff while idle, Retry-After, failures, a forgotten job."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from modelops_mcp.sandbox import Fault
from modelops_mcp.settings.config import Limits
from tests.support import CAILA_FIT, RunningSandbox, in_process, structured

pytestmark = pytest.mark.anyio

STATUS_PATH = r"/job/\d+$"


def status_times(sandbox: RunningSandbox) -> list[float]:
    return [r.time for r in sandbox.requests("caila") if r.method == "GET" and r.path.split("/")[-2] == "job"]


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


async def get_job(client: Client, job_id: str) -> dict[str, Any]:
    job: dict[str, Any] = structured(await client.call_tool("jobs_get", {"job_id": job_id}))["job"]
    return job


async def test_an_idle_job_is_polled_less_and_less_often_down_to_the_maximum(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    limits = Limits(poll_min_interval_s=0.05, poll_max_s=0.4)
    async with in_process(sandbox.env(), state_dir, limits) as (server, _), Client(server, mode="legacy") as client:
        await client.call_tool("caila_fit_service", CAILA_FIT)
        await anyio.sleep(2.5)  # nobody reads: only the tracker's own schedule calls the backend
    # The first status call is the start call's first look (while this in-process client still builds its
    # output validator, which holds the shared event loop): the schedule's backoff starts after it.
    times = status_times(sandbox)
    assert len(times) >= 2
    between = gaps(times[1:])
    # 0.05 → 0.1 → 0.2 → 0.4, then it stays at the maximum while the state does not move.
    assert len(between) >= 5, between
    assert between[0] < 0.15
    assert all(later >= earlier * 0.8 for earlier, later in itertools.pairwise(between)), between
    assert all(0.35 <= gap <= 0.6 for gap in between[4:]), between
    assert len(between) <= 10  # at 0.05 s without backoff it would have been about fifty


async def test_a_state_change_brings_the_next_poll_back_soon(sandbox: RunningSandbox, state_dir: Path) -> None:
    limits = Limits(poll_min_interval_s=0.05, poll_max_s=0.8)
    async with in_process(sandbox.env(), state_dir, limits) as (server, _), Client(server, mode="legacy") as client:
        handle = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]
        await anyio.sleep(1.6)  # backed off towards 0.8
        sandbox.emulators.clock.advance(30)  # PENDING → RUNNING
        await anyio.sleep(1.2)
        job = await get_job(client, handle["id"])
    assert job["state"] == "RUNNING"
    between = gaps(status_times(sandbox))
    backed_off = between.index(max(between))
    assert min(between[backed_off + 1 :]) < 0.2, between


async def test_retry_after_pushes_the_next_status_call_out(sandbox: RunningSandbox, state_dir: Path) -> None:
    limits = Limits(poll_min_interval_s=0.05, poll_max_s=0.1, max_retry_after_s=0.1)
    sandbox.emulators.faults.add(
        Fault(backend="caila", method="GET", path=STATUS_PATH, status=429, headers={"Retry-After": "1"}, times=1)
    )
    async with in_process(sandbox.env(), state_dir, limits) as (server, _), Client(server, mode="legacy") as client:
        handle = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]
        await anyio.sleep(1.5)
        job = await get_job(client, handle["id"])
    times = status_times(sandbox)
    assert gaps(times)[0] >= 0.95, times  # the first answer was 429 with Retry-After: 1
    assert job["status"] == "working"
    assert job["polls"]["errors"] == 1
    assert "rate_limited" in job["polls"]["last_error"]


async def test_a_failing_status_call_keeps_the_job_working_until_the_backend_answers(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    sandbox.emulators.faults.add(
        Fault(backend="caila", method="GET", path=STATUS_PATH, status=500, body={"error": "boom"}, times=2)
    )
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        handle = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]
        await anyio.sleep(0.3)
        during = await get_job(client, handle["id"])
        sandbox.emulators.clock.advance(600)
        ended = structured(await client.call_tool("jobs_wait", {"job_id": handle["id"], "timeout_s": 30}))["job"]
    assert during["status"] == "working"
    assert during["polls"]["errors"] == 2
    assert "HTTP 500" in during["polls"]["last_error"]
    assert ended["status"] == "completed"


async def test_a_job_the_backend_no_longer_knows_ends_failed(sandbox: RunningSandbox, state_dir: Path) -> None:
    sandbox.emulators.faults.add(
        Fault(backend="caila", method="GET", path=STATUS_PATH, status=404, body={"message": "Job not found"})
    )
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        handle = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]
        job = structured(await client.call_tool("jobs_wait", {"job_id": handle["id"], "timeout_s": 30}))["job"]
    assert job["status"] == "failed"
    assert "no longer knows" in job["message"]
    assert job["error"]["kind"] == "not_found"
    assert job["error"]["status"] == 404


async def test_a_status_answer_arriving_after_a_cancel_does_not_revive_the_job(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    # Slower than the start call waits for its first look (READ_WAIT_S): the call returns with the poll still out.
    # 3 s, well past the 1 s wait, so a loaded machine's slow start call still returns before the answer.
    sandbox.emulators.faults.add(Fault(backend="caila", method="GET", path=STATUS_PATH, delay_s=3.0, times=1))
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        handle = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]
        assert len(status_times(sandbox)) == 0  # the first status call is still out, and slow
        cancelled = structured(await client.call_tool("jobs_cancel", {"job_id": handle["id"], "stop_following": True}))[
            "job"
        ]
        for _ in range(200):  # the slow answer (PENDING) comes back within 10 s
            if status_times(sandbox):
                break
            await anyio.sleep(0.05)
        await anyio.sleep(0.5)  # time for a revived job's next poll, which must not come
        assert len(status_times(sandbox)) == 1
        job = await get_job(client, handle["id"])
    # Caila has no cancel: the job is let go of (not cancelled), and the late answer changes nothing.
    assert (cancelled["status"], cancelled["following"]) == ("working", False)
    visible = ("status", "state", "progress", "message", "following", "updated_at")
    assert {k: job[k] for k in visible} == {k: cancelled[k] for k in visible}


async def test_a_read_does_not_wait_behind_a_queue_of_background_polls(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    """One poll slot, held 3 s by a slow status answer for job A: job B's own poll queues behind it, but
    jobs_get on B answers from the store within the read wait instead of waiting the 3 s out."""
    import time

    limits = Limits(poll_min_interval_s=0.05, poll_max_s=0.1, poll_concurrency=1)
    async with in_process(sandbox.env(), state_dir, limits) as (server, _), Client(server, mode="legacy") as client:
        first = structured(await client.call_tool("caila_fit_service", CAILA_FIT))
        sandbox.emulators.faults.add(Fault(backend="caila", method="GET", path=f"/job/{first['jobId']}$", delay_s=3))
        second = structured(await client.call_tool("caila_fit_service", CAILA_FIT))
        await anyio.sleep(0.5)  # A's poll holds the slot; B's is queued behind it
        started = time.monotonic()
        job = await get_job(client, second["job"]["id"])
        waited = time.monotonic() - started
    assert job["status"] == "working"
    assert waited < 2.0, waited


async def test_a_read_makes_its_jobs_queued_poll_itself_and_the_worker_skips_it(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    """As above, but what the read gets: B's poll, queued behind A's slow one, is made by the read at once (a
    fresh status, not the stored one after the whole read wait of 1 s), and stays one status call: the worker
    that reaches it later skips it (no two of B's status calls closer than the minimum interval)."""
    import time

    limits = Limits(poll_min_interval_s=0.4, poll_max_s=0.4, poll_concurrency=1)
    async with in_process(sandbox.env(), state_dir, limits) as (server, _), Client(server, mode="legacy") as client:
        first = structured(await client.call_tool("caila_fit_service", CAILA_FIT))
        sandbox.emulators.faults.add(Fault(backend="caila", method="GET", path=f"/job/{first['jobId']}$", delay_s=2))
        second = structured(await client.call_tool("caila_fit_service", CAILA_FIT))
        b_path = f"/job/{second['jobId']}"

        def b_polls() -> list[float]:
            return [r.time for r in sandbox.requests("caila") if r.method == "GET" and r.path.endswith(b_path)]

        await anyio.sleep(0.9)  # A's poll holds the one slot; B's next poll (due after 0.4 s) is queued
        before = len(b_polls())
        started = time.monotonic()
        job = await get_job(client, second["job"]["id"])
        waited = time.monotonic() - started
        assert waited < 0.5, waited  # before: the read waited its full second, then read the store
        assert len(b_polls()) == before + 1  # the read made B's poll
        await anyio.sleep(2.5)  # A's slow poll ends; the worker reaches B's queued item
        times = b_polls()
    assert job["status"] == "working"
    assert min(gaps(times)) >= 0.4 - 0.05, gaps(times)
