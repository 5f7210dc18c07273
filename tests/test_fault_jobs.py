"""Jobs under faults: while the status route fails the job stays working and its polls back off; once the
fault clears it completes. A progress WebSocket that closes mid-stream does not fail a Pieces download."""

from __future__ import annotations

import itertools
from pathlib import Path

import anyio
import pytest
from mcp import Client

from modelops_mcp.sandbox import Fault
from modelops_mcp.sandbox.pieces_data import LLAMA_3_8B_ID, PiecesState
from modelops_mcp.settings.config import Limits
from tests.support import CAILA_FIT, RunningSandbox, in_process, structured, wait_for_job

pytestmark = pytest.mark.anyio

STATUS_PATH = r"/job/\d+$"
# One attempt per poll, so the gaps between the emulator's log entries are the tracker's own backoff.
LIMITS = Limits(
    max_attempts=1, read_timeout_s=0.3, poll_min_interval_s=0.05, poll_max_s=0.4, max_response_bytes=64 * 1024
)


def status_times(sandbox: RunningSandbox) -> list[float]:
    return [r.time for r in sandbox.requests("caila") if r.method == "GET" and r.path.split("/")[-2] == "job"]


# A poll that times out spends `read_timeout_s` before its backoff starts: taken off the gaps compared.
SLOW = {"latency": LIMITS.read_timeout_s}


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault(backend="caila", method="GET", path=STATUS_PATH, status=503), id="503"),
        pytest.param(Fault(backend="caila", method="GET", path=STATUS_PATH, kind="reset"), id="reset"),
        pytest.param(Fault(backend="caila", method="GET", path=STATUS_PATH, delay_s=0.35), id="latency"),
        pytest.param(Fault(backend="caila", method="GET", path=STATUS_PATH, kind="malformed"), id="malformed"),
        pytest.param(Fault(backend="caila", method="GET", path=STATUS_PATH, kind="html"), id="html"),
        pytest.param(Fault(backend="caila", method="GET", path=STATUS_PATH, kind="oversized", size=1024**2), id="big"),
    ],
)
async def test_a_job_rides_out_a_failing_status_route_and_completes_once_it_clears(
    sandbox: RunningSandbox, state_dir: Path, fault: Fault, request: pytest.FixtureRequest
) -> None:
    slow = SLOW.get(request.node.callspec.id, 0.0)
    async with (
        in_process(sandbox.env(), state_dir, LIMITS) as (server, runtime),
        Client(server, mode="legacy") as client,
    ):
        handle = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]
        sandbox.emulators.faults.add(fault)
        await anyio.sleep(2.0 + 2 * slow)
        during = runtime.jobs.get(handle["id"])  # from the store: reading must not add polls of its own
        assert during.status == "working", during
        assert during.polls.errors >= 3, during.polls
        assert during.polls.last_error, during.polls
        # The first status call is the start call's first look, answered before the fault was added.
        faulted = status_times(sandbox)[1:]
        sandbox.emulators.faults.clear()
        sandbox.emulators.clock.advance(3600)
        job = await wait_for_job(client, handle["id"])
    assert job["status"] == "completed", job
    gaps = [later - earlier - slow for earlier, later in itertools.pairwise(faulted)]
    assert len(gaps) >= 3, gaps
    # 0.05 → 0.1 → 0.2 → 0.4: failures back off like an idle job, they do not bring polls back sooner.
    assert gaps[-1] > 2.5 * gaps[0], gaps
    assert max(gaps) < 0.4 + 0.2, gaps  # never beyond the maximum


async def test_a_status_route_answering_404_fails_the_job(sandbox: RunningSandbox, state_dir: Path) -> None:
    """Not a fault to ride out: the backend says it no longer knows the job, which will then never end."""
    async with in_process(sandbox.env(), state_dir, LIMITS) as (server, _), Client(server, mode="legacy") as client:
        handle = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]
        sandbox.emulators.faults.add(Fault(backend="caila", method="GET", path=STATUS_PATH, status=404))
        job = await wait_for_job(client, handle["id"])
    assert (job["status"], job["error"]["kind"]) == ("failed", "not_found")


async def tick(sandbox: RunningSandbox, step_s: float, steps: int) -> None:
    for _ in range(steps):
        await anyio.sleep(0.05)
        sandbox.emulators.clock.advance(step_s)


async def test_a_progress_socket_closing_mid_stream_does_not_fail_the_download(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    state = sandbox.emulators.state("pieces")
    assert isinstance(state, PiecesState)
    # Every progress socket closes (1011) after its first frame, without the stream's end.
    sandbox.emulators.faults.add(Fault(backend="pieces", method="WS", path="/download/progress$", kind="ws_close"))
    async with in_process(sandbox.env(), state_dir, LIMITS) as (server, _), Client(server, mode="legacy") as client:
        started = structured(await client.call_tool("pieces_download_model", {"model": LLAMA_3_8B_ID}))
        async with anyio.create_task_group() as tg:
            tg.start_soon(tick, sandbox, 9.0, 12)
            job = await wait_for_job(client, started["job"]["id"])
    assert job["status"] == "completed", job
    assert job["result"]["downloaded"] is True
    assert job["polls"]["count"] >= 1  # the snapshot polls took over
    sockets = [r for r in sandbox.requests("pieces") if r.method == "WS"]
    assert 1 < len(sockets) <= 3  # reopened after a close, within the tracker's bound
    assert sandbox.emulators.faults.to_json()[0]["hits"] == len(sockets)
