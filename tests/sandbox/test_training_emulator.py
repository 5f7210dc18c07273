"""The Training Module emulator over real loopback HTTP: the session state machine on the simulated clock."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from modelops_mcp.sandbox import Sandbox, serve_sandbox, training
from modelops_mcp.sandbox.training_data import (
    EPOCH_SECONDS,
    IMPORT_SECONDS,
    PREPROCESS_SECONDS,
    TrainingState,
)
from modelops_mcp.sandbox.training_datasets import DatasetFile
from modelops_mcp.sandbox.training_results import MODEL_BIN_SIZE

pytestmark = pytest.mark.anyio

NO_SESSION = "No active session: start one with GET /start_session."
TRAIN_CSV = b"text,label\n" + b"".join(f"sample {i},{i % 2}\n".encode() for i in range(40))
TEST_JSONL = b"".join(json.dumps({"text": f"test {i}", "label": i % 2}).encode() + b"\n" for i in range(10))
FILES: dict[str, tuple[str, bytes, str]] = {
    "train_file": ("train.csv", TRAIN_CSV, "text/csv"),
    "test_file": ("test.jsonl", TEST_JSONL, "text/plain"),
}


# One server and one client for the whole module: starting uvicorn (and an httpx client's TLS context) per
# test would dominate the run time. Every test starts from a wiped session and moves the frozen clock
# relative to where it stands.
@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox(speed=0, emulators=[training.SPEC])


@pytest.fixture(scope="module")
async def base_url(sandbox: Sandbox) -> AsyncIterator[str]:
    async with serve_sandbox(sandbox) as url:
        yield url


@pytest.fixture(scope="module")
async def shared_client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url + "/training") as c:
        yield c


@pytest.fixture
def client(shared_client: httpx.AsyncClient, state: TrainingState) -> httpx.AsyncClient:
    state.wipe()
    return shared_client


@pytest.fixture
def state(sandbox: Sandbox) -> TrainingState:
    found = sandbox.state("training")
    assert isinstance(found, TrainingState)
    return found


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def assert_detail(response: httpx.Response, status: int, detail: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"detail": detail}


def assert_invalid(response: httpx.Response, *errors: tuple[str, list[Any], str]) -> list[dict[str, Any]]:
    """A FastAPI 422 whose errors have these (type, loc, msg), in order."""
    assert response.status_code == 422, response.text
    detail: list[dict[str, Any]] = response.json()["detail"]
    assert [(e["type"], e["loc"], e["msg"]) for e in detail] == list(errors)
    assert all("input" in e for e in detail)
    return detail


async def start(client: httpx.AsyncClient) -> str:
    key: str = ok(await client.get("/start_session"))["key"]
    return key


async def preprocessed(client: httpx.AsyncClient, sandbox: Sandbox, **config: Any) -> str:
    """A session with ``config`` applied, the default dataset uploaded and preprocessing finished."""
    key = await start(client)
    if config:
        ok(await client.post(f"/parameters/{key}", json=config))
    ok(await client.post(f"/upload_dataset/{key}", files=FILES))
    ok(await client.post(f"/preprocess/{key}"))
    sandbox.clock.advance(PREPROCESS_SECONDS)
    return key


async def trained(client: httpx.AsyncClient, sandbox: Sandbox, **config: Any) -> str:
    key = await preprocessed(client, sandbox, **config)
    epochs = ok(await client.post(f"/training/start/{key}"))["epochs"]
    sandbox.clock.advance(epochs * EPOCH_SECONDS)
    assert ok(await client.get("/status"))["status"] == "trained"
    return key


def dataset_file(name: str, rows: int, data: bytes) -> DatasetFile:
    return DatasetFile(name=name, rows=rows, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


# --- the happy path -----------------------------------------------------------------------------------


async def test_a_session_goes_from_start_to_downloads_on_the_simulated_clock(
    client: httpx.AsyncClient, sandbox: Sandbox, state: TrainingState
) -> None:
    started = ok(await client.get("/start_session"))
    key = started["key"]
    assert started == {"status": "setup", "key": key, "message": "Session started."}
    assert len(key) == 32
    assert key == key.lower()
    int(key, 16)

    config = {"model": "numenta/sparse-bert", "epochs": 4, "eval_metrics": ["accuracy", "f1"], "seed": 7}
    configured = ok(await client.post(f"/parameters/{key}", json=config))
    assert configured["message"] == "Training config updated."
    assert configured["config"]["epochs"] == 4
    assert configured["config"]["batch_size"] == 8  # untouched defaults stay
    assert ok(await client.get("/parameters"))["config"] == configured["config"]

    uploaded = ok(await client.post(f"/upload_dataset/{key}", files=FILES))
    assert uploaded == {
        "status": "setup",
        "message": "Dataset uploaded.",
        "dataset": {"train_file": "train.csv", "train_rows": 40, "test_file": "test.jsonl", "test_rows": 10},
    }
    assert state.dataset is not None
    assert state.dataset.train == dataset_file("train.csv", 40, TRAIN_CSV)
    assert state.dataset.test == dataset_file("test.jsonl", 10, TEST_JSONL)

    assert ok(await client.post(f"/preprocess/{key}")) == {
        "status": "preprocessing",
        "message": "Preprocessing started.",
    }
    sandbox.clock.advance(4)
    assert ok(await client.get("/preprocess_status")) == {
        "status": "preprocessing",
        "done": False,
        "progress": 0.4,
        "message": "Preprocessing: 40% (16 of 40 rows).",
    }
    sandbox.clock.advance(PREPROCESS_SECONDS - 4)
    done = ok(await client.get("/preprocess_status"))
    assert done == {
        "status": "preprocessed",
        "done": True,
        "progress": 1.0,
        "message": "Preprocessing done: 40 train rows, 10 test rows.",
    }

    assert ok(await client.post(f"/training/start/{key}")) == {
        "status": "training",
        "message": "Training started: 4 epochs.",
        "epochs": 4,
    }
    losses: list[float] = []
    for epoch in range(1, 4):
        sandbox.clock.advance(EPOCH_SECONDS)
        status = ok(await client.get("/status"))
        assert status == {
            "status": "training",
            "message": f"Training: epoch {epoch} of 4 done.",
            "epoch": epoch,
            "epochs": 4,
            "progress": epoch / 4,
        }
        monitor = ok(await client.get(f"/monitor/{key}"))
        assert (monitor["status"], monitor["epoch"], monitor["epochs"]) == ("training", epoch, 4)
        assert set(monitor["metrics"]) == {"accuracy", "f1"}
        assert all(0 <= v <= 1 for v in monitor["metrics"].values())
        losses.append(monitor["loss"])
        assert not ok(await client.get(f"/model_ready/{key}"))["model_ready"]
    assert losses == sorted(losses, reverse=True)
    assert len(set(losses)) == 3
    assert 0.05 < losses[-1] < losses[0] < 2.3
    accuracy = [r.metrics["accuracy"] for r in state.history()]
    assert accuracy == sorted(accuracy)
    assert len(set(accuracy)) == 3

    sandbox.clock.advance(EPOCH_SECONDS)
    assert ok(await client.get("/status")) == {
        "status": "trained",
        "message": "Training done: 4 epochs.",
        "epoch": 4,
        "epochs": 4,
        "progress": 1.0,
    }
    assert ok(await client.get(f"/model_ready/{key}")) == {"status": "trained", "model_ready": True}
    assert ok(await client.get("/preprocess_status"))["done"] is True

    model = await client.get(f"/download_model/{key}")
    assert model.status_code == 200
    assert model.headers["content-type"] == "application/zip"
    assert model.headers["content-disposition"] == 'attachment; filename="numenta/sparse-bert-trained.zip"'
    assert model.content == state.model_archive()
    with zipfile.ZipFile(io.BytesIO(model.content)) as archive:
        assert archive.namelist() == ["config.json", "metrics.json", "model.bin"]
        assert json.loads(archive.read("config.json")) == state.config
        history = json.loads(archive.read("metrics.json"))
        assert [h["epoch"] for h in history] == [1, 2, 3, 4]
        assert [h["loss"] for h in history[:3]] == losses
        assert len(archive.read("model.bin")) == MODEL_BIN_SIZE
        assert archive.getinfo("model.bin").date_time == (2024, 1, 1, 0, 0, 0)

    results = await client.get(f"/download_results/{key}")
    assert results.status_code == 200
    assert results.headers["content-type"] == "text/csv; charset=utf-8"
    assert results.headers["content-disposition"] == 'attachment; filename="results.csv"'
    assert results.content == state.results_csv()
    rows = csv_rows(results.content)
    assert rows[0] == ["epoch", "loss", "accuracy", "f1"]
    assert [float(r[1]) for r in rows[1:4]] == losses
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4"]


async def test_losses_and_metrics_repeat_for_a_seed_and_change_with_it(
    client: httpx.AsyncClient, sandbox: Sandbox, state: TrainingState
) -> None:
    runs: list[tuple[dict[str, float], bytes, bytes]] = []
    for seed in (7, 7, 8):
        state.wipe()
        key = await trained(client, sandbox, seed=seed, eval_metrics=["accuracy", "recall"])
        runs.append((ok(await client.get(f"/monitor/{key}"))["metrics"], state.results_csv(), state.model_archive()))
    assert runs[0] == runs[1]
    assert runs[2][0] != runs[0][0]
    assert runs[2][1] != runs[0][1]
    assert runs[2][2] != runs[0][2]


async def test_metrics_are_evaluated_every_epochs_per_test_run_and_after_the_last_epoch(
    client: httpx.AsyncClient, sandbox: Sandbox, state: TrainingState
) -> None:
    key = await preprocessed(client, sandbox, epochs=5, epochs_per_test_run=2, eval_metrics=["precision"])
    ok(await client.post(f"/training/start/{key}"))
    sandbox.clock.advance(EPOCH_SECONDS)
    assert ok(await client.get(f"/monitor/{key}"))["metrics"] == {}
    sandbox.clock.advance(2 * EPOCH_SECONDS)
    at_three = ok(await client.get(f"/monitor/{key}"))
    assert at_three["metrics"] == state.history()[1].metrics  # epoch 2's, the latest evaluation
    sandbox.clock.advance(2 * EPOCH_SECONDS)
    rows = csv_rows(state.results_csv())
    assert [bool(r[2]) for r in rows[1:]] == [False, True, False, True, True]
    assert all(r[1] for r in rows[1:])


async def test_init_eval_reports_metrics_before_the_first_epoch(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    key = await preprocessed(client, sandbox, init_eval=True)
    ok(await client.post(f"/training/start/{key}"))
    monitor = ok(await client.get(f"/monitor/{key}"))
    assert (monitor["epoch"], monitor["loss"]) == (0, None)
    assert 0 < monitor["metrics"]["accuracy"] < 0.6
    sandbox.clock.advance(EPOCH_SECONDS)
    assert ok(await client.get(f"/monitor/{key}"))["metrics"]["accuracy"] > monitor["metrics"]["accuracy"]


async def test_healthcheck_reports_the_version_and_the_session_state(client: httpx.AsyncClient) -> None:
    assert ok(await client.get("/healthcheck")) == {"status": "ok", "session": "no_session", "version": "1.2.0"}
    await start(client)
    assert ok(await client.get("/healthcheck"))["session"] == "setup"


# --- sessions and keys --------------------------------------------------------------------------------


async def test_a_second_session_conflicts_unless_force_restart_wipes_the_first(
    client: httpx.AsyncClient, state: TrainingState
) -> None:
    first = await start(client)
    ok(await client.post(f"/parameters/{first}", json={"epochs": 9}))
    ok(await client.post(f"/upload_dataset/{first}", files=FILES))
    assert_detail(
        await client.get("/start_session", params={"force_restart": 0}),
        409,
        "There is already an active session. Pass force_restart=1 to wipe it and start a new one.",
    )
    assert state.key == first

    second = ok(await client.get("/start_session", params={"force_restart": 1}))["key"]
    assert second != first
    assert_detail(await client.post(f"/preprocess/{first}"), 401, "Invalid session key.")
    assert ok(await client.get("/parameters"))["config"]["epochs"] == 3
    assert state.dataset is None
    assert ok(await client.get("/status"))["message"] == "Setup: waiting for a dataset."


async def test_force_restart_must_be_an_integer(client: httpx.AsyncClient) -> None:
    detail = assert_invalid(
        await client.get("/start_session", params={"force_restart": "yes"}),
        (
            "int_parsing",
            ["query", "force_restart"],
            "Input should be a valid integer, unable to parse string as an integer",
        ),
    )
    assert detail[0]["input"] == "yes"


KEYED = [
    ("POST", "/parameters/{key}"),
    ("POST", "/preprocess/{key}"),
    ("POST", "/training/start/{key}"),
    ("POST", "/training/stop/{key}"),
    ("GET", "/monitor/{key}"),
    ("GET", "/model_ready/{key}"),
    ("GET", "/download_model/{key}"),
    ("GET", "/download_results/{key}"),
    ("GET", "/get_imported_model/{key}"),
]


def keyed_request(method: str, path: str, key: str) -> dict[str, Any]:
    # Bodies valid enough to get past FastAPI's request validation, so the key check is what answers.
    return {"method": method, "url": path.format(key=key), "json": {} if path.startswith("/parameters") else None}


@pytest.mark.parametrize(("method", "path"), KEYED)
async def test_keyed_routes_without_a_session_are_a_bad_request(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    assert_detail(await client.request(**keyed_request(method, path, "0" * 32)), 400, NO_SESSION)


@pytest.mark.parametrize(("method", "path"), KEYED)
async def test_keyed_routes_with_another_key_are_unauthorized(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    await start(client)
    # Never a uuid4 hex, whose version digit is 4.
    assert_detail(await client.request(**keyed_request(method, path, "0" * 32)), 401, "Invalid session key.")


async def test_other_routes_without_a_session(client: httpx.AsyncClient) -> None:
    assert_detail(await client.get("/parameters"), 400, NO_SESSION)
    assert_detail(await client.post("/upload_dataset/abc", files=FILES), 400, NO_SESSION)
    assert_detail(
        await client.post("/import_model/abc", params={"model_type": "bert", "model_name": "gpt2"}), 400, NO_SESSION
    )
    message = "No active session."
    assert ok(await client.get("/status")) == {
        "status": "no_session",
        "message": message,
        "epoch": 0,
        "epochs": 0,
        "progress": 0.0,
    }
    assert ok(await client.get("/preprocess_status")) == {
        "status": "no_session",
        "done": False,
        "progress": 0.0,
        "message": message,
    }
    assert ok(await client.get("/import_status")) == {
        "status": "no_session",
        "done": False,
        "failed": False,
        "progress": 0.0,
        "model_type": None,
        "model_name": None,
        "message": message,
    }


# --- refusals in the wrong state ----------------------------------------------------------------------


async def test_configuring_outside_setup_is_refused(client: httpx.AsyncClient, state: TrainingState) -> None:
    key = await start(client)
    ok(await client.post(f"/upload_dataset/{key}", files=FILES))
    ok(await client.post(f"/preprocess/{key}"))
    assert_detail(
        await client.post(f"/parameters/{key}", json={"epochs": 9}),
        400,
        "Configuration is only possible in the setup state (current state: preprocessing).",
    )
    assert state.epochs == 3


async def test_preprocessing_needs_a_dataset_and_the_setup_state(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    key = await start(client)
    assert ok(await client.get("/preprocess_status"))["message"] == "Preprocessing has not started."
    assert_detail(
        await client.post(f"/preprocess/{key}"),
        400,
        "Preprocessing is not possible: upload a dataset first (current state: setup).",
    )
    ok(await client.post(f"/upload_dataset/{key}", files=FILES))
    ok(await client.post(f"/preprocess/{key}"))
    sandbox.clock.advance(PREPROCESS_SECONDS)
    assert_detail(
        await client.post(f"/preprocess/{key}"),
        400,
        "Preprocessing is not possible: the session is not in the setup state (current state: preprocessed).",
    )


async def test_upload_while_training_is_refused(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    key = await preprocessed(client, sandbox)
    ok(await client.post(f"/training/start/{key}"))
    assert_detail(
        await client.post(f"/upload_dataset/{key}", files=FILES),
        400,
        "Datasets can only be uploaded in the setup state (current state: training).",
    )


async def test_training_needs_preprocessing_and_runs_once(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    key = await start(client)
    refused = "Training is not possible: {} (current state: {})."
    assert_detail(
        await client.post(f"/training/start/{key}"), 400, refused.format("preprocess the dataset first", "setup")
    )
    ok(await client.post(f"/upload_dataset/{key}", files=FILES))
    ok(await client.post(f"/preprocess/{key}"))
    assert_detail(
        await client.post(f"/training/start/{key}"),
        400,
        refused.format("preprocess the dataset first", "preprocessing"),
    )
    sandbox.clock.advance(PREPROCESS_SECONDS)
    ok(await client.post(f"/training/start/{key}"))
    assert_detail(
        await client.post(f"/training/start/{key}"), 400, refused.format("training is already running", "training")
    )
    sandbox.clock.advance(3 * EPOCH_SECONDS)
    assert_detail(
        await client.post(f"/training/start/{key}"),
        400,
        refused.format("the model is already trained; start a new session to train again", "trained"),
    )


async def test_downloads_before_the_model_is_trained_are_refused(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    key = await preprocessed(client, sandbox)
    ok(await client.post(f"/training/start/{key}"))
    sandbox.clock.advance(2 * EPOCH_SECONDS)
    for path in ("/download_model", "/download_results"):
        assert_detail(await client.get(f"{path}/{key}"), 400, "Model not trained yet (current state: training).")


# --- stopping and failing -----------------------------------------------------------------------------


async def test_stop_with_nothing_training_is_refused(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    key = await preprocessed(client, sandbox)
    assert_detail(
        await client.post(f"/training/stop/{key}"),
        400,
        "There is no training session to stop (current state: preprocessed).",
    )


async def test_stop_keeps_the_session_and_a_restart_begins_at_epoch_zero(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    key = await preprocessed(client, sandbox, epochs=5)
    ok(await client.post(f"/training/start/{key}"))
    sandbox.clock.advance(2.5 * EPOCH_SECONDS)
    assert ok(await client.post(f"/training/stop/{key}")) == {
        "status": "stopped",
        "message": "Training stopped after epoch 2 of 5.",
    }
    sandbox.clock.advance(10 * EPOCH_SECONDS)
    assert ok(await client.get("/status")) == {
        "status": "stopped",
        "message": "Training stopped after epoch 2 of 5.",
        "epoch": 2,
        "epochs": 5,
        "progress": 0.4,
    }
    assert ok(await client.post(f"/training/start/{key}"))["status"] == "training"
    assert ok(await client.get(f"/monitor/{key}"))["epoch"] == 0
    sandbox.clock.advance(EPOCH_SECONDS)
    assert ok(await client.get(f"/monitor/{key}"))["epoch"] == 1


async def test_stop_with_force_restart_wipes_the_session(
    client: httpx.AsyncClient, sandbox: Sandbox, state: TrainingState
) -> None:
    key = await preprocessed(client, sandbox)
    ok(await client.post(f"/training/start/{key}"))
    sandbox.clock.advance(EPOCH_SECONDS)
    assert_invalid(
        await client.post(f"/training/stop/{key}", params={"force_restart": "x"}),
        (
            "int_parsing",
            ["query", "force_restart"],
            "Input should be a valid integer, unable to parse string as an integer",
        ),
    )
    assert ok(await client.post(f"/training/stop/{key}", params={"force_restart": 1})) == {
        "status": "no_session",
        "message": "Training stopped after epoch 1 of 3; the session was wiped.",
    }
    assert state.key is None
    assert_detail(await client.get(f"/monitor/{key}"), 400, NO_SESSION)
    assert ok(await client.get("/healthcheck"))["session"] == "no_session"


async def test_a_learning_rate_above_a_tenth_diverges_at_epoch_two(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    key = await preprocessed(client, sandbox, learning_rate=0.5, epochs=5)
    ok(await client.post(f"/training/start/{key}"))
    sandbox.clock.advance(EPOCH_SECONDS)
    first = ok(await client.get(f"/monitor/{key}"))
    assert (first["status"], first["epoch"]) == ("training", 1)
    assert isinstance(first["loss"], float)
    sandbox.clock.advance(EPOCH_SECONDS)
    diverged = "Training diverged at epoch 2 (loss is NaN): lower the learning rate."
    assert ok(await client.get(f"/monitor/{key}")) == {
        "status": "failed",
        "epoch": 2,
        "epochs": 5,
        "loss": None,
        "metrics": first["metrics"],
        "message": diverged,
    }
    sandbox.clock.advance(10 * EPOCH_SECONDS)
    assert ok(await client.get("/status")) == {
        "status": "failed",
        "message": diverged,
        "epoch": 2,
        "epochs": 5,
        "progress": 0.4,
    }
    assert ok(await client.get(f"/model_ready/{key}"))["model_ready"] is False
    assert ok(await client.post(f"/training/start/{key}"))["status"] == "training"  # a failed run may restart


# --- request validation -------------------------------------------------------------------------------


async def test_upload_without_the_file_parts_is_unprocessable(client: httpx.AsyncClient, state: TrainingState) -> None:
    key = await start(client)
    missing = (
        ("missing", ["body", "train_file"], "Field required"),
        ("missing", ["body", "test_file"], "Field required"),
    )
    assert_invalid(await client.post(f"/upload_dataset/{key}"), *missing)
    assert_invalid(await client.post(f"/upload_dataset/{key}", json={"train_file": "x"}), *missing)
    only_test = {"test_file": FILES["test_file"]}
    assert_invalid(await client.post(f"/upload_dataset/{key}", files=only_test), missing[0])
    # FastAPI reads an empty form field as a missing one.
    empty = await client.post(f"/upload_dataset/{key}", data={"train_file": ""}, files=only_test)
    assert_invalid(empty, missing[0])
    assert state.dataset is None


async def test_upload_with_a_text_field_instead_of_a_file_is_unprocessable(client: httpx.AsyncClient) -> None:
    key = await start(client)
    response = await client.post(
        f"/upload_dataset/{key}", data={"train_file": "text,label"}, files={"test_file": FILES["test_file"]}
    )
    detail = assert_invalid(
        response, ("value_error", ["body", "train_file"], "Value error, Expected UploadFile, received: <class 'str'>")
    )
    assert detail[0]["input"] == "text,label"


@pytest.mark.parametrize(
    ("field", "value", "kind", "msg"),
    [
        ("epochs", "many", "int_parsing", "Input should be a valid integer, unable to parse string as an integer"),
        ("seed", 1.5, "int_from_float", "Input should be a valid integer, got a number with a fractional part"),
        (
            "learning_rate",
            "fast",
            "float_parsing",
            "Input should be a valid number, unable to parse string as a number",
        ),
        ("init_eval", "maybe", "bool_parsing", "Input should be a valid boolean, unable to interpret input"),
        ("eval_metrics", "accuracy", "list_type", "Input should be a valid list"),
        ("model", 5, "string_type", "Input should be a valid string"),
        ("epochs", 0, "greater_than_equal", "Input should be greater than or equal to 1"),
        ("epochs", 1001, "less_than_equal", "Input should be less than or equal to 1000"),
        ("batch_size", 0, "greater_than_equal", "Input should be greater than or equal to 1"),
        ("epochs_per_test_run", 0, "greater_than_equal", "Input should be greater than or equal to 1"),
        ("learning_rate", 0, "greater_than", "Input should be greater than 0"),
    ],
)
async def test_parameters_of_the_wrong_type_or_range_are_unprocessable(
    client: httpx.AsyncClient, state: TrainingState, field: str, value: Any, kind: str, msg: str
) -> None:
    key = await start(client)
    before = dict(state.config)
    detail = assert_invalid(await client.post(f"/parameters/{key}", json={field: value}), (kind, ["body", field], msg))
    assert detail[0]["input"] == value
    assert state.config == before


async def test_parameters_need_a_json_object(client: httpx.AsyncClient) -> None:
    key = await start(client)
    path = f"/parameters/{key}"
    not_object = (
        "model_attributes_type",
        ["body"],
        "Input should be a valid dictionary or object to extract fields from",
    )
    assert assert_invalid(await client.post(path, json=[1]), not_object)[0]["input"] == [1]
    assert_invalid(await client.post(path), ("missing", ["body"], "Field required"))
    assert_invalid(
        await client.post(path, content=b"{oops", headers={"content-type": "application/json"}),
        ("json_invalid", ["body", 1], "JSON decode error"),
    )


async def test_parameters_merge_ignore_unknown_fields_and_null(client: httpx.AsyncClient) -> None:
    key = await start(client)
    ok(await client.post(f"/parameters/{key}", json={"epochs": 5, "unknown": 1}))
    config = ok(await client.post(f"/parameters/{key}", json={"seed": "11", "epochs": None}))["config"]
    assert (config["epochs"], config["seed"]) == (5, 11)
    assert "unknown" not in config


async def test_import_needs_both_query_parameters(client: httpx.AsyncClient) -> None:
    key = await start(client)
    assert_invalid(
        await client.post(f"/import_model/{key}"),
        ("missing", ["query", "model_type"], "Field required"),
        ("missing", ["query", "model_name"], "Field required"),
    )
    assert_invalid(
        await client.post(f"/import_model/{key}", params={"model_type": "bert"}),
        ("missing", ["query", "model_name"], "Field required"),
    )


async def test_imported_model_flags_must_be_booleans(client: httpx.AsyncClient) -> None:
    key = await start(client)
    assert_invalid(
        await client.get(f"/get_imported_model/{key}", params={"on_disk": "sometimes"}),
        ("bool_parsing", ["query", "on_disk"], "Input should be a valid boolean, unable to interpret input"),
    )


# --- datasets -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "rows"),
    [
        ("a.csv", b'\xef\xbb\xbftext,label\r\n"a, quoted",1\r\nb,0\r\n', 2),
        ("a.jsonl", b'{"text": "a"}\n\n{"text": "b"}\n{"text": "c"}', 3),
        ("a.json", b'[{"text": "a"}, {"text": "b"}]', 2),
    ],
)
async def test_datasets_in_each_format_are_counted(
    client: httpx.AsyncClient, state: TrainingState, name: str, data: bytes, rows: int
) -> None:
    key = await start(client)
    ok(await client.post(f"/upload_dataset/{key}", files=FILES))
    body = ok(
        await client.post(f"/upload_dataset/{key}", files={"train_file": (name, data), "test_file": (name, data)})
    )
    assert body["dataset"] == {"train_file": name, "train_rows": rows, "test_file": name, "test_rows": rows}
    assert state.dataset is not None
    assert state.dataset.train == dataset_file(name, rows, data)  # the re-upload replaced the first dataset


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the file is empty"),
        (b"\xff\xd8\xff\xe0 jpeg", "the file is not UTF-8 text"),
        (b"PK\x03\x04\x00\x00", "the file is binary, not a text table"),
        (b"text,label\n", "a CSV file needs a header row and at least one data row"),
        (b"text,label\na,1,extra\n", "CSV row 2 has 3 fields, the header has 2"),
        (b'[{"text": "a"}, 3]', "item 1 of the JSON array is not an object"),
        (b"[]", "a JSON array of objects needs at least one object"),
        (b'[{"text": "a"', "invalid JSON (Expecting ',' delimiter at line 1)"),
        (b'{"text": "a"}\n[1]', "line 2 is not a JSON object"),
        (b'{"text": "a"}\n{oops', "line 2 is not valid JSON (Expecting property name enclosed in double quotes)"),
    ],
)
async def test_unusable_dataset_files_are_refused_with_the_reason(
    client: httpx.AsyncClient, state: TrainingState, data: bytes, reason: str
) -> None:
    key = await start(client)
    files = {"train_file": FILES["train_file"], "test_file": ("bad.csv", data, "text/csv")}
    assert_detail(
        await client.post(f"/upload_dataset/{key}", files=files),
        400,
        f"Error while loading the dataset: bad.csv: {reason}.",
    )
    assert state.dataset is None


# --- importing a model --------------------------------------------------------------------------------


async def test_import_of_a_hub_model_finishes_and_becomes_the_model(
    client: httpx.AsyncClient, sandbox: Sandbox, state: TrainingState
) -> None:
    key = await start(client)
    assert ok(await client.get("/import_status"))["message"] == "No model import has started."
    params = {"model_type": "gpt2", "model_name": "gpt2"}
    assert ok(await client.post(f"/import_model/{key}", params=params)) == {
        "status": "importing",
        "message": "Importing gpt2 (gpt2).",
    }
    sandbox.clock.advance(IMPORT_SECONDS / 4)
    assert ok(await client.get("/import_status")) == {
        "status": "importing",
        "done": False,
        "failed": False,
        "progress": 0.25,
        "model_type": "gpt2",
        "model_name": "gpt2",
        "message": "Importing gpt2 (gpt2): 25%.",
    }
    assert_detail(
        await client.post(f"/parameters/{key}", json={}),
        400,
        "Configuration is only possible in the setup state (current state: importing).",
    )
    assert_detail(
        await client.get(f"/get_imported_model/{key}"), 400, "No imported model yet (current state: importing)."
    )
    sandbox.clock.advance(IMPORT_SECONDS)
    status = ok(await client.get("/import_status"))
    assert (status["status"], status["done"], status["failed"], status["progress"]) == ("imported", True, False, 1.0)
    assert status["message"] == "Imported gpt2 (gpt2)."
    assert state.config["model"] == "gpt2"

    plain = ok(await client.get(f"/get_imported_model/{key}"))
    assert plain == {
        "status": "imported",
        "model": {
            "model_type": "gpt2",
            "model_name": "gpt2",
            "parameters": 124_439_808,
            "on_disk": False,
            "path": None,
            "tokenizer": None,
        },
    }
    full = ok(await client.get(f"/get_imported_model/{key}", params={"on_disk": "yes", "tokenizer": "1"}))["model"]
    assert full["path"] == "/tmp/nupic-cache/gpt2"
    assert full["tokenizer"] == {"name": "gpt2", "vocab_size": 50_257}

    # "imported" is setup-like: the session goes on to a dataset and preprocessing.
    ok(await client.post(f"/upload_dataset/{key}", files=FILES))
    assert ok(await client.post(f"/preprocess/{key}"))["status"] == "preprocessing"


async def test_import_of_a_model_missing_from_the_hub_fails_back_to_setup(
    client: httpx.AsyncClient, sandbox: Sandbox, state: TrainingState
) -> None:
    key = await start(client)
    ok(await client.post(f"/import_model/{key}", params={"model_type": "bert", "model_name": "acme/nonexistent"}))
    sandbox.clock.advance(IMPORT_SECONDS)
    assert ok(await client.get("/import_status")) == {
        "status": "setup",
        "done": True,
        "failed": True,
        "progress": 1.0,
        "model_type": "bert",
        "model_name": "acme/nonexistent",
        "message": "Import failed: acme/nonexistent was not found on the model hub.",
    }
    assert state.config["model"] == "bert-base-cased"
    assert_detail(await client.get(f"/get_imported_model/{key}"), 400, "No imported model yet (current state: setup).")


async def test_a_failed_import_after_a_successful_one_keeps_the_first(
    client: httpx.AsyncClient, sandbox: Sandbox, state: TrainingState
) -> None:
    key = await start(client)
    ok(await client.post(f"/import_model/{key}", params={"model_type": "t5", "model_name": "t5-small"}))
    sandbox.clock.advance(IMPORT_SECONDS)
    ok(await client.post(f"/import_model/{key}", params={"model_type": "t5", "model_name": "t5-huge"}))
    sandbox.clock.advance(IMPORT_SECONDS)
    status = ok(await client.get("/import_status"))
    assert (status["status"], status["failed"], status["model_name"]) == ("imported", True, "t5-huge")
    assert ok(await client.get(f"/get_imported_model/{key}"))["model"]["model_name"] == "t5-small"
    assert state.config["model"] == "t5-small"


async def test_import_of_an_unsupported_model_type_is_refused(client: httpx.AsyncClient) -> None:
    key = await start(client)
    assert_detail(
        await client.post(f"/import_model/{key}", params={"model_type": "resnet", "model_name": "gpt2"}),
        400,
        "Unsupported model type 'resnet': use one of bert, gpt2, llama, sparse-bert, t5.",
    )
    assert ok(await client.get("/status"))["status"] == "setup"


# --- routing and headers ------------------------------------------------------------------------------


async def test_unknown_routes_and_wrong_methods_answer_fastapi_details(client: httpx.AsyncClient) -> None:
    assert_detail(await client.get("/no/such/route"), 404, "Not Found")
    wrong = await client.get("/preprocess/abc")
    assert_detail(wrong, 405, "Method Not Allowed")
    assert wrong.headers["allow"] == "POST"


async def test_a_model_name_outside_latin1_is_sent_as_an_rfc6266_filename(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    key = await trained(client, sandbox, model="模型", epochs=1)
    response = await client.get(f"/download_model/{key}")
    assert response.headers["content-disposition"] == "attachment; filename*=utf-8''%E6%A8%A1%E5%9E%8B-trained.zip"


def test_sandbox_env_points_clients_at_the_training_mount(sandbox: Sandbox) -> None:
    assert sandbox.env("http://127.0.0.1:9") == {"TRAINING_MODULE_URL": "http://127.0.0.1:9/training"}
