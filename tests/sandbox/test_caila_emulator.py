"""The Caila emulator over real loopback HTTP, checked against the vendor's mlpgate OpenAPI schemas."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from modelops_mcp.sandbox import Sandbox, serve_sandbox
from modelops_mcp.sandbox.caila_data import CailaState

pytestmark = pytest.mark.anyio

Matches = Callable[[Any, str], None]

DERIVED = "/account/demo/model/text-classifier/derived"
FIT = "/account/demo/model/text-classifier/fit"


def assert_spring_error(response: httpx.Response, status: int, path: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"timestamp", "status", "error", "message", "path"}
    assert body["status"] == status
    assert body["path"] == "/api/mlpgate" + path
    assert isinstance(body["message"], str)
    assert body["message"]
    datetime.fromisoformat(body["timestamp"])
    return body


def caila_state(sandbox: Sandbox) -> CailaState:
    state = sandbox.state("caila")
    assert isinstance(state, CailaState)
    return state


async def start_fit(caila: httpx.AsyncClient, dataset_id: int, model: str = "text-classifier") -> dict[str, Any]:
    response = await caila.post(f"/account/demo/model/{model}/fit", json={"datasetId": dataset_id})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def job_at(caila: httpx.AsyncClient, sandbox: Sandbox, job_id: int, t: float) -> dict[str, Any]:
    """The job's status once the simulated clock reads ``t`` seconds since start (the fit began at 0)."""
    sandbox.clock.advance(t - sandbox.clock.now())
    response = await caila.get(f"/account/demo/job/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- schemas ------------------------------------------------------------------------------------------


def test_vendor_schema_for_model_info_has_its_21_required_fields(vendor_schemas: dict[str, Any]) -> None:
    # Guards the tiny YAML reader in conftest: if it dropped fields, every shape check below would be weak.
    assert len(vendor_schemas["ModelInfoData"]["required"]) == 21
    assert vendor_schemas["JobStatusData"]["required"] == ["accountId", "done", "jobId", "jobType", "state"]


# --- derived ------------------------------------------------------------------------------------------


async def test_derived_returns_full_model_info_from_query_parameters(
    caila: httpx.AsyncClient, assert_matches: Matches
) -> None:
    response = await caila.post(DERIVED, params={"name": "my-classifier", "hidden": "true"})
    assert response.status_code == 200, response.text
    model = response.json()
    assert_matches(model, "ModelInfoData")
    assert model["id"] == {"accountId": 1001, "modelId": 2000}
    assert model["modelName"] == "my-classifier"
    assert model["modelAccountName"] == "demo"
    assert model["fittable"] is True
    assert model["hostingType"] == "INTERNAL"
    assert model["publicSettings"]["hidden"] is True
    assert model["trainingModelId"] == 42


async def test_derived_model_ids_count_up_and_hidden_defaults_to_false(caila: httpx.AsyncClient) -> None:
    first = (await caila.post(DERIVED, params={"name": "one"})).json()
    second = (await caila.post(DERIVED, params={"name": "two"})).json()
    assert (first["id"]["modelId"], second["id"]["modelId"]) == (2000, 2001)
    assert first["publicSettings"]["hidden"] is False


async def test_derived_model_inherits_the_base_fit_configs_under_its_own_id(caila: httpx.AsyncClient) -> None:
    await caila.post(DERIVED, params={"name": "mine"})
    configs = (await caila.get("/account/demo/model/mine/fit-config")).json()
    assert [c["name"] for c in configs] == ["default", "thorough"]
    assert all(c["id"]["modelId"] == 2000 and c["id"]["accountId"] == 1001 for c in configs)
    base = (await caila.get("/account/demo/model/text-classifier/fit-config")).json()
    assert [c["config"] for c in configs] == [c["config"] for c in base]


async def test_derived_by_account_and_model_id(caila: httpx.AsyncClient) -> None:
    response = await caila.post("/account/1001/model/42/derived", params={"name": "by-id"})
    assert response.status_code == 200
    assert response.json()["trainingModelName"] == "text-classifier"


async def test_derived_ignores_a_json_body_and_needs_the_name_query_parameter(caila: httpx.AsyncClient) -> None:
    response = await caila.post(DERIVED, json={"name": "in-body"})
    body = assert_spring_error(response, 400, DERIVED)
    assert "'name'" in body["message"]
    assert_spring_error(await caila.post(DERIVED, params={"name": ""}), 400, DERIVED)


async def test_derived_rejects_a_hidden_value_that_is_not_a_boolean(caila: httpx.AsyncClient) -> None:
    assert_spring_error(await caila.post(DERIVED, params={"name": "x", "hidden": "maybe"}), 400, DERIVED)


async def test_derived_from_a_model_that_is_not_fittable_is_rejected(caila: httpx.AsyncClient) -> None:
    path = "/account/demo/model/sentiment-api/derived"
    body = assert_spring_error(await caila.post(path, params={"name": "x"}), 400, path)
    assert "not fittable" in body["message"]


@pytest.mark.parametrize("name", ["text-classifier", "taken"])
async def test_derived_with_a_name_already_in_the_account_conflicts(caila: httpx.AsyncClient, name: str) -> None:
    await caila.post(DERIVED, params={"name": "taken"})
    assert_spring_error(await caila.post(DERIVED, params={"name": name}), 409, DERIVED)


@pytest.mark.parametrize(
    "path",
    [
        "/account/nobody/model/text-classifier/derived",
        "/account/demo/model/nothing/derived",
        "/account/demo/model/7/derived",
    ],
)
async def test_derived_on_unknown_account_or_model_is_not_found(caila: httpx.AsyncClient, path: str) -> None:
    assert_spring_error(await caila.post(path, params={"name": "x"}), 404, path)


# --- listings -----------------------------------------------------------------------------------------


async def test_fit_configs_are_a_bare_array_with_config_as_a_json_string(
    caila: httpx.AsyncClient, assert_matches: Matches
) -> None:
    response = await caila.get("/account/demo/model/text-classifier/fit-config")
    assert response.status_code == 200
    configs = response.json()
    assert isinstance(configs, list)
    for config in configs:
        assert_matches(config, "FitConfigData")
        assert isinstance(json.loads(config["config"]), dict)
    assert [(c["id"]["configId"], c["name"], c["isDefault"]) for c in configs] == [
        (301, "default", True),
        (302, "thorough", False),
    ]
    assert json.loads(configs[0]["config"]) == {"epochs": 3, "learning_rate": 0.001}


async def test_fit_configs_of_an_unknown_model_are_not_found(caila: httpx.AsyncClient) -> None:
    path = "/account/demo/model/ghost/fit-config"
    assert_spring_error(await caila.get(path), 404, path)


@pytest.mark.parametrize("account", ["demo", "1001"])
async def test_datasets_are_a_bare_array_of_the_account_datasets(
    caila: httpx.AsyncClient, assert_matches: Matches, account: str
) -> None:
    response = await caila.get(f"/account/{account}/dataset")
    assert response.status_code == 200
    datasets = response.json()
    for dataset in datasets:
        assert_matches(dataset, "DatasetInfoData")
        assert dataset["accessMode"] == "private"
        assert dataset["datasetAccountName"] == "demo"
    assert [(d["id"]["accountId"], d["id"]["datasetId"], d["name"]) for d in datasets] == [
        (1001, 501, "support-tickets"),
        (1001, 502, "product-reviews"),
        (1001, 503, "broken-labels"),
    ]


async def test_datasets_of_an_unknown_account_are_not_found(caila: httpx.AsyncClient) -> None:
    assert_spring_error(await caila.get("/account/9999/dataset"), 404, "/account/9999/dataset")


@pytest.mark.parametrize("account", ["\u00b2", "\u0661\u0662", "9" * 5000])
async def test_a_reference_no_id_can_be_is_an_unknown_name_not_a_500(caila: httpx.AsyncClient, account: str) -> None:
    """Found by fuzzing: non-ASCII digits and a 5,000-digit number made `int()` raise inside the emulator."""
    response = await caila.get(f"/account/{account}/dataset")
    assert response.status_code == 404, response.text


# --- fit and job --------------------------------------------------------------------------------------


async def test_fit_returns_a_pending_job_status(
    caila: httpx.AsyncClient, sandbox: Sandbox, assert_matches: Matches
) -> None:
    job = await start_fit(caila, 501)
    assert_matches(job, "JobStatusData")
    assert job == {
        "accountId": 1001,
        "jobId": 9001,
        "jobType": "fit",
        "state": "PENDING",
        "done": False,
        "error": False,
    }
    assert caila_state(sandbox).jobs[9001].config_id == 301  # neither config nor configId: the default config
    assert (await start_fit(caila, 502))["jobId"] == 9002


async def test_fit_goes_pending_running_success_on_the_simulated_clock(
    caila: httpx.AsyncClient, sandbox: Sandbox, assert_matches: Matches
) -> None:
    job_id = (await start_fit(caila, 501))["jobId"]
    timeline = [(0, "PENDING"), (19.9, "PENDING"), (20, "RUNNING"), (150, "RUNNING"), (299.9, "RUNNING")]
    for t, state in timeline:
        status = await job_at(caila, sandbox, job_id, t)
        assert_matches(status, "JobStatusData")
        assert (status["state"], status["done"], status["error"]) == (state, False, False), t
        assert "errorMessage" not in status
    done = await job_at(caila, sandbox, job_id, 300)
    assert_matches(done, "JobStatusData")
    assert done == {
        "accountId": 1001,
        "jobId": job_id,
        "jobType": "fit",
        "state": "SUCCESS",
        "done": True,
        "error": False,
    }
    assert (await job_at(caila, sandbox, job_id, 10_000))["state"] == "SUCCESS"


async def test_fit_on_the_broken_dataset_fails_with_a_message_naming_it(
    caila: httpx.AsyncClient, sandbox: Sandbox, assert_matches: Matches
) -> None:
    job_id = (await start_fit(caila, 503))["jobId"]
    assert (await job_at(caila, sandbox, job_id, 119.9))["state"] == "RUNNING"
    failed = await job_at(caila, sandbox, job_id, 120)
    assert_matches(failed, "JobStatusData")
    assert (failed["state"], failed["done"], failed["error"]) == ("FAILED", True, True)
    assert "broken-labels" in failed["errorMessage"]
    assert "label" in failed["errorMessage"]
    assert (await job_at(caila, sandbox, job_id, 300))["state"] == "FAILED"


async def test_fit_progress_follows_the_clock_advanced_over_http(
    caila: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    job_id = (await start_fit(caila, 502))["jobId"]
    await control.post("/_sandbox/clock/advance", json={"seconds": 300})
    assert (await caila.get(f"/account/1001/job/{job_id}")).json()["done"] is True


async def test_fit_with_config_id_or_inline_config(caila: httpx.AsyncClient, sandbox: Sandbox) -> None:
    by_id = await caila.post(FIT, json={"datasetId": 501, "configId": 302})
    inline = await caila.post(FIT, json={"datasetId": 502, "config": {"epochs": 1}, "billingToken": "b-1"})
    assert (by_id.status_code, inline.status_code) == (200, 200)
    jobs = caila_state(sandbox).jobs
    assert jobs[by_id.json()["jobId"]].config_id == 302
    assert jobs[inline.json()["jobId"]].config == {"epochs": 1}
    assert jobs[inline.json()["jobId"]].billing_token == "b-1"


async def test_fit_on_a_derived_model_by_ids_uses_its_inherited_configs(caila: httpx.AsyncClient) -> None:
    model = (await caila.post(DERIVED, params={"name": "fitted"})).json()["id"]
    path = f"/account/{model['accountId']}/model/{model['modelId']}/fit"
    assert (await caila.post(path, json={"datasetId": 501, "configId": 3002})).status_code == 200
    # The base model's config id does not belong to the derived model.
    assert_spring_error(
        await caila.post(path, json={"datasetId": 501, "configId": 302}), 404, path[: -len("/fit")] + "/fit"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b"{}",
        b'{"datasetId": null}',
        b'{"datasetId": "501"}',
        b'{"datasetId": 501.5}',
        b'{"datasetId": true}',
        b'{"datasetId": 501, "configId": "301"}',
        b'{"datasetId": 501, "config": "{\\"epochs\\": 1}"}',
        b'{"datasetId": 501, "billingToken": 5}',
    ],
)
async def test_fit_rejects_malformed_requests(caila: httpx.AsyncClient, sandbox: Sandbox, body: bytes) -> None:
    response = await caila.post(FIT, content=body, headers={"content-type": "application/json"})
    assert_spring_error(response, 400, FIT)
    assert caila_state(sandbox).jobs == {}


async def test_fit_with_both_config_and_config_id_is_rejected(caila: httpx.AsyncClient) -> None:
    response = await caila.post(FIT, json={"datasetId": 501, "configId": 301, "config": {"epochs": 1}})
    assert "config or configId" in assert_spring_error(response, 400, FIT)["message"]


async def test_fit_without_a_json_content_type_is_unsupported(caila: httpx.AsyncClient) -> None:
    response = await caila.post(FIT, content=b'{"datasetId": 501}', headers={"content-type": "text/plain"})
    assert_spring_error(response, 415, FIT)


async def test_fit_on_a_model_that_is_not_fittable_is_rejected(caila: httpx.AsyncClient) -> None:
    path = "/account/demo/model/43/fit"
    assert_spring_error(await caila.post(path, json={"datasetId": 501}), 400, path)


@pytest.mark.parametrize(
    "body",
    [{"datasetId": 999}, {"datasetId": 504}, {"datasetId": 501, "configId": 999}],
    ids=["unknown-dataset", "other-accounts-private-dataset", "unknown-config"],
)
async def test_fit_with_an_unknown_dataset_or_config_is_not_found(
    caila: httpx.AsyncClient, body: dict[str, int]
) -> None:
    assert_spring_error(await caila.post(FIT, json=body), 404, FIT)


async def test_fit_on_an_unknown_model_is_not_found(caila: httpx.AsyncClient) -> None:
    path = "/account/demo/model/ghost/fit"
    assert_spring_error(await caila.post(path, json={"datasetId": 501}), 404, path)


async def test_job_is_found_by_account_name_or_id_but_not_through_another_account(caila: httpx.AsyncClient) -> None:
    job_id = (await start_fit(caila, 501))["jobId"]
    assert (await caila.get(f"/account/demo/job/{job_id}")).status_code == 200
    assert (await caila.get(f"/account/1001/job/{job_id}")).status_code == 200
    assert_spring_error(await caila.get(f"/account/acme/job/{job_id}"), 404, f"/account/acme/job/{job_id}")
    assert_spring_error(await caila.get("/account/demo/job/12345"), 404, "/account/demo/job/12345")


@pytest.mark.parametrize("job_id", ["abc", "9001x", "1.5", "99999999999999999999"])
async def test_job_id_that_is_not_an_int64_is_a_bad_request(caila: httpx.AsyncClient, job_id: str) -> None:
    assert_spring_error(await caila.get(f"/account/demo/job/{job_id}"), 400, f"/account/demo/job/{job_id}")


# --- auth and routing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"MLP-API-KEY": ""}], ids=["missing", "empty"])
async def test_missing_or_empty_key_is_unauthorized(base_url: str, sandbox: Sandbox, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=base_url + "/caila/api/mlpgate", headers=headers) as client:
        response = await client.get("/account/demo/dataset")
    body = assert_spring_error(response, 401, "/account/demo/dataset")
    assert body["error"] == "Unauthorized"
    assert "MLP-API-KEY" in body["message"]


async def test_sandbox_mode_accepts_any_non_empty_key(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url + "/caila/api/mlpgate", headers={"MLP-API-KEY": "x"}) as client:
        assert (await client.get("/account/demo/dataset")).status_code == 200


async def test_pinned_key_rejects_a_wrong_key_and_echoes_it_in_the_message() -> None:
    pinned = Sandbox(speed=0, api_keys={"caila": "right-key"})
    async with serve_sandbox(pinned) as url, httpx.AsyncClient(base_url=url + "/caila/api/mlpgate") as client:
        wrong = await client.get("/account/demo/dataset", headers={"MLP-API-KEY": "s3cr3t-wrong"})
        right = await client.get("/account/demo/dataset", headers={"MLP-API-KEY": "right-key"})
    body = assert_spring_error(wrong, 401, "/account/demo/dataset")
    assert body["message"] == "API key 's3cr3t-wrong' is not valid"
    assert right.status_code == 200


async def test_auth_is_checked_before_routing(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url + "/caila/api/mlpgate") as client:
        assert_spring_error(await client.get("/no/such/route"), 401, "/no/such/route")


async def test_unknown_route_and_wrong_method_answer_spring_json(caila: httpx.AsyncClient) -> None:
    assert_spring_error(await caila.get("/no/such/route"), 404, "/no/such/route")
    wrong_method = await caila.get(DERIVED)
    assert_spring_error(wrong_method, 405, DERIVED)
    assert wrong_method.headers["allow"] == "POST"
