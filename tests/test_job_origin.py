"""A job is polled only against the backend that started it: never a sandbox job against a real backend."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from mcp import Client

from modelops_mcp.jobs import Job, JobStore
from modelops_mcp.sandbox import Sandbox, serve_sandbox
from tests.support import CAILA_FIT, RunningSandbox, in_process, server_env, stdio_server, structured

pytestmark = pytest.mark.anyio

# Stands for a real account's key: it must reach no server but the one it is configured for.
REAL_KEY = "real-key-3f9a1c-not-for-the-sandbox"


@pytest.fixture
async def second() -> AsyncIterator[RunningSandbox]:
    """Another backend on another loopback port: a stand-in for the real service, counting what reaches it."""
    emulators = Sandbox(speed=0)
    async with serve_sandbox(emulators) as url:
        yield RunningSandbox(emulators, url)


async def get_job(client: Client, job_id: str) -> dict[str, object]:
    job: dict[str, object] = structured(await client.call_tool("jobs_get", {"job_id": job_id}))["job"]
    return job


def jobs_cli(state_dir: Path, *args: str) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "modelops_mcp", "jobs", *args, "--json"],
        env=server_env({}, state_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    listed: list[dict[str, object]] = json.loads(done.stdout)
    return listed


async def test_a_sandbox_job_is_kept_apart_and_a_server_on_another_backend_never_polls_it(
    second: RunningSandbox, state_dir: Path
) -> None:
    async with stdio_server({}, state_dir, "--sandbox") as (client, _):
        started = structured(await client.call_tool("caila_fit_service", CAILA_FIT))
    job_id = started["job"]["id"]

    # The same state dir, now configured for "the real backend" with its key, as the user had it.
    real = second.env(CAILA_API_KEY=REAL_KEY)
    async with stdio_server(real, state_dir) as (client, _):
        listed = structured(await client.call_tool("jobs_list", {}))["jobs"]
        await anyio.sleep(0.6)  # a dozen poll intervals: time enough for a resumed job to be polled
    assert listed == []
    assert second.requests() == []

    # The sandbox's jobs are still there, apart: `jobs --sandbox` shows them, plain `jobs` does not.
    sandboxed = jobs_cli(state_dir, "--sandbox")
    assert [job["id"] for job in sandboxed] == [job_id]
    assert str(sandboxed[0]["origin"]).startswith("http://127.0.0.1:")
    assert jobs_cli(state_dir) == []


async def test_a_job_is_not_polled_against_another_backend_url_and_says_why(
    sandbox: RunningSandbox, second: RunningSandbox, state_dir: Path
) -> None:
    # The first server in process (the scenario's stdio servers are the previous test's; the restart below is one).
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        started = structured(await client.call_tool("caila_fit_service", CAILA_FIT))
    # As stored when the first server stopped: it may have polled once more after the start answered.
    (before,) = [job for job in jobs_cli(state_dir) if job["id"] == started["job"]["id"]]
    first_origin = sandbox.env()["CAILA_BASE_URL"]
    assert before["origin"] == first_origin

    # Restarted on the same state dir, configured for a second server with another key.
    real = second.env(CAILA_API_KEY=REAL_KEY)
    async with stdio_server(real, state_dir) as (client, errlog):
        await anyio.sleep(0.6)
        job = await get_job(client, started["job"]["id"])
        waited = structured(await client.call_tool("jobs_wait", {"job_id": job["id"], "timeout_s": 0.3}))["job"]
    assert second.requests() == []
    assert job["status"] == before["status"] == waited["status"] == "working"
    assert job["state"] == before["state"]
    assert job["message"] == (
        f"started against {first_origin}; CAILA_BASE_URL is now {real['CAILA_BASE_URL']}: not polled"
    )
    assert job["polls"] == before["polls"]  # not a single status call was made for it
    assert REAL_KEY not in errlog.read_text()


async def test_the_same_backend_after_a_restart_resumes_polling(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        job_id = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]["id"]
    sandbox.emulators.clock.advance(3600)  # the fit is done on the backend while no server runs
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        done = structured(await client.call_tool("jobs_wait", {"job_id": job_id, "timeout_s": 5}))["job"]
    assert done["status"] == "completed"


async def test_cancelling_a_job_of_another_backend_sends_nothing_and_stops_tracking(
    sandbox: RunningSandbox, second: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        job_id = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]["id"]
    async with in_process(second.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        kept = structured(await client.call_tool("jobs_cancel", {"job_id": job_id}))
        cancelled = structured(await client.call_tool("jobs_cancel", {"job_id": job_id, "stop_following": True}))
    assert second.requests() == []
    # Nothing could be cancelled: the job is never called cancelled, only let go of when asked.
    assert kept["backend_cancelled"] is False
    assert (kept["job"]["status"], kept["job"]["following"]) == ("working", True)
    assert "Nothing was stopped" in kept["message"]
    assert cancelled["backend_cancelled"] is False
    assert (cancelled["job"]["status"], cancelled["job"]["following"]) == ("working", False)
    assert "no cancel was sent" in cancelled["message"]
    assert f"started against {sandbox.env()['CAILA_BASE_URL']}" in cancelled["message"]


async def test_a_job_stored_without_its_backend_url_is_never_polled(sandbox: RunningSandbox, state_dir: Path) -> None:
    # As an older modelops-mcp stored it: no origin. It may be a sandbox job; the server cannot tell.
    store = JobStore(state_dir / "jobs.sqlite3")
    old = Job(id="oldjob2345", backend="caila", operation="caila_fit_service", remote={"jobId": 9001})
    store.insert(old)
    store.close()
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        await anyio.sleep(0.3)
        job = await get_job(client, old.id)
    assert sandbox.requests() == []
    assert job["status"] == "working"
    assert job["origin"] is None
    message = str(job["message"])
    assert "stored without the backend URL it was started against" in message
    assert f"CAILA_BASE_URL is now {sandbox.env()['CAILA_BASE_URL']}: not polled" in message
