"""The Caila flow checked against Caila's own OpenAPI document (vendored), with openapi-core, over loopback HTTP.

Two sides: every answer the emulator gives in the flow (derive a service, list fit configs, list datasets,
fit, poll the job to its end), with the request that asked for it; and every request our MCP server sends
to Caila during a fit journey, as the sandbox's recorder saw it. The document wins: where the emulator
disagreed, the emulator was changed.

The document declares only 200 answers (all 228 of its responses), so Caila's error answers have no
schema to be checked against; the first test keeps that fact checked, so a newer document that adds them
shows up here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.caila_openapi import FLOW_OPERATIONS, caila_api, exchange_errors, logged_request_errors, vendor_document
from tests.support import RunningSandbox, error_of, in_process, ok

pytestmark = pytest.mark.anyio


def test_the_document_loads_as_openapi_and_declares_only_200_for_the_flow() -> None:
    caila_api()  # openapi-core validates the document itself when it loads it
    paths = vendor_document()["paths"]
    for operation_id, (method, path) in FLOW_OPERATIONS.items():
        operation = paths[path][method]
        assert operation["operationId"] == operation_id
        assert set(operation["responses"]) == {"200"}, (operation_id, sorted(operation["responses"]))


class Checked:
    """An httpx client at the sandbox's Caila mount that checks each exchange against the vendor document."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.checked: list[str] = []

    async def __call__(self, method: str, path: str, **options: Any) -> Any:
        response = await self.http.request(method, path, **options)
        assert response.status_code == 200, (method, path, response.status_code, response.text)
        errors = exchange_errors(response)
        assert not errors, (method, path, response.text, errors)
        self.checked.append(f"{method} {response.request.url.path}")
        return response.json()


@pytest.fixture
async def checked(sandbox: RunningSandbox) -> Any:
    env = sandbox.env()
    headers = {"MLP-API-KEY": env["CAILA_API_KEY"]}
    async with httpx.AsyncClient(base_url=env["CAILA_BASE_URL"] + "/api/mlpgate", headers=headers) as http:
        yield Checked(http)


async def test_every_answer_of_the_fit_flow_conforms(sandbox: RunningSandbox, checked: Checked) -> None:
    clock = sandbox.emulators.clock
    for account in ("demo", "1001", "acme"):
        datasets = await checked("GET", f"/account/{account}/dataset")
        assert datasets, account
    base_configs = await checked("GET", "/account/demo/model/text-classifier/fit-config")
    assert any(c["isDefault"] for c in base_configs)

    hidden = await checked(
        "POST", "/account/demo/model/text-classifier/derived", params={"name": "hidden-one", "hidden": "true"}
    )
    shown = await checked("POST", "/account/1001/model/42/derived", params={"name": "shown-one"})
    assert (hidden["publicSettings"]["hidden"], shown["publicSettings"]["hidden"]) == (True, False)
    model = str(hidden["id"]["modelId"])
    configs = await checked("GET", f"/account/demo/model/{model}/fit-config")
    config_id = next(c["id"]["configId"] for c in configs if not c["isDefault"])

    fits = [
        await checked("POST", f"/account/demo/model/{model}/fit", json={"datasetId": 501, "configId": config_id}),
        await checked("POST", f"/account/demo/model/{model}/fit", json={"datasetId": 502, "config": {"epochs": 1}}),
        await checked("POST", "/account/demo/model/shown-one/fit", json={"datasetId": 503}),  # the default config
        await checked(
            "POST", "/account/demo/model/text-classifier/fit", json={"datasetId": 502, "billingToken": "b-1"}
        ),
    ]
    seen: dict[int, set[str]] = {fit["jobId"]: {fit["state"]} for fit in fits}
    for step in (0, 30, 100, 200, 300):  # queued, running, the broken dataset failed, the others done
        clock.advance(step)
        for job_id in seen:
            status = await checked("GET", f"/account/demo/job/{job_id}")
            seen[job_id].add(status["state"])
    assert seen[fits[2]["jobId"]] == {"PENDING", "RUNNING", "FAILED"}
    assert all(seen[fit["jobId"]] == {"PENDING", "RUNNING", "SUCCESS"} for fit in (fits[0], fits[1], fits[3]))

    # The derived model now names its training dataset and config: still a ModelInfoData the document admits.
    again = await checked("POST", f"/account/demo/model/{model}/derived", params={"name": "from-fitted"})
    assert again["trainingModelId"] == int(model)
    assert {p.rsplit("/", 1)[-1] for p in checked.checked} >= {"dataset", "fit-config", "derived", "fit"}


# The document's path templates, to name the operation each logged request was for.
_OPERATION_OF = [
    (re.compile("^/caila" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), method.upper(), operation_id)
    for operation_id, (method, path) in FLOW_OPERATIONS.items()
]


def _operation(method: str, path: str) -> str | None:
    return next((op for pattern, m, op in _OPERATION_OF if m == method and pattern.match(path)), None)


async def test_every_request_our_server_sends_in_a_fit_journey_conforms(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        datasets = (await ok(client, "caila_list_datasets", {"account": "demo"}))["result"]
        service = await ok(
            client,
            "caila_create_derived_service",
            {"account": "demo", "model": "text-classifier", "name": "ours", "hidden": True},
        )
        account, model = str(service["id"]["accountId"]), str(service["id"]["modelId"])
        configs = (await ok(client, "caila_list_fit_configs", {"account": account, "model": model}))["result"]
        by_id = await ok(
            client,
            "caila_fit_service",
            {
                "account": account,
                "model": model,
                "datasetId": datasets[0]["id"]["datasetId"],
                "configId": configs[0]["id"]["configId"],
            },
        )
        inline = await ok(
            client,
            "caila_fit_service",
            {"account": "demo", "model": "text-classifier", "datasetId": 502, "config": {"epochs": 2}},
        )
        await ok(client, "caila_get_job_status", {"account": account, "jobId": by_id["jobId"]})
        sandbox.emulators.clock.advance(600)
        for job in (by_id, inline):
            waited = await ok(client, "jobs_wait", {"job_id": job["job"]["id"], "timeout_s": 30})
            assert waited["job"]["status"] == "completed", waited
        # A request the service refuses is still one the document describes (it says nothing of the 404).
        missing = error_of(
            await client.call_tool("caila_fit_service", {"account": "demo", "model": model, "datasetId": 99999})
        )
        assert missing["status"] == 404

    sent = sandbox.requests("caila")
    assert sent
    assert all(r.status in (200, 404) for r in sent), [(r.method, r.path, r.status) for r in sent]
    problems = {f"{r.method} {r.path}": logged_request_errors(sandbox.url, r) for r in sent}
    assert not any(problems.values()), problems
    covered = {_operation(r.method, r.path) for r in sent}
    assert covered == set(FLOW_OPERATIONS), covered


async def test_the_validator_catches_an_answer_or_request_off_the_document(checked: Checked) -> None:
    """A control: the same check on a real exchange with one field wrong, either side, does find it."""
    real = await checked.http.post("/account/demo/model/text-classifier/fit", json={"datasetId": 501})
    assert exchange_errors(real) == []
    answer = {k: v for k, v in real.json().items() if k != "done"}
    tampered = httpx.Response(200, json={**answer, "jobId": str(answer["jobId"])}, request=real.request)
    (problem,) = exchange_errors(tampered)
    assert "'done' is a required property" in problem
    assert "is not of type 'integer'" in problem

    refused = await checked.http.post("/account/demo/model/text-classifier/fit", json={"datasetId": "501"})
    assert refused.status_code == 400  # the emulator refuses it, like Jackson would
    problems = exchange_errors(refused)
    assert any(p.startswith("request InvalidRequestBody") and "'501' is not of type 'integer'" in p for p in problems)
    assert any(p.startswith("response ResponseNotFound") for p in problems)  # no error answer is documented
