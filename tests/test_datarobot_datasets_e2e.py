"""DataRobot datasets through our MCP server: a custom model test run from tools alone, on a dataset uploaded by a tool.

The server runs as `modelops-mcp serve` over stdio (a real MCP client), the sandbox on loopback HTTP with its clock
frozen: each test moves the clock while it waits on a job.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from modelops_mcp.sandbox import Sandbox, serve_sandbox
from modelops_mcp.sandbox.datarobot_catalog import NO_ROWS
from modelops_mcp.sandbox.datarobot_state import DEMO_DATASET_ID, DEMO_MODEL_ID, DEMO_VERSION_ID, R_ENV_ID
from tests.support import EXAMPLE_DATA, RunningSandbox, advance_in_steps, error_of, ok, stdio_server, wait_for_job

pytestmark = pytest.mark.anyio

CSV = EXAMPLE_DATA / "sentiment-test.csv"
DEMO = {"customModelId": DEMO_MODEL_ID, "customModelVersionId": DEMO_VERSION_ID}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Module-wide, so the shared sandbox and server below live in one event loop across this file's tests."""
    return "asyncio"


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of files made by the tests, allowed to the shared server beside examples/data."""
    return tmp_path_factory.mktemp("uploads")


@pytest.fixture(scope="module")
async def shared(
    uploads: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[RunningSandbox, Client]]:
    """One sandbox and one `serve` over stdio for the file (a server start costs about a second of CPU): each
    test works on datasets and models it makes, and counts only its own requests (`reset`)."""
    emulators = Sandbox(speed=0)
    state_dir = tmp_path_factory.mktemp("datasets") / "state"
    async with serve_sandbox(emulators) as url:
        sandbox = RunningSandbox(emulators, url)
        allow = ("--allow-dir", str(EXAMPLE_DATA), "--allow-dir", str(uploads))
        async with stdio_server(sandbox.env(), state_dir, *allow) as (client, _):
            yield sandbox, client


@pytest.fixture
def served(shared: tuple[RunningSandbox, Client]) -> tuple[RunningSandbox, Client]:
    """The shared sandbox, reset (no faults, an empty request log; its clock stays frozen), and the client."""
    shared[0].reset()
    return shared


async def waited(client: Client, sandbox: RunningSandbox, job_id: str, seconds: float) -> dict[str, Any]:
    """The job once it ended, the sandbox clock moved `seconds` in six steps meanwhile."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(advance_in_steps, sandbox, seconds / 6, 6)
        return await wait_for_job(client, job_id)


async def upload(client: Client, sandbox: RunningSandbox, path: Path) -> tuple[str, dict[str, Any]]:
    """(catalogId, the upload's ended job)."""
    started = await ok(client, "datarobot_upload_dataset", {"file": str(path)})
    return started["catalogId"], await waited(client, sandbox, started["job"]["id"], 6)


async def test_a_custom_model_test_runs_on_a_dataset_uploaded_with_the_upload_tool(
    served: tuple[RunningSandbox, Client],
) -> None:
    sandbox, client = served
    dataset_id, job = await upload(client, sandbox, CSV)
    assert job["status"] == "completed", job
    rows = len(CSV.read_text(encoding="utf-8").strip().splitlines()) - 1
    assert job["result"]["datasetId"] == dataset_id
    assert (job["result"]["processingState"], job["result"]["rowCount"]) == ("COMPLETED", rows)
    assert job["result"]["name"] == CSV.name

    listed = await ok(client, "datarobot_list_datasets", {})
    assert dataset_id in [d["datasetId"] for d in listed["data"]]

    started = await ok(client, "datarobot_create_custom_model_test", {**DEMO, "datasetId": dataset_id})
    test = await waited(client, sandbox, started["job"]["id"], 36)
    assert test["status"] == "completed", test
    assert test["result"]["overallStatus"] == "succeeded"
    assert test["result"]["datasetId"] == dataset_id
    # The upload went as one multipart `file` part, and its job was followed 202 → status → 303 to the dataset.
    (posted,) = [r for r in sandbox.requests("datarobot") if r.path.endswith("/datasets/fromFile/")]
    assert posted.headers["content-type"].startswith("multipart/form-data")
    assert posted.status == 202
    redirects = [r for r in sandbox.requests("datarobot") if "/status/" in r.path and r.status == 303]
    assert redirects


async def test_a_test_on_a_missing_deleted_or_unfinished_dataset_is_refused(
    served: tuple[RunningSandbox, Client],
) -> None:
    sandbox, client = served
    missing = await client.call_tool("datarobot_create_custom_model_test", {**DEMO, "datasetId": "0" * 24})
    started = await ok(client, "datarobot_upload_dataset", {"file": str(CSV)})
    # The clock is frozen: the dataset is still being ingested.
    early = await client.call_tool("datarobot_create_custom_model_test", {**DEMO, "datasetId": started["catalogId"]})
    await waited(client, sandbox, started["job"]["id"], 6)
    await ok(client, "datarobot_delete_dataset", {"datasetId": started["catalogId"]})
    deleted = await client.call_tool("datarobot_create_custom_model_test", {**DEMO, "datasetId": started["catalogId"]})
    gone = await client.call_tool("datarobot_get_dataset", {"datasetId": started["catalogId"]})
    assert (error_of(missing)["kind"], error_of(missing)["status"]) == ("not_found", 404)
    assert "datasets/fromFile" in error_of(missing)["message"]
    assert (error_of(early)["kind"], error_of(early)["status"]) == ("validation", 422)
    assert "not snapshotted" in error_of(early)["message"]
    assert error_of(deleted)["kind"] == "not_found"
    assert error_of(gone)["kind"] == "not_found"


async def test_a_file_without_rows_ends_its_upload_job_failed(
    served: tuple[RunningSandbox, Client], uploads: Path
) -> None:
    sandbox, client = served
    header_only = uploads / "empty.csv"
    header_only.write_text("text,label\n", encoding="utf-8")
    _, job = await upload(client, sandbox, header_only)
    assert job["status"] == "failed"
    assert job["message"] == NO_ROWS


async def test_a_python_model_on_the_r_environment_fails_its_test(served: tuple[RunningSandbox, Client]) -> None:
    sandbox, client = served
    copy = await ok(client, "datarobot_copy_custom_model", {"customModelId": DEMO_MODEL_ID})
    on_r = await ok(
        client,
        "datarobot_create_custom_model_version_from_latest",
        {"customModelId": copy["id"], "isMajorUpdate": "false", "baseEnvironmentId": R_ENV_ID},
    )
    assert on_r["baseEnvironmentId"] == R_ENV_ID
    # The seeded dataset, not one another test of the shared sandbox uploaded (or left without rows).
    listed = await ok(client, "datarobot_list_datasets", {})
    assert DEMO_DATASET_ID in [d["datasetId"] for d in listed["data"]]
    ids = {"customModelId": copy["id"], "customModelVersionId": on_r["id"]}
    started = await ok(client, "datarobot_create_custom_model_test", {**ids, "datasetId": DEMO_DATASET_ID})
    job = await waited(client, sandbox, started["job"]["id"], 36)
    assert job["status"] == "failed"
    assert job["result"]["overallStatus"] == "failed"
    assert "longRunningService failed: The model is written in python" in job["message"]
    assert "'R 4.3 Drop-In' runs r" in job["message"]
