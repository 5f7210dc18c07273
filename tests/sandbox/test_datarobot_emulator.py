"""The DataRobot emulator over real loopback HTTP: auth, routing, pagination, custom models and versions.

Jobs (tests, feature impact, environments) are in test_datarobot_emulator_jobs.py; the check of every
operation's answer against datarobot.json is in test_datarobot_emulator_schemas.py. Helpers here are shared.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from modelops_mcp.sandbox import Sandbox, serve_sandbox
from modelops_mcp.sandbox.datarobot_data import MAX_UPLOAD_BYTES, OWNER_USERNAME
from modelops_mcp.sandbox.datarobot_state import (
    DEMO_MODEL_ID,
    DEMO_VERSION_ID,
    PYTHON_ENV_ID,
    PYTHON_ENV_VERSION_ID,
    R_ENV_ID,
    DataRobotState,
)

pytestmark = pytest.mark.anyio

DR = "/datarobot/api/v2"
TOKEN = "sandbox-key"
JSON = "application/json"
CUSTOM_PY = b"def score(data, model, **kwargs):\n    return data\n"


@pytest.fixture
async def dr(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client at the emulated API root (``.../datarobot/api/v2``), authenticating like the official client."""
    async with httpx.AsyncClient(base_url=base_url + DR, headers={"Authorization": f"Token {TOKEN}"}) as client:
        yield client


def dr_state(sandbox: Sandbox) -> DataRobotState:
    state = sandbox.state("datarobot")
    assert isinstance(state, DataRobotState)
    return state


async def new_model(dr: httpx.AsyncClient, name: str = "model", **fields: Any) -> dict[str, Any]:
    body = {"name": name, "customModelType": "inference", "targetType": "Regression", **fields}
    response = await dr.post("/customModels/", json=body)
    assert response.status_code == 201, response.text
    model: dict[str, Any] = response.json()
    return model


def multipart(files: dict[str, bytes]) -> tuple[list[tuple[str, tuple[str, bytes]]], list[str]]:
    """(file parts, filePath values) for ``files`` keyed by filePath, in the same order."""
    parts = [("file", (path.rsplit("/", 1)[-1], data)) for path, data in files.items()]
    return parts, list(files)


async def upload(
    dr: httpx.AsyncClient,
    model_id: str,
    files: dict[str, bytes],
    *,
    major: str = "true",
    method: str = "POST",
    **fields: str | list[str],
) -> httpx.Response:
    parts, paths = multipart(files)
    data: dict[str, Any] = {"isMajorUpdate": major, **fields}
    if paths:
        data["filePath"] = paths
    if method == "POST" and "baseEnvironmentVersionId" not in fields:
        data.setdefault("baseEnvironmentId", PYTHON_ENV_ID)
    return await dr.request(method, f"/customModels/{model_id}/versions/", files=parts or None, data=data)


async def new_version(dr: httpx.AsyncClient, model_id: str, files: dict[str, bytes] | None = None) -> dict[str, Any]:
    response = await upload(dr, model_id, files if files is not None else {"custom.py": CUSTOM_PY})
    assert response.status_code == 201, response.text
    version: dict[str, Any] = response.json()
    return version


def zip_names(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# --- auth and routing ----------------------------------------------------------------------------------


async def test_bearer_and_token_schemes_are_both_accepted(sandbox: Sandbox, base_url: str) -> None:
    for scheme in ("Bearer", "Token"):
        async with httpx.AsyncClient() as client:
            response = await client.get(base_url + DR + "/version/", headers={"Authorization": f"{scheme} {TOKEN}"})
        assert response.status_code == 200
        assert response.json() == {"major": 2, "minor": 36, "versionString": "2.36.0"}
    assert dr_state(sandbox).auth_schemes_seen == {"Bearer", "Token"}


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwdw==", "Bearer", TOKEN, "Bearer wrong-key", "Token wrong-key"])
async def test_requests_without_valid_credentials_get_401_json(header: str | None) -> None:
    sandbox = Sandbox(speed=0, api_keys={"datarobot": TOKEN})
    async with serve_sandbox(sandbox) as url, httpx.AsyncClient() as client:
        headers = {"Authorization": header} if header is not None else {}
        for path in ("/version/", "/customModels/", "/no/such/route/"):
            response = await client.get(url + DR + path, headers=headers)
            assert response.status_code == 401
            assert response.headers["content-type"] == JSON
            assert response.json() == {"message": "Invalid credentials"}
    assert dr_state(sandbox).auth_schemes_seen == set()


async def test_a_path_without_its_trailing_slash_is_404_not_a_redirect(dr: httpx.AsyncClient) -> None:
    for path in ("/customModels", "/version", f"/customModels/{DEMO_MODEL_ID}"):
        response = await dr.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == JSON
        assert response.json() == {"message": "Not found"}
    assert (await dr.get("/customModels/")).status_code == 200


async def test_unknown_ids_and_methods_answer_json_errors(dr: httpx.AsyncClient) -> None:
    missing = "0" * 24
    response = await dr.get(f"/customModels/{missing}/")
    assert (response.status_code, response.json()) == (404, {"message": f"Custom model {missing} not found"})
    response = await dr.get(f"/customModels/{DEMO_MODEL_ID}/versions/{missing}/")
    assert response.json() == {"message": f"Custom model version {missing} not found"}
    assert (await dr.get(f"/executionEnvironments/{missing}/")).status_code == 404
    response = await dr.put("/customModels/")
    assert response.status_code == 405
    assert response.headers["content-type"] == JSON
    assert "PUT" in response.json()["message"]


# --- pagination ----------------------------------------------------------------------------------------


async def test_lists_page_with_absolute_next_and_previous(dr: httpx.AsyncClient, base_url: str) -> None:
    for n in range(5):
        await new_model(dr, f"model {n}")
    first = (await dr.get("/customModels/", params={"limit": 2})).json()
    assert (first["count"], first["totalCount"], first["previous"]) == (2, 6, None)
    # Newest first by default (the seed's order), the seeded demo model last.
    assert [m["name"] for m in first["data"]] == ["model 4", "model 3"]
    assert first["next"].startswith(base_url + DR + "/customModels/?")
    names = [m["name"] for m in first["data"]]
    page = first
    while page["next"] is not None:
        page = (await dr.get(page["next"])).json()  # absolute: usable as it is
        names += [m["name"] for m in page["data"]]
        assert page["previous"].startswith(base_url + DR)
    assert names == ["model 4", "model 3", "model 2", "model 1", "model 0", "Churn classifier (demo)"]
    second = (await dr.get(first["next"])).json()
    back = (await dr.get(second["previous"])).json()
    assert back["data"] == first["data"]
    oldest = (await dr.get("/customModels/", params={"orderBy": "created", "limit": 1})).json()
    assert oldest["data"][0]["id"] == DEMO_MODEL_ID


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"offset": -1}, "offset"),
        ({"orderBy": "name"}, "orderBy"),
    ],
)
async def test_bad_paging_parameters_are_422(dr: httpx.AsyncClient, params: dict[str, Any], field: str) -> None:
    response = await dr.get("/customModels/", params=params)
    assert response.status_code == 422
    assert field in response.json()["errors"]


async def test_list_filters(dr: httpx.AsyncClient) -> None:
    await new_model(dr, "Fraud scorer", description="scores payments", targetType="Binary")
    found = (await dr.get("/customModels/", params={"searchFor": "PAYMENTS"})).json()
    assert [m["name"] for m in found["data"]] == ["Fraud scorer"]
    binary = (await dr.get("/customModels/", params={"targetType": "Binary"})).json()
    assert {m["name"] for m in binary["data"]} == {"Fraud scorer", "Churn classifier (demo)"}
    assert (await dr.get("/customModels/", params={"isDeployed": "true"})).json()["data"] == []


# --- custom models -------------------------------------------------------------------------------------


async def test_a_new_model_has_string_description_and_language_and_its_type(dr: httpx.AsyncClient) -> None:
    model = await new_model(dr, "bare")
    assert (model["description"], model["language"], model["customModelType"]) == ("", "", "inference")
    assert model["createdBy"] == OWNER_USERNAME
    # No version yet: null, as the service sends it (the official client declares latestVersion nullable), and
    # trainingDataAssignmentInProgress present although no training data was ever assigned (the client requires it).
    assert model["latestVersion"] is None
    assert model["trainingDataAssignmentInProgress"] is False
    fetched = (await dr.get(f"/customModels/{model['id']}/")).json()
    assert fetched == model


async def test_an_environment_without_versions_has_null_latest_versions(dr: httpx.AsyncClient) -> None:
    # Not a stand-in with a blank id: the official client refuses one and takes null as "none".
    created = (await dr.post("/executionEnvironments/", json={"name": "bare env"})).json()
    env = (await dr.get(f"/executionEnvironments/{created['id']}/")).json()
    assert (env["latestVersion"], env["latestSuccessfulVersion"]) == (None, None)


async def test_create_model_validates_the_body(dr: httpx.AsyncClient) -> None:
    response = await dr.post("/customModels/", json={"customModelType": "inference"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"name": "This field is required."}
    response = await dr.post("/customModels/", json={"name": "x", "customModelType": "batch"})
    assert "customModelType" in response.json()["errors"]
    response = await dr.post("/customModels/", content=b"{not json", headers={"content-type": JSON})
    assert response.status_code == 422


async def test_update_then_delete_a_model(dr: httpx.AsyncClient) -> None:
    model = await new_model(dr, "before", positiveClassLabel="yes")
    response = await dr.patch(f"/customModels/{model['id']}/", json={"name": "after", "language": "python"})
    assert response.status_code == 201  # what the seed documents for this PATCH
    assert (response.json()["name"], response.json()["language"]) == ("after", "python")
    assert response.json()["positiveClassLabel"] == "yes"
    response = await dr.patch(f"/customModels/{model['id']}/", json={"positiveClassLabel": None})
    assert "positiveClassLabel" not in response.json()
    assert (await dr.delete(f"/customModels/{model['id']}/")).status_code == 204
    assert (await dr.get(f"/customModels/{model['id']}/")).status_code == 404


# --- versions ------------------------------------------------------------------------------------------


async def test_multipart_version_pairs_every_file_with_its_path(sandbox: Sandbox, dr: httpx.AsyncClient) -> None:
    model = await new_model(dr)
    files = {"custom.py": CUSTOM_PY, "src/helpers.py": b"X = 1\n", "requirements.txt": b"# deps\nnumpy>=1.26,<2\n"}
    version = await new_version(dr, model["id"], files)
    assert [(i["fileName"], i["filePath"], i["fileSource"]) for i in version["items"]] == [
        ("custom.py", "custom.py", "local"),
        ("helpers.py", "src/helpers.py", "local"),
        ("requirements.txt", "requirements.txt", "local"),
    ]
    assert (version["label"], version["versionMajor"], version["versionMinor"]) == ("v1.0", 1, 0)
    assert (version["baseEnvironmentId"], version["baseEnvironmentVersionId"]) == (PYTHON_ENV_ID, PYTHON_ENV_VERSION_ID)
    assert (version["isFrozen"], version["customModelId"]) == (False, model["id"])
    assert version["dependencies"] == [
        {
            "packageName": "numpy",
            "line": "numpy>=1.26,<2",
            "lineNumber": 2,
            "constraints": [{"constraintType": ">=", "version": "1.26"}, {"constraintType": "<", "version": "2"}],
        }
    ]
    state = dr_state(sandbox)
    assert state.uploads[-3:] == [
        ("custom.py", "custom.py", len(CUSTOM_PY)),
        ("helpers.py", "src/helpers.py", 6),
        ("requirements.txt", "requirements.txt", 22),
    ]
    assert state.versions[version["id"]].items[1].data == b"X = 1\n"
    minor = (await upload(dr, model["id"], {"custom.py": CUSTOM_PY}, major="False")).json()
    assert minor["label"] == "v1.1"
    assert (await upload(dr, model["id"], {}, major="True")).json()["label"] == "v2.0"
    latest = (await dr.get(f"/customModels/{model['id']}/")).json()["latestVersion"]
    assert (latest["label"], latest["items"]) == ("v2.0", [])
    listed = (await dr.get(f"/customModels/{model['id']}/versions/")).json()
    assert [v["label"] for v in listed["data"]] == ["v1.0", "v1.1", "v2.0"]


async def test_file_parts_and_file_paths_must_pair_up(dr: httpx.AsyncClient) -> None:
    model = await new_model(dr)
    parts, _ = multipart({"a.py": b"a", "b.py": b"b"})
    data = {"isMajorUpdate": "true", "baseEnvironmentId": PYTHON_ENV_ID, "filePath": ["a.py"]}
    response = await dr.post(f"/customModels/{model['id']}/versions/", files=parts, data=data)
    assert response.status_code == 422
    assert "filePath" in response.json()["errors"]
    response = await upload(dr, model["id"], {"../escape.py": b"x"})
    assert response.status_code == 422


async def test_an_upload_over_10_mib_is_413(sandbox: Sandbox, dr: httpx.AsyncClient) -> None:
    model = await new_model(dr)
    half = b"x" * (MAX_UPLOAD_BYTES // 2)
    response = await upload(dr, model["id"], {"a.bin": half, "b.bin": half + b"!"})
    assert response.status_code == 413
    assert response.headers["content-type"] == JSON
    assert "message" in response.json()
    assert (await upload(dr, model["id"], {"a.bin": half, "b.bin": half})).status_code == 201


async def test_version_fields_are_validated(dr: httpx.AsyncClient) -> None:
    model = await new_model(dr)
    url = f"/customModels/{model['id']}/versions/"
    response = await dr.post(url, data={"baseEnvironmentId": PYTHON_ENV_ID})
    assert response.json()["errors"] == {"isMajorUpdate": "This field is required."}
    response = await dr.post(url, data={"isMajorUpdate": "yes", "baseEnvironmentId": PYTHON_ENV_ID})
    assert "isMajorUpdate" in response.json()["errors"]
    response = await dr.post(url, data={"isMajorUpdate": "true"})  # a first version needs an environment
    assert (response.status_code, list(response.json()["errors"])) == (422, ["baseEnvironmentId"])
    response = await dr.post(url, data={"isMajorUpdate": "true", "baseEnvironmentId": "0" * 24})
    assert response.status_code == 422
    bad = {"isMajorUpdate": "true", "baseEnvironmentId": R_ENV_ID, "baseEnvironmentVersionId": PYTHON_ENV_VERSION_ID}
    assert "baseEnvironmentVersionId" in (await dr.post(url, data=bad)).json()["errors"]
    response = await upload(dr, model["id"], {}, replicas="9")
    assert "replicas" in response.json()["errors"]
    response = await upload(
        dr,
        model["id"],
        {},
        replicas="2",
        networkEgressPolicy="NONE",
        maximumMemory="268435456",
        trainingData='{"datasetId": "d1"}',
    )
    version = response.json()
    assert (version["replicas"], version["networkEgressPolicy"], version["maximumMemory"]) == (2, "NONE", 268435456)
    assert version["trainingData"] == {"datasetId": "d1", "assignmentInProgress": True}


async def test_patch_makes_a_version_from_the_latest(dr: httpx.AsyncClient) -> None:
    model = await new_model(dr)
    first = await new_version(dr, model["id"], {"custom.py": b"old", "requirements.txt": b"numpy\n", "a.py": b"a"})
    ids = {i["filePath"]: i["id"] for i in first["items"]}
    response = await upload(
        dr,
        model["id"],
        {"custom.py": b"new", "b.py": b"b"},
        major="false",
        method="PATCH",
        filesToDelete=[ids["requirements.txt"]],
    )
    assert response.status_code == 201, response.text
    second = response.json()
    assert second["label"] == "v1.1"
    assert [i["filePath"] for i in second["items"]] == ["a.py", "custom.py", "b.py"]
    assert second["items"][0]["id"] == ids["a.py"]  # carried over unchanged
    assert second["baseEnvironmentId"] == PYTHON_ENV_ID  # inherited
    assert second["dependencies"] == []
    archive = zip_names((await dr.get(f"/customModels/{model['id']}/versions/{second['id']}/download/")).content)
    assert archive == {"a.py": b"a", "custom.py": b"new", "b.py": b"b"}
    response = await upload(dr, model["id"], {}, method="PATCH", filesToDelete=["0" * 24])
    assert "filesToDelete" in response.json()["errors"]


async def test_downloads_are_real_zip_archives(dr: httpx.AsyncClient) -> None:
    response = await dr.get(f"/customModels/{DEMO_MODEL_ID}/download/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == f"attachment; filename=model-{DEMO_VERSION_ID}.zip"
    assert set(zip_names(response.content)) == {"custom.py", "requirements.txt"}
    response = await dr.get(
        f"/customModels/{DEMO_MODEL_ID}/versions/{DEMO_VERSION_ID}/download/", params={"pps": "true"}
    )
    assert zip_names(response.content)["custom.py"].startswith(b'"""Churn classifier')
    model = await new_model(dr)
    assert (await dr.get(f"/customModels/{model['id']}/download/")).status_code == 404


async def test_version_metadata_edit(dr: httpx.AsyncClient) -> None:
    url = f"/customModels/{DEMO_MODEL_ID}/versions/{DEMO_VERSION_ID}/"
    response = await dr.patch(url, json={"description": "tuned"})
    assert (response.status_code, response.json()["description"]) == (200, "tuned")
    assert (await dr.patch(url, json={"description": 3})).status_code == 422


async def test_copy_and_template_models(dr: httpx.AsyncClient) -> None:
    response = await dr.post("/customModels/fromCustomModel/", json={"customModelId": DEMO_MODEL_ID})
    assert response.status_code == 201
    copy = response.json()
    assert copy["id"] != DEMO_MODEL_ID
    assert [i["fileName"] for i in copy["latestVersion"]["items"]] == ["custom.py", "requirements.txt"]
    body = {"templateId": "nim-llama", "resourceBundleId": "cpu.small", "secretConfigId": "s1"}
    response = await dr.post("/customModels/fromModelTemplate/", json=body)
    assert response.status_code == 201
    made = response.json()
    model = (await dr.get(f"/customModels/{made['customModelId']}/")).json()
    assert model["template"] == {"modelType": "nimModel", "templateId": "nim-llama"}
    assert model["latestVersion"]["id"] == made["customModelVersionId"]
    assert (await dr.post("/customModels/fromModelTemplate/", json={"templateId": "t"})).status_code == 422
