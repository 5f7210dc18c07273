"""`modelops-mcp jobs` and `jobs show`: the state dir's jobs, read from a terminal."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client

from modelops_mcp.sandbox.training_data import EPOCH_SECONDS
from tests.support import CAILA_FIT, EXAMPLE_DATA, RunningSandbox, in_process, server_env, structured
from tests.test_job_history_e2e import job_when
from tests.test_training_e2e import ready_to_train, training_state

pytestmark = pytest.mark.anyio


def jobs_cli(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelops_mcp", "jobs", "--state-dir", str(state_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=server_env({}, state_dir),
        stdin=subprocess.DEVNULL,
    )


async def test_jobs_lists_and_shows_the_jobs_of_the_state_dir(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        running = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]
        finished = structured(await client.call_tool("caila_fit_service", {**CAILA_FIT, "datasetId": 503}))["job"]
        sandbox.emulators.clock.advance(200)
        await client.call_tool("jobs_wait", {"job_id": finished["id"], "timeout_s": 30})

    table = jobs_cli(state_dir)
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split()[:4] == ["ID", "BACKEND", "OPERATION", "STATUS"]
    assert [row.split()[:4] for row in rows] == [
        [finished["id"], "caila", "caila_fit_service", "failed"],
        [running["id"], "caila", "caila_fit_service", "working"],
    ]

    listed = jobs_cli(state_dir, "--json", "--status", "failed")
    assert [job["id"] for job in json.loads(listed.stdout)] == [finished["id"]]

    shown = jobs_cli(state_dir, "show", finished["id"])
    assert shown.returncode == 0, shown.stderr
    assert f"job {finished['id']}" in shown.stdout
    assert "broken-labels" in shown.stdout  # the backend's error message
    as_json = json.loads(jobs_cli(state_dir, "show", finished["id"], "--json").stdout)
    assert as_json["status"] == "failed"
    assert as_json["uri"] == finished["uri"]

    missing = jobs_cli(state_dir, "show", "nosuchjob")
    assert missing.returncode == 1
    assert "no job 'nosuchjob'" in missing.stderr


def test_jobs_on_an_empty_state_dir_says_so(tmp_path: Path) -> None:
    done = jobs_cli(tmp_path / "empty")
    assert done.returncode == 0
    assert "no jobs yet" in done.stderr
    assert not (tmp_path / "empty").exists()  # reading never creates state


async def test_a_job_no_longer_followed_says_so_in_the_table_and_the_full_view(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        job = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]
        await client.call_tool("jobs_cancel", {"job_id": job["id"], "stop_following": True})

    table = jobs_cli(state_dir)
    assert table.returncode == 0, table.stderr
    assert "working (not followed)" in table.stdout.splitlines()[1]
    shown = jobs_cli(state_dir, "show", job["id"])
    assert "following  no: this server stopped following it; the remote job may still run" in shown.stdout
    assert json.loads(jobs_cli(state_dir, "show", job["id"], "--json").stdout)["following"] is False


async def test_jobs_show_draws_a_trainings_metric_series_as_sparklines(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[EXAMPLE_DATA]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        await ready_to_train(client, sandbox)
        job_id = structured(await client.call_tool("training_start_training", {}))["job"]["id"]
        for epochs in range(1, 5):  # an epoch at a time, each seen by a poll before the next
            sandbox.emulators.clock.advance(EPOCH_SECONDS)
            await job_when(client, job_id, lambda job, n=epochs: job["history"]["points"].get("loss", 0) >= n)

    shown = jobs_cli(state_dir, "show", job_id)
    assert shown.returncode == 0, shown.stderr
    assert "timeline   working → working (training) → completed (trained)" in shown.stdout
    lines = {line.split()[1 if line.startswith("  metrics") else 0]: line for line in shown.stdout.splitlines()[1:]}
    losses = [result.loss for result in training_state(sandbox).history() if result.loss is not None]
    assert re.search(r"  loss +[▁▂▃▄▅▆▇█]{4}  min ", lines["loss"]), shown.stdout  # a cell per epoch
    said = f"min {min(losses):.4g}  max {max(losses):.4g}  last {losses[-1]:.4g}  steps 1-4"
    assert lines["loss"].endswith(said), (lines["loss"], said)
    for metric in ("accuracy", "f1", "progress"):
        assert re.search(rf"{metric} +[▁▂▃▄▅▆▇█]+  min ", lines[metric]), shown.stdout
    full = json.loads(jobs_cli(state_dir, "show", job_id, "--json").stdout)["history"]
    assert [point["value"] for point in full["series"]["loss"]] == losses
