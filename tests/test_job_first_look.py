"""A new job shows the backend's state from its first listing: the start call polls once before it answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from modelops_mcp.sandbox.pieces_data import LLAMA_3_8B_ID
from modelops_mcp.settings.config import Limits
from tests.support import CAILA_FIT, RunningSandbox, in_process, structured, text_of

pytestmark = pytest.mark.anyio


def caila_status_calls(sandbox: RunningSandbox) -> list[Any]:
    return [r for r in sandbox.requests("caila") if r.method == "GET" and r.path.split("/")[-2] == "job"]


async def listed(client: Client) -> dict[str, Any]:
    jobs = structured(await client.call_tool("jobs_list", {}))["jobs"]
    assert len(jobs) == 1, jobs
    job: dict[str, Any] = jobs[0]
    return job


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_new_fit_is_listed_with_the_backends_state_at_once(
    sandbox: RunningSandbox, state_dir: Path, mode: str
) -> None:
    # A long poll interval: any state seen right after the start can only come from the start call's own poll.
    limits = Limits(poll_min_interval_s=5, poll_max_s=10)
    async with in_process(sandbox.env(), state_dir, limits) as (server, _), Client(server, mode=mode) as client:
        started = await client.call_tool("caila_fit_service", CAILA_FIT)
        job = await listed(client)
        got = structured(await client.call_tool("jobs_get", {"job_id": job["id"]}))["job"]
    assert (job["state"], job["status"]) == ("PENDING", "working"), job
    assert job["polls"]["count"] == 1
    assert "state PENDING" in text_of(started)  # the start result says where the job stands, too
    # The first look counts as a poll: a read within the minimum interval does not call the backend again.
    assert got["polls"]["count"] == 1
    assert len(caila_status_calls(sandbox)) == 1


async def test_a_new_download_is_listed_with_the_state_its_progress_socket_pushed(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        await client.call_tool("pieces_download_model", {"model": LLAMA_3_8B_ID})
        job = await listed(client)
    assert (job["state"], job["status"], job["progress"]) == ("IN-PROGRESS", "working", 0.0), job
    assert job["polls"]["count"] == 0  # pushed over the socket, not polled
