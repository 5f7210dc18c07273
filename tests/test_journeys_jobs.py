"""Journeys (d) a Training Module run with its results downloaded, (e) a Pieces download and load, (f) "what
is running, cancel the oldest": the agent and bounds of test_journeys.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client

from modelops_mcp.sandbox.caila_data import CailaState, job_status
from modelops_mcp.sandbox.pieces_data import LLAMA_3_8B_ID, PiecesState
from tests.journey_agent import (
    FAST_SPEED,
    MODES,
    Agent,
    Mode,
    agent_on,
    agent_on_serve_sandbox,
    running_sandbox,
)
from tests.support import CAILA_FIT, EXAMPLE_DATA, RunningSandbox
from tests.test_journeys import within_bound

pytestmark = pytest.mark.anyio


@pytest.fixture
async def fast_sandbox() -> AsyncIterator[RunningSandbox]:
    async with running_sandbox() as running:
        yield running


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


async def download_and_load(agent: Agent) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Pieces journey: the model as listed (before), and as the load answered it."""
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
    # The goal as Pieces OS answers it: that model, now on the machine and loaded.
    assert (loaded["id"], loaded["downloaded"], loaded["loaded"]) == (wanted["id"], True, True), loaded
    return wanted, loaded


@pytest.mark.parametrize("mode", MODES)
async def test_download_and_load_a_pieces_model(fast_sandbox: RunningSandbox, tmp_path: Path, mode: Mode) -> None:
    async with agent_on(fast_sandbox.env(), tmp_path / "state", mode, PIECES_REQUEST) as agent:
        wanted, _ = await download_and_load(agent)
        within_bound("pieces_download_load", mode, agent)

    # The goal, as the emulator's own state has it: on the machine, and the model loaded.
    state = fast_sandbox.emulators.state("pieces")
    assert isinstance(state, PiecesState)
    model = state.find(wanted["id"], fast_sandbox.emulators.clock.now())
    assert model is not None
    assert (model.downloaded, model.loaded) == (True, True)


async def test_the_pieces_journey_over_stdio_against_serve_sandbox(tmp_path: Path) -> None:
    """The same journey as a host runs it: `serve --sandbox` as a child process (every backend listed), the
    calls counted on the wire. Default mode only: a process start costs seconds, and search mode is the same
    agent over the same server code."""
    async with agent_on_serve_sandbox(tmp_path / "state", "default", PIECES_REQUEST, speed=FAST_SPEED) as agent:
        await download_and_load(agent)
        within_bound("pieces_download_load", "default", agent)


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
