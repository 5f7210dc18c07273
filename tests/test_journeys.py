"""The six chat requests of issue 17, each driven by an agent that knows only what the server told it.

Every journey runs in both discovery modes, reaches its goal (checked against the sandbox, not just the
answers), and stays within the tools/call count measured when these tests were written (CALL_BOUNDS): a better
ranking, error or description may lower a count, never raise it. The agent's rules (what it may call, where
ids come from) are in tests/journey_agent.py. The sandbox clock runs fast, so a fit takes a fraction of a second.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client

from modelops_mcp.sandbox import Sandbox, serve_sandbox
from modelops_mcp.sandbox.caila_data import CailaState, job_status
from modelops_mcp.sandbox.datarobot_state import DataRobotState
from modelops_mcp.sandbox.pieces_data import LLAMA_3_8B_ID, PiecesState
from tests.journey_agent import MODES, Agent, Mode, agent_on
from tests.support import CAILA_FIT, EXAMPLE_DATA, RunningSandbox

pytestmark = pytest.mark.anyio

# tools/call requests per journey and mode, measured on main at 0ff18bd when these tests were written. Search
# mode adds the ops_search and ops_describe calls that stand in for reading the tool list.
CALL_BOUNDS: dict[str, dict[Mode, int]] = {
    "tunethemodel_fine_tune": {"default": 7, "search": 10},
    "caila_fit": {"default": 5, "search": 8},
    "datarobot_model_test": {"default": 7, "search": 11},
    "training_run_download": {"default": 8, "search": 12},
    "pieces_download_load": {"default": 4, "search": 7},
    "cancel_the_oldest": {"default": 2, "search": 2},
}

MODEL_DIR = EXAMPLE_DATA.parent / "custom_model"
# The sandbox clock: a simulated 5-minute Caila fit takes half a real second.
FAST_SPEED = 600.0


@pytest.fixture
async def fast_sandbox() -> AsyncIterator[RunningSandbox]:
    """The emulators with their clock running, so jobs end by themselves as an agent waits on them."""
    emulators = Sandbox(speed=FAST_SPEED)
    async with serve_sandbox(emulators) as url:
        yield RunningSandbox(emulators, url)


def within_bound(journey: str, mode: Mode, agent: Agent) -> None:
    """The journey's count is at most today's; with MODELOPS_JOURNEY_REPORT set, also one JSON line there."""
    path = os.environ.get("MODELOPS_JOURNEY_REPORT")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps({"journey": journey, "mode": mode, "calls": agent.calls, "steps": agent.steps}) + "\n")
    assert agent.calls <= CALL_BOUNDS[journey][mode], (agent.calls, agent.steps)


# ---- (a) fine-tune on Tune the Model: upload a dataset, fit, wait, classify ----------------------------------

TTM_TRAIN = EXAMPLE_DATA / "sentiment-train.csv"
TTM_VALIDATE = EXAMPLE_DATA / "sentiment-validate.csv"
TTM_REQUEST = (
    f"Fine-tune a sentiment classifier on Tune the Model with {TTM_TRAIN} for training and {TTM_VALIDATE} "
    "for validation, then tell me whether 'Password reset keeps timing out' is negative or positive."
)


@pytest.mark.parametrize("mode", MODES)
async def test_fine_tune_on_tune_the_model_and_classify(
    fast_sandbox: RunningSandbox, tmp_path: Path, mode: Mode
) -> None:
    async with agent_on(fast_sandbox.env(), tmp_path / "state", mode, TTM_REQUEST, allow_dirs=[EXAMPLE_DATA]) as agent:
        create, upload, bind = "tunethemodel_create_model", "tunethemodel_upload_dataset", "tunethemodel_bind_datasets"
        fit, classify = "tunethemodel_fit_model", "tunethemodel_classify"
        await agent.find("fine-tune a sentiment classifier", create, fit, backend="tunethemodel")
        await agent.find("upload my training data", upload, backend="tunethemodel")
        await agent.find("attach the train and validation files to the model", bind, backend="tunethemodel")
        await agent.find("classify a text", classify, backend="tunethemodel")
        await agent.learn(create, upload, bind, fit, classify)

        model = await agent.run(
            create, {"model_type": "classifier", "name": "sentiment", "model_params": {"num_classes": 2}}
        )
        model_id = model.get("model_id") or model["model_name"]  # the service has spelled it both ways
        files = {}
        for role, path in (("train_file", TTM_TRAIN), ("validate_file", TTM_VALIDATE)):
            uploaded = await agent.run(
                upload, {"name": path.stem, "task_type": "classifier", "path": str(path)}, ids=("path",)
            )
            files[role] = uploaded["file_id"]
        await agent.run(bind, {"model_id": model_id, **files}, ids=("model_id", "train_file", "validate_file"))
        started = await agent.run(fit, {"model_id": model_id}, ids=("model_id",))
        job = await agent.wait(started)
        assert job["status"] == "completed", job
        answer = await agent.run(
            classify, {"model_id": model_id, "input": "Password reset keeps timing out"}, ids=("model_id",)
        )

        # The goal: a fitted model's answer, negative (class 0: labels are numbered in sorted order).
        scores = answer["answer"]["scores"]
        assert len(scores) == 2, answer
        assert scores[0] > scores[1], answer
        within_bound("tunethemodel_fine_tune", mode, agent)


# ---- (b) fit on Caila ---------------------------------------------------------------------------------------

CAILA_REQUEST = (
    "On Caila, make my own copy of the service text-classifier of account demo, call it ticket-router, "
    "and fit it on my dataset support-tickets."
)


@pytest.mark.parametrize("mode", MODES)
async def test_fit_a_copy_of_a_caila_service(fast_sandbox: RunningSandbox, tmp_path: Path, mode: Mode) -> None:
    async with agent_on(fast_sandbox.env(), tmp_path / "state", mode, CAILA_REQUEST) as agent:
        datasets, derive = "caila_list_datasets", "caila_create_derived_service"
        configs, fit = "caila_list_fit_configs", "caila_fit_service"
        await agent.find("fit a copy of a service on my dataset", derive, fit, backend="caila")
        await agent.find("my datasets", datasets, backend="caila")
        await agent.find("list the fit configurations", configs, backend="caila")
        await agent.learn(datasets, derive, configs, fit)

        listed = (await agent.run(datasets, {"account": "demo"}))["result"]
        dataset = next(d for d in listed if d["name"] == "support-tickets")
        copy = await agent.run(derive, {"account": "demo", "model": "text-classifier", "name": "ticket-router"})
        ids = {"account": str(copy["id"]["accountId"]), "model": str(copy["id"]["modelId"])}
        found = (await agent.run(configs, ids, ids=("account", "model")))["result"]
        config = next((c for c in found if c.get("isDefault")), found[0])
        arguments = {**ids, "datasetId": dataset["id"]["datasetId"], "configId": config["id"]["configId"]}
        started = await agent.run(fit, arguments, ids=("account", "model", "datasetId", "configId"))
        job = await agent.wait(started)

    # The goal: the copy, not the original, fitted on support-tickets to the end.
    assert job["status"] == "completed", job
    assert job["state"] == "SUCCESS"
    state = fast_sandbox.emulators.state("caila")
    assert isinstance(state, CailaState)
    fitted = [(j.account_id, j.model_id, j.dataset_name) for j in state.jobs.values()]
    assert fitted == [(int(ids["account"]), int(ids["model"]), "support-tickets")]
    assert ids["model"] != "42"  # the seeded text-classifier stays as it was
    within_bound("caila_fit", mode, agent)


# ---- (c) a DataRobot custom model test ---------------------------------------------------------------------

DATAROBOT_TEST_DATA = EXAMPLE_DATA / "sentiment-test.csv"
DATAROBOT_REQUEST = (
    f"Test my custom model in {MODEL_DIR} on DataRobot: a binary classifier of the column label "
    f"(positive or negative), Python, in the Python 3.11 Drop-In environment. Test it on {DATAROBOT_TEST_DATA}."
)


@pytest.mark.parametrize("mode", MODES)
async def test_test_a_datarobot_custom_model_on_an_uploaded_dataset(
    fast_sandbox: RunningSandbox, tmp_path: Path, mode: Mode
) -> None:
    async with agent_on(
        fast_sandbox.env(), tmp_path / "state", mode, DATAROBOT_REQUEST, allow_dirs=[EXAMPLE_DATA, MODEL_DIR]
    ) as agent:
        test, create = "datarobot_create_custom_model_test", "datarobot_create_custom_model"
        version, upload = "datarobot_create_custom_model_version", "datarobot_upload_dataset"
        environments = "datarobot_list_execution_environments"
        await agent.find("test my custom model on my dataset", test, backend="datarobot")
        await agent.find("create a custom model from my code folder", create, version, backend="datarobot")
        await agent.find("upload a dataset", upload, backend="datarobot")
        await agent.find("list the execution environments", environments, backend="datarobot")
        await agent.learn(environments, create, version, upload, test)

        listed = (await agent.run(environments, {}))["data"]
        environment = next(e for e in listed if e["name"] == "Python 3.11 Drop-In")
        model = await agent.run(
            create,
            {
                "name": "sentiment",
                "customModelType": "inference",
                "targetType": "Binary",
                "targetName": "label",
                "positiveClassLabel": "positive",
                "negativeClassLabel": "negative",
                "language": "python",
            },
        )
        made = await agent.run(
            version,
            {
                "customModelId": model["id"],
                "isMajorUpdate": "true",
                "baseEnvironmentId": environment["id"],
                "files": [str(MODEL_DIR)],
            },
            ids=("customModelId", "baseEnvironmentId"),
        )
        uploaded = await agent.run(upload, {"file": str(DATAROBOT_TEST_DATA)}, ids=("file",))
        ingested = await agent.wait(uploaded)
        assert ingested["status"] == "completed", ingested
        arguments = {
            "customModelId": model["id"],
            "customModelVersionId": made["id"],
            "datasetId": uploaded["catalogId"],
        }
        started = await agent.run(test, arguments, ids=tuple(arguments))
        job = await agent.wait(started)

    # The goal: the test ran on the uploaded dataset and says the model passed.
    assert job["status"] == "completed", job
    assert job["result"]["overallStatus"] == "succeeded", job["result"]
    state = fast_sandbox.emulators.state("datarobot")
    assert isinstance(state, DataRobotState)
    assert state.datasets[uploaded["catalogId"]].data == DATAROBOT_TEST_DATA.read_bytes()
    tested = [(t.version_id, t.dataset_id) for t in state.tests.values() if t.model_id == model["id"]]
    assert tested == [(made["id"], uploaded["catalogId"])]
    within_bound("datarobot_model_test", mode, agent)


# ---- (d) a Training Module run, with the results downloaded --------------------------------------------------

TRAINING_TRAIN = EXAMPLE_DATA / "sentiment-train.csv"
TRAINING_TEST = EXAMPLE_DATA / "sentiment-test.csv"
TRAINING_REQUEST = (
    f"With the Training Module, fine-tune bert-base-cased for 3 epochs on {TRAINING_TRAIN}, validating on "
    f"{TRAINING_TEST}, and download the results for me."
)


@pytest.mark.parametrize("mode", MODES)
async def test_train_on_the_training_module_and_download_the_results(
    fast_sandbox: RunningSandbox, tmp_path: Path, mode: Mode
) -> None:
    downloads = tmp_path / "downloads"
    async with agent_on(
        fast_sandbox.env(), tmp_path / "state", mode, TRAINING_REQUEST, allow_dirs=[EXAMPLE_DATA], output_dir=downloads
    ) as agent:
        session, config = "training_start_session", "training_update_config"
        upload, preprocess = "training_upload_dataset", "training_preprocess"
        train, results = "training_start_training", "training_download_results"
        await agent.find("start training", train, session, backend="training")
        await agent.find("set epochs in the training configuration", config, backend="training")
        await agent.find("upload the training and test files", upload, backend="training")
        await agent.find("preprocess the data", preprocess, backend="training")
        await agent.find("download the results", results, backend="training")
        await agent.learn(session, config, upload, preprocess, train, results)

        key = (await agent.run(session, {}))["key"]
        await agent.run(config, {"model": "bert-base-cased", "epochs": 3})
        files = {"train_file": str(TRAINING_TRAIN), "test_file": str(TRAINING_TEST)}
        await agent.run(upload, files, ids=tuple(files))
        for step in (preprocess, train):
            job = await agent.wait(await agent.run(step, {}))
            assert job["status"] == "completed", job
        saved = await agent.run(results, {})
        within_bound("training_run_download", mode, agent)

    # The goal: the results file on disk, byte for byte what the Training Module serves, one row per epoch.
    data = await anyio.Path(saved["path"]).read_bytes()
    assert Path(saved["path"]).is_relative_to(downloads)
    async with httpx.AsyncClient() as http:
        served = await http.get(f"{fast_sandbox.url}/training/download_results/{key}")
    assert served.status_code == 200
    assert data == served.content
    assert (saved["size"], saved["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]


# ---- (e) a Pieces download, then load ---------------------------------------------------------------------

PIECES_MODEL = "Llama-3 8B Instruct"  # LLAMA_3_8B_ID in the sandbox
PIECES_REQUEST = f"Download the {PIECES_MODEL} model in Pieces and load it."


@pytest.mark.parametrize("mode", MODES)
async def test_download_and_load_a_pieces_model(fast_sandbox: RunningSandbox, tmp_path: Path, mode: Mode) -> None:
    async with agent_on(fast_sandbox.env(), tmp_path / "state", mode, PIECES_REQUEST) as agent:
        models, download, load = "pieces_list_models", "pieces_download_model", "pieces_load_model"
        await agent.find("download a local model", download, models, backend="pieces")
        await agent.find("load the model", load, backend="pieces")
        await agent.learn(models, download, load)

        listed = (await agent.run(models, {}))["iterable"]
        wanted = next(m for m in listed if m["name"] == PIECES_MODEL)
        assert not wanted.get("downloaded")
        job = await agent.wait(await agent.run(download, {"model": wanted["id"]}, ids=("model",)))
        assert job["status"] == "completed", job
        loaded = await agent.run(load, {"model": wanted["id"]}, ids=("model",))
        within_bound("pieces_download_load", mode, agent)

    # The goal: the model is on the machine and the one loaded, as Pieces OS itself says.
    assert loaded["loaded"] is True
    state = fast_sandbox.emulators.state("pieces")
    assert isinstance(state, PiecesState)
    model = state.find(wanted["id"], fast_sandbox.emulators.clock.now())
    assert model is not None
    assert (model.downloaded, model.loaded) == (True, True)


# ---- (f) "what is running? cancel the oldest" -----------------------------------------------------------------

CANCEL_REQUEST = "What is running right now? Cancel the oldest one."
# Which job an earlier conversation started first: a Pieces download (its backend documents a cancel) or a Caila
# fit (it does not: the honest answer is then that nothing was cancelled, the remote fit may still run).
EARLIER = {
    "oldest_is_a_pieces_download": ("pieces_download_model", "caila_fit_service"),
    "oldest_is_a_caila_fit": ("caila_fit_service", "pieces_download_model"),
}


@pytest.mark.parametrize("earlier", list(EARLIER))
@pytest.mark.parametrize("mode", MODES)
async def test_list_what_is_running_and_cancel_the_oldest(
    sandbox: RunningSandbox, tmp_path: Path, mode: Mode, earlier: str
) -> None:
    # The sandbox clock stands still, so both jobs are still running when the agent looks.
    pieces_model = LLAMA_3_8B_ID  # the earlier conversation's, not the agent's: it may be named outright
    arguments: dict[str, dict[str, Any]] = {
        "pieces_download_model": {"model": pieces_model},
        "caila_fit_service": CAILA_FIT,
    }
    started: dict[str, str] = {}

    async def start_jobs(client: Client) -> None:
        for tool in EARLIER[earlier]:
            result = await client.call_tool(tool, arguments[tool])
            assert isinstance(result.structured_content, dict), result
            started[tool] = result.structured_content["job"]["id"]
            await anyio.sleep(0.01)  # created_at is in milliseconds: the order must show

    async with agent_on(sandbox.env(), tmp_path / "state", mode, CANCEL_REQUEST, before=start_jobs) as agent:
        running = (await agent.call("jobs_list", {"status": ["working"]})).structured_content
        assert isinstance(running, dict)
        jobs = running["jobs"]
        assert {job["id"] for job in jobs} == set(started.values())
        oldest = min(jobs, key=lambda job: job["created_at"])
        answer = (await agent.call("jobs_cancel", {"job_id": oldest["id"]}, ids=("job_id",))).structured_content
        assert isinstance(answer, dict)
        within_bound("cancel_the_oldest", mode, agent)

    first = EARLIER[earlier][0]
    assert oldest["id"] == started[first]
    assert oldest["operation"] == first
    now = sandbox.emulators.clock.now()
    pieces = sandbox.emulators.state("pieces")
    caila = sandbox.emulators.state("caila")
    assert isinstance(pieces, PiecesState)
    assert isinstance(caila, CailaState)
    download = pieces.find(pieces_model, now)
    (fit,) = caila.jobs.values()
    assert download is not None
    if first == "pieces_download_model":
        # The goal: the download is cancelled on Pieces OS itself, and the answer says so.
        assert (answer["backend_cancelled"], answer["job"]["status"]) == (True, "cancelled"), answer
        assert download.last_download is not None
        assert download.last_download.canceled_at is not None
        assert (download.downloading, download.downloaded) == (False, False)
        assert job_status(fit, now)["done"] is False  # the newer job untouched
    else:
        # Caila documents no cancel: the answer must not claim one (whatever the job is then called), and the
        # fit is indeed still running on Caila.
        assert answer["backend_cancelled"] is False, answer
        assert answer["message"]
        assert job_status(fit, now)["done"] is False
        assert download.downloading  # the newer job untouched
