"""jobs_wait reports progress on one scale from its first notification to its last: a percentage with total 100."""

from __future__ import annotations

import itertools
from pathlib import Path

import anyio
import pytest
from mcp import Client

from modelops_mcp.jobs import Job
from modelops_mcp.sandbox.pieces_data import LLAMA_3_8B_ID
from modelops_mcp.surface.job_tools import ProgressScale
from tests.support import CAILA_FIT, RunningSandbox, advance_later, in_process, structured

pytestmark = pytest.mark.anyio

Note = tuple[float, float | None, str | None]


async def wait_noting(client: Client, job_id: str, notes: list[Note]) -> None:
    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append((progress, total, message))

    result = await client.call_tool("jobs_wait", {"job_id": job_id, "timeout_s": 30}, progress_callback=on_progress)
    assert structured(result)["job"]["status"] == "completed", result


def assert_one_scale(notes: list[Note]) -> list[float]:
    assert len(notes) >= 3, notes
    assert {total for _, total, _ in notes} == {100.0}, notes  # a total on every notification, always 100
    values = [value for value, _, _ in notes]
    assert all(later > earlier for earlier, later in itertools.pairwise(values)), values
    assert values[0] >= 0, values
    assert values[-1] == 100.0, values
    assert "completed" in (notes[-1][2] or "")
    return values


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_fit_without_percentages_stays_near_zero_of_100_until_it_ends(
    sandbox: RunningSandbox, state_dir: Path, mode: str
) -> None:
    notes: list[Note] = []
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode=mode) as client:
        handle = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]
        async with anyio.create_task_group() as tg:
            tg.start_soon(advance_later, sandbox, (0.3, 30), (0.4, 600))  # PENDING → RUNNING → SUCCESS
            await wait_noting(client, handle["id"], notes)
    values = assert_one_scale(notes)
    # Caila gives no percentage: nothing before the end claims progress it does not have.
    assert all(value < 1 for value in values[:-1]), values
    assert any("RUNNING" in (message or "") for _, _, message in notes), notes


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_download_reports_its_percentages_out_of_100(
    sandbox: RunningSandbox, state_dir: Path, mode: str
) -> None:
    notes: list[Note] = []

    async def tick() -> None:
        for _ in range(12):  # 90 simulated seconds in ten-percent steps
            await anyio.sleep(0.05)
            sandbox.emulators.clock.advance(9.0)

    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode=mode) as client:
        handle = structured(await client.call_tool("pieces_download_model", {"model": LLAMA_3_8B_ID}))["job"]
        async with anyio.create_task_group() as tg:
            tg.start_soon(tick)
            await wait_noting(client, handle["id"], notes)
    values = assert_one_scale(notes)
    middle = [value for value in values[:-1] if 5 <= value <= 95]
    assert middle, values  # the backend's own percentages, on the same scale as the start and the end


def test_the_scale_keeps_growing_below_100_while_a_job_sits_at_100_percent() -> None:
    scale = ProgressScale()
    job = Job(id="j", backend="b", operation="o", remote={}, progress=0.4)
    assert scale.next(job) == 40.0
    job.progress = None  # a backend that stops giving a figure does not send the bar back to zero
    assert 40.0 < scale.next(job) < 40.01
    job.progress = 1.0
    seen = [scale.next(job) for _ in range(500)]  # heartbeats while the backend says 100% but not done
    assert all(later > earlier for earlier, later in itertools.pairwise(seen))
    assert seen[-1] < 100.0
    job.status = "completed"
    assert scale.next(job) == 100.0
