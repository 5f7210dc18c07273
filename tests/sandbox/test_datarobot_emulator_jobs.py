"""The DataRobot emulator's jobs over loopback HTTP on a frozen clock: tests (202 → status → 303), dependency
builds, feature impact, conversions, repository versions, execution environment builds and sharing."""

from __future__ import annotations

import httpx
import pytest

from modelops_mcp.sandbox import Sandbox
from modelops_mcp.sandbox.datarobot_data import CUSTOM_PY_MISSING, OWNER_USERNAME
from modelops_mcp.sandbox.datarobot_state import (
    DEMO_DATASET_ID,
    DEMO_IMAGE_ID,
    DEMO_ITEM_ID,
    DEMO_MODEL_ID,
    DEMO_VERSION_ID,
    PYTHON_ENV_ID,
)

from .test_datarobot_emulator import CUSTOM_PY, DR, JSON, dr, dr_state, new_model, new_version

pytestmark = pytest.mark.anyio
__all__ = ["dr"]  # the fixture, imported for this module's tests

CHECKS = {"errorCheck", "nullValueImputation", "longRunningService", "sideEffects"}
DEMO_VERSION = f"/customModels/{DEMO_MODEL_ID}/versions/{DEMO_VERSION_ID}/"


async def start_test(dr: httpx.AsyncClient, model_id: str, version_id: str) -> str:
    """Submits a test; returns the absolute status URL from ``Location``."""
    body = {"customModelId": model_id, "customModelVersionId": version_id, "datasetId": DEMO_DATASET_ID}
    response = await dr.post("/customModelTests/", json=body)
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    assert location.endswith(f"/status/{response.json()['statusId']}/")
    return location


# --- custom model tests --------------------------------------------------------------------------------


async def test_a_test_runs_202_then_status_then_303_and_passes(
    sandbox: Sandbox, dr: httpx.AsyncClient, base_url: str
) -> None:
    model = await new_model(dr)
    version = await new_version(dr, model["id"], {"src/custom.py": CUSTOM_PY})
    location = await start_test(dr, model["id"], version["id"])
    assert location.startswith(base_url + DR + "/status/")
    # Listed at once, newest first, with all four checks: what the official client reads right after the 202.
    listed = (await dr.get("/customModelTests/", params={"customModelId": model["id"]})).json()
    test = listed["data"][0]
    assert (listed["totalCount"], test["overallStatus"], test["completedAt"]) == (1, "in_progress", "")
    assert set(test["testingStatus"]) == CHECKS
    assert {c["status"] for c in test["testingStatus"].values()} == {"in_progress"}
    status = await dr.get(location)
    assert (status.status_code, status.json()["status"]) == (200, "INITIALIZED")
    sandbox.clock.advance(2)
    assert (await dr.get(location)).json()["status"] == "RUNNING"
    sandbox.clock.advance(27.9)
    assert (await dr.get(location)).status_code == 200
    sandbox.clock.advance(0.1)
    done = await dr.get(location)
    assert (done.status_code, done.json()["status"]) == (303, "COMPLETED")
    assert done.headers["location"] == base_url + DR + f"/customModelTests/{test['id']}/"
    finished = (await dr.get(done.headers["location"])).json()
    assert finished["overallStatus"] == "succeeded"
    assert {c["status"] for c in finished["testingStatus"].values()} == {"succeeded"}
    assert finished["completedAt"].endswith("Z")
    assert (finished["customModelVersion"], finished["datasetId"]) == (
        {"id": version["id"], "label": "v1.0"},
        DEMO_DATASET_ID,
    )
    assert dr_state(sandbox).status_polls == 4


async def test_a_version_without_custom_py_fails_the_error_check(sandbox: Sandbox, dr: httpx.AsyncClient) -> None:
    model = await new_model(dr)
    version = await new_version(dr, model["id"], {"main.py": b"print('hi')\n"})
    location = await start_test(dr, model["id"], version["id"])
    sandbox.clock.advance(30)
    done = await dr.get(location)
    assert (done.status_code, done.json()["status"]) == (303, "COMPLETED")  # the job ran; the test failed
    test = (await dr.get(done.headers["location"])).json()
    assert test["overallStatus"] == "failed"
    assert test["testingStatus"]["errorCheck"] == {"status": "failed", "message": CUSTOM_PY_MISSING}
    assert {test["testingStatus"][c]["status"] for c in CHECKS - {"errorCheck"}} == {"skipped"}
    tail = (await dr.get(f"/customModelTests/{test['id']}/tail/", params={"lines": 2})).json()["log"]
    assert tail.endswith("Testing failed.")
    assert CUSTOM_PY_MISSING in tail


async def test_cancelling_a_running_test_then_a_finished_one(sandbox: Sandbox, dr: httpx.AsyncClient) -> None:
    location = await start_test(dr, DEMO_MODEL_ID, DEMO_VERSION_ID)
    test_id = (await dr.get("/customModelTests/", params={"customModelId": DEMO_MODEL_ID})).json()["data"][0]["id"]
    # One test per model at a time, and a model under test cannot be deleted.
    again = await dr.post(
        "/customModelTests/",
        json={"customModelId": DEMO_MODEL_ID, "customModelVersionId": DEMO_VERSION_ID, "datasetId": "d"},
    )
    assert again.status_code == 422
    assert (await dr.delete(f"/customModels/{DEMO_MODEL_ID}/")).status_code == 409
    sandbox.clock.advance(5)
    assert (await dr.delete(f"/customModelTests/{test_id}/")).status_code == 204
    test = (await dr.get(f"/customModelTests/{test_id}/")).json()
    assert test["overallStatus"] == "canceled"
    status = await dr.get(location)
    assert (status.status_code, status.json()["status"]) == (200, "ABORTED")
    response = await dr.delete(f"/customModelTests/{test_id}/")
    assert response.status_code == 409
    assert response.json() == {"message": "Testing attempt has already reached a terminal state"}


async def test_test_log_download_and_tail(dr: httpx.AsyncClient) -> None:
    tests = (await dr.get("/customModelTests/", params={"customModelId": DEMO_MODEL_ID})).json()["data"]
    test_id = tests[0]["id"]
    response = await dr.get(f"/customModelTests/{test_id}/log/")
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-disposition"] == f"attachment; filename=testing-{test_id}.log"
    assert response.text.rstrip().endswith("All checks passed.")
    tail = await dr.get(f"/customModelTests/{test_id}/tail/", params={"lines": 1})
    assert tail.json()["log"] == response.text.rstrip().splitlines()[-1]
    for bad in ("0", "1001", "x"):
        assert (await dr.get(f"/customModelTests/{test_id}/tail/", params={"lines": bad})).status_code == 400
    assert (await dr.get("/customModelTests/")).status_code == 422  # customModelId is required


# --- dependency builds ---------------------------------------------------------------------------------


async def test_dependency_build_states_and_log(sandbox: Sandbox, dr: httpx.AsyncClient, base_url: str) -> None:
    model = await new_model(dr)
    version = await new_version(dr, model["id"], {"custom.py": CUSTOM_PY, "requirements.txt": b"pandas==2.2.2\n"})
    url = f"/customModels/{model['id']}/versions/{version['id']}/dependencyBuild/"
    assert (await dr.get(url)).status_code == 422  # not started
    started = await dr.post(url)
    assert started.status_code == 202
    assert (started.json()["buildStatus"], started.json()["buildEnd"]) == ("submitted", None)
    assert (await dr.post(url)).status_code == 422  # one at a time
    assert (await dr.get(url.replace("dependencyBuild/", "dependencyBuildLog/"))).status_code == 404
    sandbox.clock.advance(2)
    assert (await dr.get(url)).json()["buildStatus"] == "processing"
    sandbox.clock.advance(18)
    done = (await dr.get(url)).json()
    assert (done["buildStatus"], done["buildLogLocation"]) == ("success", base_url + DR + url[:-1] + "Log/")
    log = (await dr.get(done["buildLogLocation"])).json()["data"]
    assert "Collecting pandas==2.2.2" in log
    assert (await dr.delete(url)).status_code == 409


async def test_a_nonexistent_requirement_fails_the_build_and_a_cancel_reads_failed(
    sandbox: Sandbox, dr: httpx.AsyncClient
) -> None:
    model = await new_model(dr)
    files = {"custom.py": CUSTOM_PY, "requirements.txt": b"numpy\nnonexistent-package==1.0\n"}
    version = await new_version(dr, model["id"], files)
    url = f"/customModels/{model['id']}/versions/{version['id']}/dependencyBuild/"
    await dr.post(url)
    sandbox.clock.advance(20)
    assert (await dr.get(url)).json()["buildStatus"] == "failed"
    log = (await dr.get(url.replace("dependencyBuild/", "dependencyBuildLog/"))).json()["data"]
    assert "nonexistent-package==1.0" in log
    assert (await dr.post(url)).status_code == 202  # a finished build can be started again
    assert (await dr.delete(url)).status_code == 204
    assert (await dr.get(url)).json()["buildStatus"] == "failed"
    log = (await dr.get(url.replace("dependencyBuild/", "dependencyBuildLog/"))).json()["data"]
    assert "cancelled" in log


# --- feature impact, conversions, asynchronous versions --------------------------------------------------


async def test_feature_impact_needs_a_passed_test_then_202_and_303(sandbox: Sandbox, dr: httpx.AsyncClient) -> None:
    model = await new_model(dr)
    version = await new_version(dr, model["id"])
    url = f"/customModels/{model['id']}/versions/{version['id']}/featureImpact/"
    assert (await dr.post(url, json={})).status_code == 422  # not tested yet
    await start_test(dr, model["id"], version["id"])
    sandbox.clock.advance(30)
    assert (await dr.get(url)).json() == {"message": "Feature impact not computed"}
    response = await dr.post(url, json={"rowCount": 500})
    assert response.status_code == 202
    assert (await dr.post(url, json={})).json()["jobId"] == response.json()["statusId"]  # already submitted
    assert (await dr.get(url)).status_code == 404
    sandbox.clock.advance(10)
    done = await dr.get(response.headers["location"])
    assert done.status_code == 303
    impact = (await dr.get(done.headers["location"])).json()
    assert (impact["rowCount"], impact["featureImpacts"][0]["impactNormalized"]) == (500, 1.0)
    assert (await dr.post(url, json={"rowCount": 5})).status_code == 422


async def test_feature_impact_by_image(dr: httpx.AsyncClient) -> None:
    url = f"/customInferenceImages/{DEMO_IMAGE_ID}/featureImpact/"
    seeded = (await dr.get(url)).json()
    assert seeded["count"] == len(seeded["featureImpacts"]) > 0
    assert (await dr.post(url, json={})).status_code == 202
    assert (await dr.get(f"/customInferenceImages/{'0' * 24}/featureImpact/")).status_code == 404


async def test_conversions_run_and_stop(sandbox: Sandbox, dr: httpx.AsyncClient) -> None:
    url = DEMO_VERSION + "conversions/"
    assert (await dr.post(url, json={"mainProgramItemId": "0" * 24})).status_code == 422
    first = await dr.post(url, json={"mainProgramItemId": DEMO_ITEM_ID})
    assert first.status_code == 202
    conversion_id = first.json()["conversionId"]
    assert (await dr.get(url + f"{conversion_id}/")).json()["conversionInProgress"] is True
    assert (await dr.delete(url + f"{conversion_id}/")).status_code == 204
    assert (await dr.delete(url + f"{conversion_id}/")).status_code == 422
    second = (await dr.post(url, json={"mainProgramItemId": DEMO_ITEM_ID})).json()
    sandbox.clock.advance(10)
    done = await dr.get(f"/status/{second['statusId']}/")
    assert done.headers["location"].endswith(f"/conversions/{second['conversionId']}/")
    latest = (await dr.get(url, params={"isLatest": "true"})).json()
    assert [(c["id"], c["conversionSucceeded"]) for c in latest["data"]] == [(second["conversionId"], True)]


async def test_repository_version_appears_when_its_job_ends(sandbox: Sandbox, dr: httpx.AsyncClient) -> None:
    model = await new_model(dr)
    url = f"/customModels/{model['id']}/versions/fromRepository/"
    response = await dr.post(url, json={"repositoryId": "repo1", "ref": "main", "baseEnvironmentId": PYTHON_ENV_ID})
    assert response.status_code == 202
    assert (await dr.get(f"/customModels/{model['id']}/versions/")).json()["data"] == []
    sandbox.clock.advance(5)
    done = await dr.get(response.headers["location"])
    assert done.status_code == 303
    version = (await dr.get(done.headers["location"])).json()
    assert [(i["fileName"], i["fileSource"], i["ref"]) for i in version["items"]] == [("README.md", "github", "main")]
    response = await dr.patch(url, json={"repositoryId": "repo2"})
    assert response.status_code == 202
    sandbox.clock.advance(5)
    assert (await dr.get(f"/customModels/{model['id']}/versions/")).json()["totalCount"] == 2


async def test_an_unreadable_repository_ends_its_job_in_error(sandbox: Sandbox, dr: httpx.AsyncClient) -> None:
    model = await new_model(dr)
    url = f"/customModels/{model['id']}/versions/fromRepository/"
    response = await dr.post(url, json={"repositoryId": "nonexistent-repo", "baseEnvironmentId": PYTHON_ENV_ID})
    assert response.status_code == 202
    sandbox.clock.advance(5)
    status = await dr.get(response.headers["location"])
    assert (status.status_code, status.json()["status"]) == (200, "ERROR")
    assert "nonexistent-repo" in status.json()["message"]
    assert (await dr.get(f"/customModels/{model['id']}/versions/")).json()["data"] == []


async def test_training_data_and_prediction_explanations_jobs(sandbox: Sandbox, dr: httpx.AsyncClient) -> None:
    response = await dr.patch(f"/customModels/{DEMO_MODEL_ID}/trainingData/", json={"datasetId": "d1"})
    assert response.status_code == 202
    assert (await dr.get(f"/customModels/{DEMO_MODEL_ID}/")).json()["trainingDataAssignmentInProgress"] is True
    body = {"trainingData": {"datasetId": "d2"}}
    response = await dr.patch(f"/customModels/{DEMO_MODEL_ID}/versions/withTrainingData/", json=body)
    assert response.status_code == 202
    assert response.json()["trainingData"] == {"datasetId": "d2", "assignmentInProgress": True}
    version_location = response.headers["location"]
    explain_body = {"customModelId": DEMO_MODEL_ID, "customModelVersionId": DEMO_VERSION_ID}
    explain = await dr.post("/customModels/predictionExplanationsInitialization/", json=explain_body)
    explain_version = await dr.post(DEMO_VERSION + "predictionExplanationsInitialization/")
    assert (explain.status_code, explain_version.status_code) == (202, 202)
    sandbox.clock.advance(5)
    assert (await dr.get(f"/customModels/{DEMO_MODEL_ID}/")).json()["trainingDataAssignmentInProgress"] is False
    targets = [(await dr.get(r)).headers["location"] for r in (version_location, explain.headers["location"])]
    assert targets[1].endswith(f"/customModels/{DEMO_MODEL_ID}/")
    assert (await dr.get(targets[0])).json()["trainingData"]["assignmentInProgress"] is False


# --- execution environments, sharing, limits -------------------------------------------------------------


async def test_environment_version_builds_on_the_clock(sandbox: Sandbox, dr: httpx.AsyncClient) -> None:
    created = await dr.post("/executionEnvironments/", json={"name": "Custom env", "programmingLanguage": "python"})
    assert created.status_code == 201
    env_id = created.json()["id"]
    assert created.headers["location"].endswith(f"{DR}/executionEnvironments/{env_id}/")
    url = f"/executionEnvironments/{env_id}/versions/"
    files = {"dockerContext": ("context.tar.gz", b"FROM python:3.12\n")}
    response = await dr.post(url, files=files, data={"label": "v1", "description": "first"})
    assert response.status_code == 202
    version_url = response.headers["location"]
    assert (await dr.get(version_url)).json()["buildStatus"] == "submitted"
    sandbox.clock.advance(2)
    assert (await dr.get(version_url)).json()["buildStatus"] == "processing"
    sandbox.clock.advance(28)
    version = (await dr.get(version_url)).json()
    assert (version["buildStatus"], version["dockerContextSize"], version["label"]) == ("success", 17, "v1")
    env = (await dr.get(f"/executionEnvironments/{env_id}/")).json()
    assert env["latestSuccessfulVersion"]["id"] == version["id"]
    download = await dr.get(version_url + "download/")
    assert download.content == b"FROM python:3.12\n"
    assert download.headers["content-disposition"] == "attachment; filename=context.tar.gz"
    empty = await dr.post(url, files={"dockerContext": ("empty.tar.gz", b"")})
    sandbox.clock.advance(30)
    failed_url = empty.headers["location"]
    assert (await dr.get(failed_url)).json()["buildStatus"] == "failed"
    log = (await dr.get(failed_url + "buildLog/")).json()
    assert "empty" in log["error"]
    listed = (await dr.get(url, params={"buildStatus": "success"})).json()
    assert [v["id"] for v in listed["data"]] == [version["id"]]
    assert (await dr.post(url, data={"label": "nothing"})).status_code == 422


async def test_environment_crud_delete_and_permadelete(dr: httpx.AsyncClient) -> None:
    env_id = (await dr.post("/executionEnvironments/", json={"name": "Temp"})).json()["id"]
    listed = (await dr.get("/executionEnvironments/")).json()
    assert [e["name"] for e in listed["data"]] == ["Temp", "R 4.3 Drop-In", "Python 3.11 Drop-In"]  # newest first
    response = await dr.patch(f"/executionEnvironments/{env_id}/", json={"description": "scratch"})
    assert (response.status_code, response.json()["description"]) == (200, "scratch")
    body = {"executionEnvironmentIds": [env_id]}
    assert (await dr.post("/executionEnvironmentsPermadelete/", json=body)).status_code == 409  # not deleted yet
    assert (await dr.delete(f"/executionEnvironments/{env_id}/")).status_code == 204
    assert (await dr.get(f"/executionEnvironments/{env_id}/")).status_code == 404
    assert (await dr.post("/executionEnvironmentsPermadelete/", json=body)).status_code == 204
    assert (await dr.post("/executionEnvironmentsPermadelete/", json=body)).status_code == 404
    dup = await dr.post("/executionEnvironments/", json={"name": "Again", "environmentId": PYTHON_ENV_ID})
    assert dup.status_code == 409


@pytest.mark.parametrize("resource", [f"/customModels/{DEMO_MODEL_ID}/", f"/executionEnvironments/{PYTHON_ENV_ID}/"])
async def test_access_control_lists_and_updates(dr: httpx.AsyncClient, resource: str) -> None:
    url = resource + "accessControl/"
    owner = (await dr.get(url)).json()
    assert owner["data"] == [
        {"username": OWNER_USERNAME, "userId": owner["data"][0]["userId"], "role": "OWNER", "canShare": True}
    ]
    share = {"data": [{"username": "ana@example.com", "role": "EDITOR", "canShare": False}]}
    assert (await dr.patch(url, json=share)).status_code == 204
    assert [s["role"] for s in (await dr.get(url)).json()["data"]] == ["OWNER", "EDITOR"]
    removal = {"data": [{"username": OWNER_USERNAME, "role": None}]}
    response = await dr.patch(url, json=removal)
    assert (response.status_code, response.headers["content-type"]) == (409, JSON)
    unshare = {"data": [{"username": "ana@example.com", "role": None}]}
    assert (await dr.patch(url, json=unshare)).status_code == 204
    assert len((await dr.get(url)).json()["data"]) == 1
    assert (await dr.patch(url, json={"data": [{"username": "x", "role": "BOSS"}]})).status_code == 422


async def test_limits_are_fixed(dr: httpx.AsyncClient) -> None:
    limits = (await dr.get("/customModelLimits/")).json()
    assert limits["maxCustomModelTestingParallelUsers"] == 5
