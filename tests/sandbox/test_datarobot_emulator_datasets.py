"""The DataRobot emulator's AI Catalog over loopback HTTP, and what a custom model test demands of its dataset.

Uploads follow the official client's `Dataset.create_from_file` (datarobot 3.20.0, models/dataset.py:297-319):
`POST datasets/fromFile/` with one multipart `file` part, then `Location` → `/status/{id}/` → 303 to the dataset.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from modelops_mcp.sandbox import Sandbox
from modelops_mcp.sandbox.datarobot_catalog import INGEST_S, NO_ROWS
from modelops_mcp.sandbox.datarobot_data import TEST_RUN_S
from modelops_mcp.sandbox.datarobot_state import (
    DEMO_DATASET_ID,
    DEMO_DATASET_VERSION_ID,
    DEMO_MODEL_ID,
    DEMO_VERSION_ID,
    R_ENV_ID,
)

from .test_datarobot_emulator import CUSTOM_PY, DR, dr, new_model, new_version, upload

__all__ = ["dr"]  # the fixture, imported for this module's tests
pytestmark = pytest.mark.anyio

ROWS = b"text,label\nfast and clear,positive\nslow again,negative\nlove it,positive\n"
DEMO = {"customModelId": DEMO_MODEL_ID, "customModelVersionId": DEMO_VERSION_ID}


async def send_file(dr: httpx.AsyncClient, data: bytes = ROWS, name: str = "rows.csv", **fields: Any) -> httpx.Response:
    return await dr.post("/datasets/fromFile/", files={"file": (name, data)}, data=fields or None)


async def test_an_upload_answers_202_and_its_status_redirects_to_the_ingested_dataset(
    sandbox: Sandbox, dr: httpx.AsyncClient, base_url: str
) -> None:
    response = await send_file(dr, categories="TRAINING")
    assert response.status_code == 202
    body = response.json()
    location = response.headers["location"]
    assert location == f"{base_url}{DR}/status/{body['statusId']}/"
    running = await dr.get(location, follow_redirects=False)
    assert (running.status_code, running.json()["status"]) == (200, "INITIALIZED")
    listed = (await dr.get(f"/datasets/{body['catalogId']}/")).json()
    assert listed["processingState"] == "RUNNING"
    assert "rowCount" not in listed
    sandbox.clock.advance(INGEST_S)
    done = await dr.get(location, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"{base_url}{DR}/datasets/{body['catalogId']}/"
    dataset = (await dr.get(done.headers["location"])).json()
    assert dataset["datasetId"] == body["catalogId"]
    assert dataset["versionId"] == body["catalogVersionId"]
    assert (dataset["name"], dataset["categories"], dataset["processingState"]) == (
        "rows.csv",
        ["TRAINING"],
        "COMPLETED",
    )
    assert (dataset["rowCount"], dataset["columnCount"], dataset["datasetSize"]) == (3, 2, len(ROWS))


async def test_a_file_without_data_rows_ends_its_job_in_error(sandbox: Sandbox, dr: httpx.AsyncClient) -> None:
    response = await send_file(dr, b"text,label\n")
    sandbox.clock.advance(INGEST_S)
    status = await dr.get(response.headers["location"], follow_redirects=False)
    assert (status.status_code, status.json()["status"], status.json()["message"]) == (200, "ERROR", NO_ROWS)
    dataset = (await dr.get(f"/datasets/{response.json()['catalogId']}/")).json()
    assert (dataset["processingState"], dataset["error"]) == ("ERROR", NO_ROWS)


@pytest.mark.parametrize(
    ("files", "data", "field"),
    [
        (None, {"categories": "TRAINING"}, "file"),
        ({"file": ("x.csv", ROWS)}, {"categories": "EVERYTHING"}, "categories"),
    ],
)
async def test_an_upload_without_a_file_or_with_an_unknown_category_is_refused(
    dr: httpx.AsyncClient, files: Any, data: dict[str, str], field: str
) -> None:
    response = await dr.post("/datasets/fromFile/", files=files, data=data)
    assert response.status_code == 422
    assert field in response.json()["errors"]


async def test_the_catalog_lists_newest_first_pages_filters_and_forgets_deleted_datasets(
    sandbox: Sandbox, dr: httpx.AsyncClient
) -> None:
    first = (await send_file(dr, name="a.csv", categories="PREDICTION")).json()["catalogId"]
    sandbox.clock.advance(1)
    failed = (await send_file(dr, b"only,a,header\n", name="b.csv")).json()["catalogId"]
    sandbox.clock.advance(INGEST_S)
    page = (await dr.get("/datasets/", params={"limit": 2})).json()
    assert [d["datasetId"] for d in page["data"]] == [failed, first]
    assert page["totalCount"] == 3
    rest = (await dr.get(page["next"])).json()
    assert [d["datasetId"] for d in rest["data"]] == [DEMO_DATASET_ID]
    assert rest["next"] is None
    oldest = (await dr.get("/datasets/", params={"orderBy": "created"})).json()["data"]
    assert [d["datasetId"] for d in oldest] == [DEMO_DATASET_ID, first, failed]
    prediction = (await dr.get("/datasets/", params={"category": "PREDICTION"})).json()["data"]
    assert [d["datasetId"] for d in prediction] == [first]
    healthy = (await dr.get("/datasets/", params={"filterFailed": "true"})).json()["data"]
    assert failed not in [d["datasetId"] for d in healthy]
    assert (await dr.delete(f"/datasets/{first}/")).status_code == 204
    assert (await dr.get(f"/datasets/{first}/")).status_code == 404
    assert (await dr.delete(f"/datasets/{first}/")).status_code == 404
    assert first not in [d["datasetId"] for d in (await dr.get("/datasets/")).json()["data"]]


async def test_a_test_refuses_a_dataset_that_does_not_exist_or_is_not_ingested(
    sandbox: Sandbox, dr: httpx.AsyncClient
) -> None:
    # The seed's answers of POST /customModelTests/: 404 "Custom model or dataset not found", and 422 when the
    # "dataset used for testing is not snapshotted".
    missing = await dr.post("/customModelTests/", json={**DEMO, "datasetId": "0" * 24})
    assert missing.status_code == 404
    assert "0" * 24 in missing.json()["message"]
    fresh = (await send_file(dr)).json()["catalogId"]
    early = await dr.post("/customModelTests/", json={**DEMO, "datasetId": fresh})
    assert early.status_code == 422
    assert "not snapshotted" in early.json()["message"]
    other_version = await dr.post(
        "/customModelTests/", json={**DEMO, "datasetId": DEMO_DATASET_ID, "datasetVersionId": "1" * 24}
    )
    assert other_version.status_code == 404
    sandbox.clock.advance(INGEST_S)
    await dr.delete(f"/datasets/{fresh}/")
    deleted = await dr.post("/customModelTests/", json={**DEMO, "datasetId": fresh})
    assert deleted.status_code == 404
    accepted = await dr.post("/customModelTests/", json={**DEMO, "datasetId": DEMO_DATASET_ID})
    assert accepted.status_code == 202
    test = (await dr.get("/customModelTests/", params={"customModelId": DEMO_MODEL_ID})).json()["data"][0]
    assert test["datasetVersionId"] == DEMO_DATASET_VERSION_ID


async def test_a_python_model_fails_its_test_on_the_r_environment(sandbox: Sandbox, dr: httpx.AsyncClient) -> None:
    model = await new_model(dr, "py-on-r", language="python")
    response = await upload(dr, model["id"], {"custom.py": CUSTOM_PY}, baseEnvironmentId=R_ENV_ID)
    assert response.status_code == 201, response.text
    ids = {"customModelId": model["id"], "customModelVersionId": response.json()["id"]}
    started = await dr.post("/customModelTests/", json={**ids, "datasetId": DEMO_DATASET_ID})
    sandbox.clock.advance(TEST_RUN_S)
    done = await dr.get(started.headers["location"], follow_redirects=False)
    assert done.status_code == 303  # the test ran: it is the test that failed, not the job
    test = (await dr.get(done.headers["location"])).json()
    assert test["overallStatus"] == "failed"
    service = test["testingStatus"]["longRunningService"]
    assert service["status"] == "failed"
    assert "written in python" in service["message"]
    assert "'R 4.3 Drop-In' runs r" in service["message"]
    log = (await dr.get(f"/customModelTests/{test['id']}/log/")).text
    assert "written in python" in log


async def test_a_model_without_a_language_is_judged_by_its_entry_point(sandbox: Sandbox, dr: httpx.AsyncClient) -> None:
    model = await new_model(dr, "no-language")
    assert model["language"] == ""
    python_version = await new_version(dr, model["id"])  # custom.py on the Python environment
    ids = {"customModelId": model["id"], "customModelVersionId": python_version["id"]}
    started = await dr.post("/customModelTests/", json={**ids, "datasetId": DEMO_DATASET_ID})
    sandbox.clock.advance(TEST_RUN_S)
    test = (await dr.get(started.headers["location"], follow_redirects=True)).json()
    assert test["overallStatus"] == "succeeded"
    on_r = await upload(dr, model["id"], {"custom.py": CUSTOM_PY}, baseEnvironmentId=R_ENV_ID)
    started = await dr.post(
        "/customModelTests/", json={**ids, "customModelVersionId": on_r.json()["id"], "datasetId": DEMO_DATASET_ID}
    )
    sandbox.clock.advance(TEST_RUN_S)
    test = (await dr.get(started.headers["location"], follow_redirects=True)).json()
    assert test["overallStatus"] == "failed"
