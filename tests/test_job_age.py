"""An unfinished job is followed for a bounded time: past the age limit it ends `failed`, saying how to change it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from modelops_mcp.settings.config import Limits
from tests.support import CAILA_FIT, RunningSandbox, in_process, stdio_server, structured

pytestmark = pytest.mark.anyio


def status_calls(sandbox: RunningSandbox, remote_job_id: int) -> int:
    return len(sandbox.emulators.log.entries("caila", method="GET", path_suffix=f"/job/{remote_job_id}"))


def assert_ended_by_the_age_limit(job: dict[str, Any], limit: str) -> None:
    assert job["status"] == "failed"
    assert job["finished_at"] is not None
    error = job["error"]
    assert (error["kind"], error["code"]) == ("timeout", "job_max_age")
    assert f"past the {limit} age limit on following a job" in job["message"]
    # How to change it: the flag and the variable.
    assert "--job-max-age" in job["message"]
    assert "MODELOPS_JOB_MAX_AGE" in job["message"]
    assert job["message"] == error["message"]


async def test_a_job_unfinished_past_the_limit_ends_failed_and_is_polled_no_more(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    # The sandbox clock is frozen: the fit never finishes, as a job its backend lost would not.
    # 2 s, not 1: on a loaded two-core machine the start and the first jobs_get once took longer than 1 s.
    limits = Limits(poll_min_interval_s=0.05, poll_max_s=0.1, job_max_age_s=2)
    async with in_process(sandbox.env(), state_dir, limits) as (server, _), Client(server, mode="legacy") as client:
        started = structured(await client.call_tool("caila_fit_service", CAILA_FIT))
        early = structured(await client.call_tool("jobs_get", {"job_id": started["job"]["id"]}))["job"]
        waited = await client.call_tool("jobs_wait", {"job_id": started["job"]["id"], "timeout_s": 10})
        job = structured(waited)["job"]
        polls = status_calls(sandbox, started["jobId"])
        await anyio.sleep(0.5)  # five poll intervals: a job still followed would be polled again
        after = status_calls(sandbox, started["jobId"])
    assert early["status"] == "working"
    assert polls > 0  # it was followed until then
    assert_ended_by_the_age_limit(job, "2s")
    assert after == polls


async def test_the_age_counts_from_the_start_across_a_restart_and_the_variable_sets_it(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        started = structured(await client.call_tool("caila_fit_service", CAILA_FIT))
    job_id, began = started["job"]["id"], time.monotonic()
    await anyio.sleep(max(0.0, 1.2 - (time.monotonic() - began)))
    before = status_calls(sandbox, started["jobId"])
    # A new server, told by the variable: the job is older than its limit already, so no call is made for it.
    async with stdio_server(sandbox.env(MODELOPS_JOB_MAX_AGE="1s"), state_dir) as (client, _):
        job = structured(await client.call_tool("jobs_get", {"job_id": job_id}))["job"]
        await anyio.sleep(0.3)
    assert_ended_by_the_age_limit(job, "1s")
    assert status_calls(sandbox, started["jobId"]) == before
