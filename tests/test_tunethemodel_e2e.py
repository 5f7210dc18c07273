"""Tune the Model through a real MCP client: datasets uploaded from disk to the presigned URL, bind, fit as a job."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from modelops_mcp.sandbox import Fault
from modelops_mcp.sandbox.tunethemodel_data import TtmState
from tests.support import (
    EXAMPLE_DATA,
    RunningSandbox,
    advance_in_steps,
    error_of,
    in_process,
    ok,
    stdio_server,
    wait_for_job,
)

pytestmark = pytest.mark.anyio

TRAIN = EXAMPLE_DATA / "sentiment-train.csv"
VALIDATE = EXAMPLE_DATA / "sentiment-validate.csv"
CANARY = "ttm-canary-key-5d1e8f"


def ttm_state(sandbox: RunningSandbox) -> TtmState:
    state = sandbox.emulators.state("tunethemodel")
    assert isinstance(state, TtmState)
    return state


def sent(sandbox: RunningSandbox, method: str | None = None) -> list[Any]:
    return [r for r in sandbox.requests("tunethemodel") if method is None or r.method == method]


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_journey_create_upload_two_datasets_bind_fit_and_classify(
    sandbox: RunningSandbox, state_dir: Path, mode: str
) -> None:
    env = sandbox.env(TTM_API_KEY=CANARY)
    async with (
        in_process(env, state_dir, allow_dirs=[EXAMPLE_DATA]) as (server, _),
        Client(server, mode=mode) as client,
    ):
        model = await ok(
            client,
            "tunethemodel_create_model",
            {"model_type": "classifier", "name": "ticket-sentiment", "model_params": {"num_classes": 2}},
        )
        model_id = model["model_id"]
        assert model["status"] == "Created"
        # A name relative to an allowed directory, and an absolute path.
        train = await ok(
            client, "tunethemodel_upload_dataset", {"name": "train", "task_type": "classifier", "path": TRAIN.name}
        )
        validate = await ok(
            client,
            "tunethemodel_upload_dataset",
            {"name": "validate", "task_type": "classifier", "path": str(VALIDATE)},
        )
        assert (train["uploaded_rows"], validate["uploaded_rows"]) == (40, 32)
        assert train["class_names"] == ["negative", "positive"]
        assert train["status"] == "FileLoading"
        assert "upload_url" not in train  # the presigned URL is a credential of sorts: never shown

        sandbox.emulators.clock.advance(5)
        assert (await ok(client, "tunethemodel_get_file", {"file_id": train["file_id"]}))["status"] == "FileReady"
        bound = await ok(
            client,
            "tunethemodel_bind_datasets",
            {"model_id": model_id, "train_file": train["file_id"], "validate_file": validate["file_id"]},
        )
        assert bound["status"] == "DatasetsLoaded"
        fit = await ok(client, "tunethemodel_fit_model", {"model_id": model_id})
        assert fit["job"]["status"] == "working"
        async with anyio.create_task_group() as tg:
            tg.start_soon(advance_in_steps, sandbox, 15, 6)
            job = await wait_for_job(client, fit["job"]["id"])
        assert job["status"] == "completed", job
        assert job["result"]["status"] == "Ready"
        answer = await ok(client, "tunethemodel_classify", {"model_id": model_id, "input": "The export is broken"})
        scores = answer["answer"]["scores"]
        assert len(scores) == 2
        assert abs(sum(scores) - 1) < 1e-6
        # The sandbox's toy model follows its training rows: class 0 is "negative" (the sorted label order).
        complaint = await ok(
            client, "tunethemodel_classify", {"model_id": model_id, "input": "Password reset keeps timing out"}
        )
        assert complaint["answer"]["scores"][0] > complaint["answer"]["scores"][1]

    # What reached the service: the rows of each CSV, labels numbered in sorted order, with no credential on the PUT.
    state = ttm_state(sandbox)
    uploaded = state.files[train["file_id"]]
    rows = csv_rows(TRAIN)
    assert uploaded.inputs == [r["text"] for r in rows]
    assert uploaded.classes == [["negative", "positive"].index(r["label"]) for r in rows]
    puts = sent(sandbox, "PUT")
    assert len(puts) == 2
    assert all("authorization" not in r.headers for r in puts)
    assert all(r.headers.get("authorization") == CANARY for r in sent(sandbox) if r.method != "PUT")


async def test_fewer_than_32_rows_are_refused_before_any_request(
    sandbox: RunningSandbox, state_dir: Path, tmp_path: Path
) -> None:
    short = tmp_path / "short.csv"
    short.write_text("text,label\n" + "".join(f"row {i},{i % 2}\n" for i in range(31)))
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[tmp_path]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        from_file = await client.call_tool(
            "tunethemodel_upload_dataset", {"name": "short", "task_type": "classifier", "path": str(short)}
        )
        error = error_of(from_file)
        assert (error["kind"], error["code"]) == ("validation", "invalid_dataset")
        assert "31 rows" in error["message"]
        inline = await client.call_tool(
            "tunethemodel_upload_dataset",
            {"name": "short", "task_type": "generator", "inputs": ["q"] * 31, "outputs": ["a"] * 31},
        )
        assert error_of(inline)["kind"] == "validation"
        mixed = await client.call_tool(
            "tunethemodel_upload_dataset",
            {"name": "both", "task_type": "classifier", "path": str(short), "inputs": ["x"] * 32, "classes": [0] * 32},
        )
        assert "not both" in error_of(mixed)["message"]
    assert sent(sandbox) == []


async def test_a_fit_that_fails_ends_the_job_failed_with_the_services_reason(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    one_class = {"task_type": "classifier", "inputs": [f"text {i}" for i in range(32)], "classes": [0] * 32}
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        model_id = (await ok(client, "tunethemodel_create_model", {"model_type": "classifier"}))["model_id"]
        train = await ok(client, "tunethemodel_upload_dataset", {"name": "train", **one_class})
        validate = await ok(client, "tunethemodel_upload_dataset", {"name": "validate", **one_class})
        assert train["class_names"] is None  # numbers stay numbers
        sandbox.emulators.clock.advance(5)
        await ok(
            client,
            "tunethemodel_bind_datasets",
            {"model_id": model_id, "train_file": train["file_id"], "validate_file": validate["file_id"]},
        )
        fit = await ok(client, "tunethemodel_fit_model", {"model_id": model_id})
        sandbox.emulators.clock.advance(45)
        job = await wait_for_job(client, fit["job"]["id"])
    assert job["status"] == "failed"
    assert job["state"] == "FitFailed"
    assert "single class" in job["message"]


async def test_files_still_loading_bind_at_once_and_the_fit_job_waits_for_them(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    # The official client's order (tune_the_model/cli.py:381-392): upload both, bind and fit at once.
    rows = {"task_type": "classifier", "inputs": [f"text {i}" for i in range(32)], "classes": [0, 1] * 16}
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        model_id = (await ok(client, "tunethemodel_create_model", {"model_type": "classifier"}))["model_id"]
        train = await ok(client, "tunethemodel_upload_dataset", {"name": "train", **rows})
        validate = await ok(client, "tunethemodel_upload_dataset", {"name": "validate", **rows})
        files = {"train_file": train["file_id"], "validate_file": validate["file_id"]}
        bound = await ok(client, "tunethemodel_bind_datasets", {"model_id": model_id, **files})
        assert (train["status"], bound["status"]) == ("FileLoading", "DatasetsLoaded")
        fit = await ok(client, "tunethemodel_fit_model", {"model_id": model_id})
        assert fit["status"] == "InQueue"
        waiting = (await ok(client, "jobs_get", {"job_id": fit["job"]["id"]}))["job"]
        assert waiting["status"] == "working"  # InQueue until the files have loaded: the job goes on
        async with anyio.create_task_group() as tg:
            tg.start_soon(advance_in_steps, sandbox, 15, 6)
            job = await wait_for_job(client, fit["job"]["id"])
    assert (job["status"], job["state"]) == ("completed", "Ready")


async def test_a_file_that_fails_to_load_after_the_bind_fails_the_fit_job_with_the_reason(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    # Three labels for a two-class model: the service learns it only when the file has loaded.
    three = {"task_type": "classifier", "inputs": [f"text {i}" for i in range(33)], "classes": [0, 1, 2] * 11}
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        model_id = (await ok(client, "tunethemodel_create_model", {"model_type": "classifier"}))["model_id"]
        train = await ok(client, "tunethemodel_upload_dataset", {"name": "train", **three})
        files = {"train_file": train["file_id"], "validate_file": train["file_id"]}
        await ok(client, "tunethemodel_bind_datasets", {"model_id": model_id, **files})
        fit = await ok(client, "tunethemodel_fit_model", {"model_id": model_id})
        sandbox.emulators.clock.advance(5)
        job = await wait_for_job(client, fit["job"]["id"])
    assert (job["status"], job["state"]) == ("failed", "FitFailed")
    assert job["message"] == (
        f"File {train['file_id']} has class 2 but model {model_id} has num_classes 2: classes must be 0 to 1"
    )


async def test_an_upload_url_off_the_configured_host_is_not_followed(sandbox: RunningSandbox, state_dir: Path) -> None:
    record = {
        "file_id": "f" * 32,
        "status": "FileCreated",
        "task_type": "generator",
        "upload_url": "http://evil.test/u",
    }
    sandbox.emulators.faults.add(
        Fault(backend="tunethemodel", method="POST", path=r"^/v0/files$", status=200, body=record, times=1)
    )
    rows = {"inputs": ["q"] * 32, "outputs": ["a"] * 32}
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        result = await client.call_tool("tunethemodel_upload_dataset", {"name": "g", "task_type": "generator", **rows})
    error = error_of(result)
    assert error["code"] == "upload_url_refused"
    assert "evil.test" in error["message"]
    assert "f" * 32 in error["message"]  # the record it left behind, named so it can be deleted
    assert [r.method for r in sent(sandbox)] == ["POST"]  # the record, and nothing sent anywhere else


async def test_upload_and_fit_over_stdio(sandbox: RunningSandbox, state_dir: Path) -> None:
    rows = {"task_type": "generator", "inputs": [f"q{i}" for i in range(32)], "outputs": [f"a{i}" for i in range(32)]}
    async with stdio_server(sandbox.env(TTM_API_KEY=CANARY), state_dir) as (client, errlog):
        model_id = (await ok(client, "tunethemodel_create_model", {"model_type": "generator"}))["model_id"]
        files = [(await ok(client, "tunethemodel_upload_dataset", {"name": n, **rows}))["file_id"] for n in "tv"]
        sandbox.emulators.clock.advance(5)
        await ok(
            client,
            "tunethemodel_bind_datasets",
            {"model_id": model_id, "train_file": files[0], "validate_file": files[1]},
        )
        fit = await ok(client, "tunethemodel_fit_model", {"model_id": model_id})
        sandbox.emulators.clock.advance(75)
        assert (await wait_for_job(client, fit["job"]["id"]))["status"] == "completed"
        generated = await ok(client, "tunethemodel_generate", {"model_id": model_id, "input": "hello", "num_hypos": 2})
    assert len(generated["answer"]["responses"]) == 2
    assert CANARY not in errlog.read_text()
