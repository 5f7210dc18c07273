"""No job is lost when the server dies: the backend outlives it (its own process), and the next server resumes."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client

from tests.support import CAILA_FIT, sandbox_process, start_http_server, structured

pytestmark = pytest.mark.anyio

# Simulated seconds per real second: a sandbox fit (300 s) takes 7.5 s, long enough to kill the server mid-fit.
SPEED = 40


@pytest.fixture
def standalone_sandbox() -> Iterator[dict[str, str]]:
    """`modelops-mcp sandbox` as its own process; yields the exports it prints."""
    with sandbox_process("--speed", str(SPEED)) as sandbox:
        yield sandbox.env


def status_calls_since(env: dict[str, str], remote_job_id: int, since: float) -> int:
    control = env["CAILA_BASE_URL"].rsplit("/", 1)[0] + "/_sandbox/requests"
    entries = httpx.get(control, params={"backend": "caila"}).json()["requests"]
    return sum(1 for r in entries if r["path"].endswith(f"/job/{remote_job_id}") and r["time"] >= since)


async def test_a_job_survives_a_killed_server_and_completes_after_restart(
    standalone_sandbox: dict[str, str], tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    first, url, _ = start_http_server(standalone_sandbox, state_dir)
    try:
        async with Client(url, mode="legacy") as client:
            started = structured(await client.call_tool("caila_fit_service", CAILA_FIT))
    finally:
        first.send_signal(signal.SIGKILL)  # no shutdown hooks, no flush: only what was committed survives
        first.wait(timeout=10)
    handle, remote_job_id = started["job"], started["jobId"]

    restarted_at = time.time()
    second, url, errlog = start_http_server(standalone_sandbox, state_dir)
    try:
        # The restarted server follows the job on its own, before anyone asks about it.
        for _ in range(100):  # at most ten seconds
            if status_calls_since(standalone_sandbox, remote_job_id, restarted_at):
                break
            await anyio.sleep(0.1)
        else:
            pytest.fail("the restarted server did not resume following the job")
        async with Client(url, mode="legacy") as client:
            listed = structured(await client.call_tool("jobs_list", {}))["jobs"]
            assert [job["id"] for job in listed] == [handle["id"]]
            assert listed[0]["status"] == "working"
            waited = structured(await client.call_tool("jobs_wait", {"job_id": handle["id"], "timeout_s": 60}))
    finally:
        second.terminate()
        second.wait(timeout=10)
    job = waited["job"]
    assert job["status"] == "completed", errlog.read_text()
    assert job["result"]["jobId"] == remote_job_id
    assert job["result"]["state"] == "SUCCESS"
