"""The Training Module through a real MCP client: session, upload from disk, jobs with live metrics, downloads."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.shared.exceptions import MCPError

from modelops_mcp.sandbox.training_data import TrainingState
from modelops_mcp.settings.config import Limits
from tests.support import (
    EXAMPLE_DATA,
    FAST,
    RunningSandbox,
    advance_in_steps,
    error_of,
    in_process,
    ok,
    stdio_server,
    structured,
    text_of,
    wait_for_job,
)

pytestmark = pytest.mark.anyio

TRAIN = EXAMPLE_DATA / "sentiment-train.csv"
TEST = EXAMPLE_DATA / "sentiment-test.csv"
CONFIG = {"model": "numenta/sparse-bert", "epochs": 4, "eval_metrics": ["accuracy", "f1"], "seed": 7}


def file_bytes(path: str | Path) -> bytes:
    return Path(path).read_bytes()


def training_state(sandbox: RunningSandbox) -> TrainingState:
    state = sandbox.emulators.state("training")
    assert isinstance(state, TrainingState)
    return state


def sent(sandbox: RunningSandbox, route: str) -> list[Any]:
    return [r for r in sandbox.requests("training") if r.path.startswith("/training" + route)]


async def ready_to_train(client: Client, sandbox: RunningSandbox, config: dict[str, Any] = CONFIG) -> None:
    """Start a session, configure, upload the example dataset and preprocess it (the key never passed)."""
    await ok(client, "training_start_session")
    await ok(client, "training_update_config", config)
    await ok(client, "training_upload_dataset", {"train_file": TRAIN.name, "test_file": str(TEST)})
    started = await ok(client, "training_preprocess")
    sandbox.emulators.clock.advance(10)
    assert (await wait_for_job(client, started["job"]["id"]))["status"] == "completed"


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_journey_session_upload_preprocess_train_with_live_metrics_and_download(
    sandbox: RunningSandbox, state_dir: Path, tmp_path: Path, mode: str
) -> None:
    notes: list[tuple[float, str | None]] = []
    out = tmp_path / "out"
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[EXAMPLE_DATA], output_dir=out) as (server, _),
        Client(server, mode=mode) as client,
    ):
        session = await ok(client, "training_start_session")
        configured = await ok(client, "training_update_config", CONFIG)
        uploaded = await ok(client, "training_upload_dataset", {"train_file": TRAIN.name, "test_file": str(TEST)})
        preprocessing = await ok(client, "training_preprocess")
        sandbox.emulators.clock.advance(10)
        preprocessed = await wait_for_job(client, preprocessing["job"]["id"])
        training = await ok(client, "training_start_training")
        async with anyio.create_task_group() as tg:
            tg.start_soon(advance_in_steps, sandbox, 30.0, 4, 0.1)  # one epoch per step
            trained = await wait_for_job(client, training["job"]["id"], notes)
        model = await client.call_tool("training_download_model", {})
        results = await ok(client, "training_download_results")
        # A client that reads links rather than opening paths gets the files back from the server.
        model_read = await client.read_resource(structured(model)["uri"])
        results_read = await client.read_resource(results["uri"])
        with pytest.raises(MCPError) as elsewhere:
            await client.read_resource(TRAIN.as_uri())  # a file, but not one this server downloaded

    state = training_state(sandbox)
    assert session["key"] == state.key
    assert configured["config"]["epochs"] == 4
    # The key was filled in on every keyed call, from the session this server started.
    keyed = [
        r.path for r in sandbox.requests("training") if r.path.startswith(("/training/parameters/", "/training/upload"))
    ]
    assert {p.rsplit("/", 1)[-1] for p in keyed} == {session["key"]}
    # The files went up whole, streamed from disk as multipart.
    assert state.dataset is not None
    assert state.dataset.train.sha256 == hashlib.sha256(TRAIN.read_bytes()).hexdigest()
    assert state.dataset.test.sha256 == hashlib.sha256(TEST.read_bytes()).hexdigest()
    assert uploaded["dataset"]["train_rows"] == 40
    (upload,) = sent(sandbox, "/upload_dataset/")
    assert upload.headers["content-type"].startswith("multipart/form-data")

    assert preprocessed["status"] == "completed"
    assert preprocessed["progress"] == 1.0
    assert trained["status"] == "completed"
    assert trained["state"] == "trained"
    assert "loss" in trained["message"]
    assert trained["result"]["last_epoch"]["epoch"] == 4
    assert set(trained["result"]["last_epoch"]["metrics"]) == {"accuracy", "f1"}
    epochs = [message for _, message in notes if message and "epoch" in message and "loss" in message]
    assert len(epochs) >= 2, notes  # the agent saw the epochs go by, with their loss
    # The monitor is asked once per epoch, not once per poll.
    assert len(sent(sandbox, "/monitor/")) <= 4

    assert not model.is_error, text_of(model)
    saved = structured(model)
    archive = state.model_archive()
    assert saved["file_name"] == "sparse-bert-trained.zip"  # "numenta/sparse-bert-trained.zip", made safe
    assert saved["sha256"] == hashlib.sha256(archive).hexdigest()
    assert saved["size"] == len(archive)
    path = Path(saved["path"])
    assert path.parent == (out / "training").resolve()
    assert file_bytes(path) == archive
    assert zipfile.ZipFile(path).namelist()
    links = [c for c in model.content if isinstance(c, types.ResourceLink)]
    assert [str(link.uri) for link in links] == [path.as_uri()]
    assert len(text_of(model)) < 400  # the archive itself never enters the context
    assert file_bytes(results["path"]) == state.results_csv()
    (blob,) = model_read.contents
    assert isinstance(blob, types.BlobResourceContents)
    assert base64.b64decode(blob.blob) == archive
    (csv_text,) = results_read.contents
    assert isinstance(csv_text, types.TextResourceContents)
    assert csv_text.text.encode() == state.results_csv()
    # Not found: -32002 up to 2025-11-25, -32602 on the 2026-07-28 wire (SEP-2164).
    assert elsewhere.value.error.code == (-32002 if mode == "legacy" else -32602)


async def test_a_path_outside_the_allowed_directories_is_refused_before_any_request(
    sandbox: RunningSandbox, state_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text("text,label\nx,y\n")
    sneaky = tmp_path / "allowed"
    sneaky.mkdir()
    (sneaky / "link.csv").symlink_to(outside)  # inside the allowed dir, pointing out of it
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[EXAMPLE_DATA, sneaky]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        await ok(client, "training_start_session")
        refused = await client.call_tool(
            "training_upload_dataset", {"train_file": str(outside), "test_file": str(TEST)}
        )
        linked = await client.call_tool("training_upload_dataset", {"train_file": "link.csv", "test_file": str(TEST)})
        missing = await client.call_tool("training_upload_dataset", {"train_file": "nope.csv", "test_file": str(TEST)})

    error = error_of(refused)
    assert (error["kind"], error["code"]) == ("validation", "path_not_allowed")
    assert error["violations"][0]["pointer"] == "/train_file"
    assert "nothing was sent" in error["message"]
    assert error_of(linked)["code"] == "path_not_allowed"
    assert error_of(missing)["code"] == "file_not_found"
    assert sent(sandbox, "/upload_dataset/") == []


async def test_the_clients_roots_allow_uploads_from_them(
    sandbox: RunningSandbox, state_dir: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.csv").write_bytes(TRAIN.read_bytes())
    asked: list[int] = []

    async def roots(context: ClientRequestContext) -> types.ListRootsResult:
        asked.append(1)
        return types.ListRootsResult(roots=[types.Root(uri=project.as_uri(), name="project")])  # type: ignore[arg-type]

    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[EXAMPLE_DATA]) as (server, _),
        Client(server, mode="legacy", list_roots_callback=roots) as client,
    ):
        await ok(client, "training_start_session")
        uploaded = await ok(client, "training_upload_dataset", {"train_file": "train.csv", "test_file": str(TEST)})
    assert uploaded["dataset"]["train_rows"] == 40
    assert asked  # the server asked the client for its roots


async def test_an_upload_over_the_size_cap_is_refused(sandbox: RunningSandbox, state_dir: Path) -> None:
    limits = FAST.model_copy(update={"max_upload_bytes": 100})
    async with (
        in_process(sandbox.env(), state_dir, limits, allow_dirs=[EXAMPLE_DATA]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        await ok(client, "training_start_session")
        result = await client.call_tool("training_upload_dataset", {"train_file": TRAIN.name, "test_file": TEST.name})
    error = error_of(result)
    assert error["code"] == "file_too_large"
    assert {v["pointer"] for v in error["violations"]} == {"/train_file", "/test_file"}
    assert sent(sandbox, "/upload_dataset/") == []


async def test_without_a_session_keyed_tools_say_to_start_one_and_send_nothing(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        before = await client.call_tool("training_update_config", {"epochs": 2})
        assert sandbox.requests("training") == []
        await ok(client, "training_start_session")
        wrong = await client.call_tool("training_monitor", {"key": "0" * 32})
        mine = await ok(client, "training_monitor")

    error = error_of(before)
    assert (error["kind"], error["code"]) == ("validation", "no_session")
    assert "training_start_session" in error["message"]
    assert (error_of(wrong)["kind"], error_of(wrong)["status"]) == ("auth", 401)  # an explicit key wins
    assert mine["status"] == "setup"


async def test_the_remembered_session_survives_a_server_restart(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        key = (await ok(client, "training_start_session"))["key"]
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        config = await ok(client, "training_update_config", {"epochs": 2})
    assert config["key"] == key
    assert (state_dir / "sessions.json").stat().st_mode & 0o077 == 0  # the key is the owner's alone


async def test_state_machine_errors_come_back_as_clear_results(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[EXAMPLE_DATA]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        await ok(client, "training_start_session")
        await ok(client, "training_upload_dataset", {"train_file": TRAIN.name, "test_file": TEST.name})
        too_early = await client.call_tool("training_start_training", {})
        started = await ok(client, "training_preprocess")
        sandbox.emulators.clock.advance(10)
        await wait_for_job(client, started["job"]["id"])
        await ok(client, "training_start_training")
        while_training = await client.call_tool(
            "training_upload_dataset", {"train_file": TRAIN.name, "test_file": TEST.name}
        )
        again = await client.call_tool("training_start_session", {})

    early = error_of(too_early)
    assert (early["kind"], early["status"]) == ("validation", 400)
    assert "preprocess the dataset first" in early["message"]
    busy = error_of(while_training)
    assert "setup state" in busy["message"]
    assert "training" in busy["message"]
    assert (error_of(again)["kind"], error_of(again)["status"]) == ("conflict", 409)


async def test_cancelling_a_training_job_stops_the_training(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[EXAMPLE_DATA]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        await ready_to_train(client, sandbox)
        training = await ok(client, "training_start_training")
        sandbox.emulators.clock.advance(45)
        cancelled = await ok(client, "jobs_cancel", {"job_id": training["job"]["id"]})

    assert cancelled["backend_cancelled"] is True
    assert cancelled["job"]["status"] == "cancelled"
    assert len(sent(sandbox, "/training/stop/")) == 1
    assert training_state(sandbox).status == "stopped"


async def test_a_diverging_training_ends_the_job_failed(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[EXAMPLE_DATA]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        await ready_to_train(client, sandbox, {**CONFIG, "learning_rate": 0.5})
        training = await ok(client, "training_start_training")
        sandbox.emulators.clock.advance(90)
        job = await wait_for_job(client, training["job"]["id"])
        download = await client.call_tool("training_download_model", {})

    assert job["status"] == "failed"
    assert "diverged" in job["message"]
    assert job["error"]["code"] == "job_failed"
    assert "not trained" in error_of(download)["message"]


async def test_an_import_is_a_job_and_a_model_missing_from_the_hub_fails_it(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        await ok(client, "training_start_session")
        missing = await ok(client, "training_import_model", {"model_type": "bert", "model_name": "no-such-model"})
        sandbox.emulators.clock.advance(20)
        failed = await wait_for_job(client, missing["job"]["id"])
        found = await ok(client, "training_import_model", {"model_type": "bert", "model_name": "bert-base-cased"})
        sandbox.emulators.clock.advance(20)
        completed = await wait_for_job(client, found["job"]["id"])
        imported = await ok(client, "training_get_imported_model", {"on_disk": True})

    assert failed["status"] == "failed"
    assert "not found" in failed["message"]
    assert completed["status"] == "completed"
    assert imported["model"]["model_name"] == "bert-base-cased"
    assert imported["model"]["on_disk"] is True


async def test_upload_and_download_over_stdio_use_the_allow_dir_and_output_dir_flags(
    sandbox: RunningSandbox, state_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "downloads"
    flags = ("--allow-dir", str(EXAMPLE_DATA), "--output-dir", str(out))
    async with stdio_server(sandbox.env(), state_dir, *flags) as (client, _):
        await ready_to_train(client, sandbox, {**CONFIG, "epochs": 1})
        training = await ok(client, "training_start_training")
        sandbox.emulators.clock.advance(30)
        assert (await wait_for_job(client, training["job"]["id"]))["status"] == "completed"
        saved = await ok(client, "training_download_model")
    assert Path(saved["path"]).parent == (out / "training").resolve()
    assert saved["sha256"] == hashlib.sha256(training_state(sandbox).model_archive()).hexdigest()


def test_limits_default_to_a_two_gib_upload_cap() -> None:
    assert Limits().max_upload_bytes == 2 * 1024**3
