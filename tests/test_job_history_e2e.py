"""A job's history through a real MCP client: a training's curves epoch by epoch, a download's progress."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client

from modelops_mcp.jobs.history import COMPACT_POINTS
from modelops_mcp.sandbox.pieces_data import LLAMA_3_8B_ID
from modelops_mcp.sandbox.training_data import EPOCH_SECONDS
from tests.support import (
    EXAMPLE_DATA,
    RunningSandbox,
    advance_in_steps,
    assert_matches_output_schema,
    error_of,
    in_process,
    ok,
    wait_for_job,
)
from tests.test_training_e2e import CONFIG, ready_to_train, training_state

pytestmark = pytest.mark.anyio

EPOCHS = 30
EVERY = 3  # an evaluation every third epoch: the monitor repeats the last one in between


async def job_when(client: Client, job_id: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """jobs_get until `done(job)` (each call polls the backend at most once per poll interval), 10 s at most."""
    deadline = time.monotonic() + 10.0
    while True:
        job: dict[str, Any] = (await ok(client, "jobs_get", {"job_id": job_id}))["job"]
        if done(job) or time.monotonic() > deadline:
            return job
        await anyio.sleep(0.02)


def values(points: list[dict[str, Any]]) -> list[tuple[Any, float]]:
    return [(point["step"], point["value"]) for point in points]


async def test_a_training_job_gains_a_loss_and_metric_point_per_epoch(sandbox: RunningSandbox, state_dir: Path) -> None:
    config = {**CONFIG, "epochs": EPOCHS, "epochs_per_test_run": EVERY}
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[EXAMPLE_DATA]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        await ready_to_train(client, sandbox, config)
        job_id = (await ok(client, "training_start_training"))["job"]["id"]
        losses_seen = []
        for epoch in range(1, EPOCHS + 1):
            sandbox.emulators.clock.advance(EPOCH_SECONDS)
            job = await job_when(client, job_id, lambda j, e=epoch: j["history"]["points"].get("loss", 0) >= e)
            losses_seen.append(job["history"]["points"].get("loss"))
        compact = job
        full_result = await client.call_tool("jobs_get", {"job_id": job_id, "history": "full"})
        without = (await ok(client, "jobs_get", {"job_id": job_id, "history": "none"}))["job"]
        listed = (await ok(client, "jobs_list"))["jobs"]
        read = await client.read_resource(f"job://{job_id}")

    assert compact["status"] == "completed"
    assert losses_seen == list(range(1, EPOCHS + 1))  # one loss point per epoch, as the clock moved on
    assert_matches_output_schema(tools["jobs_get"], full_result)
    full = full_result.structured_content["job"]["history"]  # type: ignore[index]
    results = training_state(sandbox).history()
    assert values(full["series"]["loss"]) == [(r.epoch, r.loss) for r in results]
    for name in ("accuracy", "f1"):
        expected = [(r.epoch, r.metrics[name]) for r in results if r.metrics]
        assert values(full["series"][name]) == expected  # evaluated epochs only: a repeated evaluation is no point
        assert [step for step, _ in expected] == list(range(EVERY, EPOCHS + 1, EVERY))
    progress = [value for _, value in values(full["series"]["progress"])]
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    assert [(s["status"], s["state"]) for s in full["states"]] == [
        ("working", None),
        ("working", "training"),
        ("completed", "trained"),
    ]
    assert full["points"]["loss"] == EPOCHS
    assert "dropped" not in full

    shown = compact["history"]
    assert len(shown["series"]["loss"]) == COMPACT_POINTS  # thinned, the first and last epochs kept
    assert (shown["series"]["loss"][0]["step"], shown["series"]["loss"][-1]["step"]) == (1, EPOCHS)
    assert shown["series"]["accuracy"] == full["series"]["accuracy"]  # short enough to come whole
    assert shown["points"] == full["points"]  # so a reader knows what the compact view left out
    assert "history" not in without
    assert all("history" not in job for job in listed)
    (content,) = read.contents
    assert isinstance(content, types.TextResourceContents)
    assert json.loads(content.text)["history"] == shown  # job:// serves the compact view too


async def test_a_download_records_its_progress_series(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        handle = (await ok(client, "pieces_download_model", {"model": LLAMA_3_8B_ID}))["job"]
        async with anyio.create_task_group() as tg:
            tg.start_soon(advance_in_steps, sandbox, 9.0, 12)  # 90 simulated seconds in ten-percent steps
            waited = await wait_for_job(client, handle["id"])
        full = (await ok(client, "jobs_get", {"job_id": handle["id"], "history": "full"}))["job"]["history"]

    assert waited["status"] == "completed"
    points = full["series"]["progress"]
    progress = [point["value"] for point in points]
    assert len(progress) >= 3  # the socket's percentages on the way, not just the end
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    assert all(point["step"] is None for point in points)
    assert [point["at"] for point in points] == sorted(point["at"] for point in points)
    assert full["states"][-1]["status"] == "completed"
    assert waited["history"]["series"]["progress"] == points  # jobs_wait shows it too


async def test_an_unknown_history_view_is_refused_naming_the_views(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        refused = await client.call_tool("jobs_get", {"job_id": "nosuchjob1", "history": "everything"})
        still = await client.call_tool("jobs_get", {"job_id": "nosuchjob1"})

    error = error_of(refused)
    assert error["kind"] == "validation"
    (violation,) = error["violations"]
    assert violation["pointer"] == "/history"
    assert all(view in violation["message"] for view in ("compact", "full", "none")), violation
    assert error_of(still)["kind"] == "not_found"  # the server kept serving


async def test_a_restarted_server_keeps_a_trainings_history_and_adds_to_it(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[EXAMPLE_DATA]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        await ready_to_train(client, sandbox)
        job_id = (await ok(client, "training_start_training"))["job"]["id"]
        for epoch in (1, 2):
            sandbox.emulators.clock.advance(EPOCH_SECONDS)
            await job_when(client, job_id, lambda j, e=epoch: j["history"]["points"].get("loss", 0) >= e)
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        kept = (await ok(client, "jobs_get", {"job_id": job_id}))["job"]["history"]
        for epoch in (3, 4):
            sandbox.emulators.clock.advance(EPOCH_SECONDS)
            job = await job_when(client, job_id, lambda j, e=epoch: j["history"]["points"].get("loss", 0) >= e)

    assert [point["step"] for point in kept["series"]["loss"]] == [1, 2]
    assert job["status"] == "completed"
    results = training_state(sandbox).history()
    assert values(job["history"]["series"]["loss"]) == [(r.epoch, r.loss) for r in results]
    assert [s["status"] for s in job["history"]["states"]] == ["working", "working", "completed"]
