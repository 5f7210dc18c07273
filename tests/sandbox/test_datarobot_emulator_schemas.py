"""Every DataRobot operation, driven once to a 2xx over loopback HTTP, answers what datarobot.json declares.

The walk below calls each of the document's operations (the seed's 54, four dataset ones, the status route) and records
every answer; each 2xx JSON body is then validated, strictly (no undeclared fields), against the response
schema of the operation its method and path match, and each download against its declared content type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import httpx
import jsonschema
import pytest

from modelops_mcp.sandbox import Sandbox
from modelops_mcp.sandbox.datarobot_state import DEMO_DATASET_ID, DEMO_MODEL_ID, PYTHON_ENV_ID

from .test_datarobot_emulator import CUSTOM_PY, DR, TOKEN, upload

pytestmark = pytest.mark.anyio

_METHODS = ("get", "post", "put", "patch", "delete")


def _load_document() -> dict[str, Any]:
    resource = files("modelops_mcp.schemas") / "datarobot.json"
    if not resource.is_file():
        pytest.fail("src/modelops_mcp/schemas/datarobot.json is missing: the emulator's answers cannot be checked")
    document: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return document


def _strict(schema: Any) -> Any:
    """Forbid fields a schema does not declare, so a misspelt or stray field fails the check."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in out and out.get("type", "object") == "object":
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


_LATEST = ("latestVersion", "latestSuccessfulVersion")


def _service_nulls(schema: Any) -> Any:
    """The seed requires the latest version of a model or an environment as an object where the service sends null
    when there is none: the official client takes null as missing (datarobot 3.20.0, models/custom_model.py:46,
    models/execution_environment.py:107-108) and refuses a stand-in with a blank id. So the emulator sends null,
    and this check admits it."""
    if isinstance(schema, dict):
        out = {k: _service_nulls(v) for k, v in schema.items()}
        properties = out.get("properties")
        if isinstance(properties, dict):
            nullable = {k: {"anyOf": [v, {"type": "null"}]} for k, v in properties.items() if k in _LATEST}
            out["properties"] = {**properties, **nullable}
        return out
    if isinstance(schema, list):
        return [_service_nulls(v) for v in schema]
    return schema


# JSON integers only: a 42.0 where the schema says integer is a bug in the emulator.
_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
)
_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=_TYPES)  # type: ignore[no-untyped-call]


@dataclass
class Operation:
    op_id: str
    method: str
    pattern: re.Pattern[str]
    params: int  # templated segments: a literal path wins over a template when both match
    responses: dict[str, Any]


def _operations(document: dict[str, Any]) -> list[Operation]:
    ops = []
    for path, item in document["paths"].items():
        regex = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")
        for method in _METHODS:
            if method in item:
                op = item[method]
                ops.append(Operation(op["operationId"], method.upper(), regex, path.count("{"), op["responses"]))
    return sorted(ops, key=lambda o: o.params)


@dataclass
class Answer:
    method: str
    path: str
    status: int
    content_type: str
    body: bytes


def _check(op: Operation, answer: Answer) -> None:
    declared = op.responses.get(str(answer.status))
    assert declared is not None, f"{op.op_id} answered {answer.status}, which the document does not declare"
    content: dict[str, Any] = declared.get("content", {})
    if not answer.body:
        assert answer.status in (202, 204, 303) or not content, f"{op.op_id}: empty {answer.status} body"
        return
    media = answer.content_type.split(";")[0]
    if "application/json" in content and media == "application/json":
        schema = _service_nulls(_strict(content["application/json"]["schema"]))
        _Validator(schema).validate(json.loads(answer.body))
    elif content:
        assert media in content, f"{op.op_id}: {media} is not among {sorted(content)}"


async def _walk(sandbox: Sandbox, dr: httpx.AsyncClient) -> None:
    """Calls every operation at least once with valid input, on the frozen clock."""
    advance = sandbox.clock.advance
    await dr.get("/customModelLimits/")
    model = (
        await dr.post(
            "/customModels/",
            json={
                "name": "walk",
                "customModelType": "inference",
                "targetType": "Binary",
                "positiveClassLabel": "y",
                "negativeClassLabel": "n",
                "classLabels": ["y", "n"],
            },
        )
    ).json()
    mid = model["id"]
    await dr.get("/customModels/", params={"limit": 1})
    await dr.get(f"/customModels/{mid}/")
    await dr.patch(f"/customModels/{mid}/", json={"description": "walked", "targetName": "churn"})
    files = {"custom.py": CUSTOM_PY, "requirements.txt": b"numpy>=1.26\nrequests[socks]==2.32.3\n"}
    first = (
        await upload(
            dr,
            mid,
            files,
            trainingData='{"datasetId": "d", "partitionColumn": "p"}',
            holdoutData='{"datasetId": "h", "partitionColumn": "p"}',
            replicas="1",
            requiredMetadataValues='[{"fieldName": "k", "value": "v"}]',
        )
    ).json()
    version = (await upload(dr, mid, {"extra.py": b"x"}, major="false", method="PATCH")).json()
    vid = version["id"]
    one = f"/customModels/{mid}/versions/{vid}/"
    await dr.get(f"/customModels/{mid}/versions/", params={"limit": 1})
    await dr.get(one)
    await dr.patch(one, json={"description": "second"})
    await dr.get(f"/customModels/{mid}/download/")
    await dr.get(one + "download/")
    await dr.post(one + "dependencyBuild/")
    await dr.delete(one + "dependencyBuild/")
    await dr.post(one + "dependencyBuild/")
    await dr.get(one + "dependencyBuild/")
    test = {
        "customModelId": mid,
        "customModelVersionId": first["id"],
        "datasetId": DEMO_DATASET_ID,
        "maximumMemory": 268435456,
        "networkEgressPolicy": "NONE",
        "configuration": {"sideEffects": "skip"},
    }
    status = (await dr.post("/customModelTests/", json=test)).headers["location"]
    await dr.get(status)
    tests = (await dr.get("/customModelTests/", params={"customModelId": mid})).json()
    await dr.delete(f"/customModelTests/{tests['data'][0]['id']}/")
    status = (await dr.post("/customModelTests/", json={**test, "customModelVersionId": vid})).headers["location"]
    await dr.get("/customModelTests/", params={"customModelId": mid})
    advance(30)
    test_id = (await dr.get(status)).headers["location"].rstrip("/").rsplit("/", 1)[-1]
    await dr.get(one + "dependencyBuildLog/")
    await dr.get(f"/customModelTests/{test_id}/")
    await dr.get(f"/customModelTests/{test_id}/log/")
    await dr.get(f"/customModelTests/{test_id}/tail/", params={"lines": 3})
    image = (await dr.get(f"/customModelTests/{test_id}/")).json()["customModelImageId"]
    await dr.post(one + "featureImpact/", json={"rowCount": 100})
    advance(10)
    await dr.get(one + "featureImpact/")
    await dr.post(f"/customInferenceImages/{image}/featureImpact/", json={})
    advance(10)
    await dr.get(f"/customInferenceImages/{image}/featureImpact/")
    item = version["items"][0]["id"]
    conversion = (await dr.post(one + "conversions/", json={"mainProgramItemId": item})).json()
    await dr.get(one + "conversions/")
    await dr.get(one + f"conversions/{conversion['conversionId']}/")
    await dr.delete(one + f"conversions/{conversion['conversionId']}/")
    await dr.post(
        "/customModels/predictionExplanationsInitialization/", json={"customModelId": mid, "customModelVersionId": vid}
    )
    await dr.post(one + "predictionExplanationsInitialization/")
    await dr.patch(f"/customModels/{mid}/trainingData/", json={"datasetId": "d", "partitionColumn": "p"})
    await dr.patch(
        f"/customModels/{mid}/versions/withTrainingData/",
        json={"trainingData": {"datasetId": "d"}, "holdoutData": {"datasetId": "h"}},
    )
    await dr.post(f"/customModels/{mid}/versions/fromRepository/", json={"repositoryId": "r", "sourcePath": ["a"]})
    await dr.patch(f"/customModels/{mid}/versions/fromRepository/", json={"repositoryId": "r", "ref": "dev"})
    advance(5)
    await dr.get(f"/customModels/{mid}/versions/")
    await dr.get(f"/customModels/{mid}/")
    await dr.get(f"/customModels/{mid}/accessControl/")
    await dr.patch(f"/customModels/{mid}/accessControl/", json={"data": [{"username": "u@x.io", "role": "USER"}]})
    await dr.post("/customModels/fromCustomModel/", json={"customModelId": mid})
    await dr.post(
        "/customModels/fromModelTemplate/", json={"templateId": "t", "resourceBundleId": "b", "secretConfigId": "s"}
    )
    env_id = (await dr.post("/executionEnvironments/", json={"name": "walk env", "useCases": ["notebook"]})).json()[
        "id"
    ]
    env = f"/executionEnvironments/{env_id}/"
    await dr.get("/executionEnvironments/", params={"limit": 2})
    await dr.get(env)
    await dr.patch(env, json={"name": "walk env 2"})
    await dr.get(env + "accessControl/")
    await dr.patch(env + "accessControl/", json={"data": [{"username": "u@x.io", "role": "CONSUMER"}]})
    env_version = (await dr.post(env + "versions/", files={"dockerContext": ("ctx.zip", b"FROM x\n")})).json()["id"]
    await dr.get(env)  # no successful version yet
    advance(30)
    await dr.get(env + "versions/")
    await dr.get(env + f"versions/{env_version}/")
    await dr.get(env + f"versions/{env_version}/buildLog/")
    await dr.get(env + f"versions/{env_version}/download/")
    await dr.get(f"/executionEnvironments/{PYTHON_ENV_ID}/")
    await dr.delete(env)
    await dr.post("/executionEnvironmentsPermadelete/", json={"executionEnvironmentIds": [env_id]})
    await dr.get(f"/customModels/{DEMO_MODEL_ID}/")
    await dr.delete(f"/customModels/{mid}/")
    uploaded = await dr.post("/datasets/fromFile/", files={"file": ("rows.csv", b"a,b\n1,2\n")})
    dataset = uploaded.json()["catalogId"]
    await dr.get("/datasets/", params={"limit": 1})  # one still being ingested
    await dr.get(uploaded.headers["location"])
    advance(5)
    await dr.get(uploaded.headers["location"])
    await dr.get("/datasets/", params={"orderBy": "created"})
    await dr.get(f"/datasets/{dataset}/")
    await dr.delete(f"/datasets/{dataset}/")


async def test_every_operation_answers_as_datarobot_json_declares(sandbox: Sandbox, base_url: str) -> None:
    operations = _operations(_load_document())
    answers: list[Answer] = []

    async def record(response: httpx.Response) -> None:
        await response.aread()
        path = response.request.url.path.removeprefix(DR)
        ctype = response.headers.get("content-type", "")
        answers.append(Answer(response.request.method, path, response.status_code, ctype, response.content))

    hooks: dict[str, list[Callable[..., Any]]] = {"response": [record]}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base_url + DR, headers=headers, event_hooks=hooks) as dr:
        await _walk(sandbox, dr)

    answered: set[str] = set()
    for answer in answers:
        op = next((o for o in operations if o.method == answer.method and o.pattern.match(answer.path)), None)
        assert op is not None, f"no operation for {answer.method} {answer.path}"
        assert 200 <= answer.status < 400, f"{op.op_id} answered {answer.status}: {answer.body[:300]!r}"
        _check(op, answer)
        answered.add(op.op_id)
    assert answered == {o.op_id for o in operations}
    assert len(answered) >= 59
