"""DataRobot custom models through a real MCP client: multipart versions from a folder, builds, tests via 202/303."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from modelops_mcp.sandbox.datarobot_state import (
    DEMO_DATASET_ID,
    DEMO_MODEL_ID,
    DEMO_VERSION_ID,
    PYTHON_ENV_ID,
    DataRobotState,
)
from tests.support import (
    DATAROBOT_BINARY_MODEL,
    RunningSandbox,
    advance_in_steps,
    error_of,
    in_process,
    ok,
    stdio_server,
    text_of,
    wait_for_job,
)

pytestmark = pytest.mark.anyio

EXAMPLE_MODEL = Path(__file__).resolve().parent.parent / "examples" / "custom_model"
CANARY = "datarobot-canary-token-93c1"
DEMO = {"customModelId": DEMO_MODEL_ID, "customModelVersionId": DEMO_VERSION_ID}


def dr_state(sandbox: RunningSandbox) -> DataRobotState:
    state = sandbox.emulators.state("datarobot")
    assert isinstance(state, DataRobotState)
    return state


def sent(sandbox: RunningSandbox, method: str | None = None, path_part: str = "") -> list[Any]:
    return [r for r in sandbox.requests("datarobot") if (method is None or r.method == method) and path_part in r.path]


async def new_model(client: Client, name: str = "ticket-sentiment") -> str:
    created = await ok(
        client,
        "datarobot_create_custom_model",
        {"name": name, **DATAROBOT_BINARY_MODEL},
    )
    model_id: str = created["id"]
    return model_id


async def new_version(client: Client, model_id: str, files: list[str]) -> dict[str, Any]:
    arguments = {"customModelId": model_id, "isMajorUpdate": "true", "baseEnvironmentId": PYTHON_ENV_ID, "files": files}
    return await ok(client, "datarobot_create_custom_model_version", arguments)


async def run_test(client: Client, sandbox: RunningSandbox, model_id: str, version_id: str) -> dict[str, Any]:
    started = await ok(
        client,
        "datarobot_create_custom_model_test",
        {"customModelId": model_id, "customModelVersionId": version_id, "datasetId": DEMO_DATASET_ID},
    )
    assert started["statusId"]
    async with anyio.create_task_group() as tg:
        tg.start_soon(advance_in_steps, sandbox, 8, 6)
        return await wait_for_job(client, started["job"]["id"])


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_journey_model_version_from_a_folder_build_and_a_passing_test(
    sandbox: RunningSandbox, state_dir: Path, mode: str
) -> None:
    env = sandbox.env(DATAROBOT_API_TOKEN=CANARY)
    async with (
        in_process(env, state_dir, allow_dirs=[EXAMPLE_MODEL.parent]) as (server, _),
        Client(server, mode=mode) as client,
    ):
        model_id = await new_model(client)
        version = await new_version(client, model_id, [EXAMPLE_MODEL.name])  # a folder, relative to --allow-dir
        assert sorted(item["filePath"] for item in version["items"]) == ["README.md", "custom.py", "requirements.txt"]

        build = await ok(
            client,
            "datarobot_start_dependency_build",
            {"customModelId": model_id, "customModelVersionId": version["id"]},
        )
        async with anyio.create_task_group() as tg:
            tg.start_soon(advance_in_steps, sandbox, 5, 6)
            built = await wait_for_job(client, build["job"]["id"])
        assert (built["status"], built["state"]) == ("completed", "success")

        job = await run_test(client, sandbox, model_id, version["id"])
        assert job["status"] == "completed", job
        assert job["result"]["overallStatus"] == "succeeded"
        assert job["message"] == "all 4 checks succeeded"
        test_id = job["result"]["id"]
        fetched = await ok(client, "datarobot_get_custom_model_test", {"customModelTestId": test_id})
        assert fetched["overallStatus"] == "succeeded"

    # Every file part arrived paired with its relative filePath, and the finished test was reached by its 303.
    uploads = dr_state(sandbox).uploads
    assert sorted((name, path) for name, path, _ in uploads) == [
        ("README.md", "README.md"),
        ("custom.py", "custom.py"),
        ("requirements.txt", "requirements.txt"),
    ]
    statuses = sent(sandbox, "GET", "/status/")
    assert statuses[-1].status == 303
    assert any(r.status == 200 for r in statuses)  # polled while it ran
    assert sent(sandbox, "GET", f"/customModelTests/{test_id}/")
    assert all(r.headers.get("authorization") == f"Bearer {CANARY}" for r in sandbox.requests("datarobot"))


async def test_a_version_without_custom_py_fails_its_test_with_the_check_message(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[EXAMPLE_MODEL]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        model_id = await new_model(client)
        version = await new_version(client, model_id, ["requirements.txt"])
        job = await run_test(client, sandbox, model_id, version["id"])
    assert job["status"] == "failed"
    assert job["state"] == "failed"
    assert "errorCheck failed: custom.py was not found" in job["message"]
    assert job["result"]["testingStatus"]["errorCheck"]["status"] == "failed"


async def test_cancelling_a_running_test_deletes_it_on_datarobot(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[EXAMPLE_MODEL]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        model_id = await new_model(client)
        version = await new_version(client, model_id, ["custom.py"])
        started = await ok(
            client,
            "datarobot_create_custom_model_test",
            {"customModelId": model_id, "customModelVersionId": version["id"], "datasetId": DEMO_DATASET_ID},
        )
        cancelled = await ok(client, "jobs_cancel", {"job_id": started["job"]["id"]})
        assert cancelled["job"]["status"] == "cancelled"
        assert cancelled["backend_cancelled"] is True
    # The 202 names only a status job: the test to delete was found through the newest-first test list.
    (delete,) = sent(sandbox, "DELETE", "/customModelTests/")
    assert delete.status == 204
    assert sent(sandbox, "GET", "/customModelTests/")[0].query["customModelId"] == model_id


async def test_pages_are_followed_only_through_next_urls_of_the_same_list_and_endpoint(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        for n in range(3):
            await new_model(client, f"model-{n}")
        first = await ok(client, "datarobot_list_custom_models", {"limit": 2})
        assert len(first["data"]) == 2
        assert first["next"] is not None
        second = await ok(client, "datarobot_list_custom_models", {"next_page": first["next"]})
        seen = {m["id"] for m in first["data"]} | {m["id"] for m in second["data"]}
        assert len(seen) == len(first["data"]) + len(second["data"])
        assert second["previous"] is not None
        before = len(sandbox.requests("datarobot"))
        foreign = await client.call_tool(
            "datarobot_list_custom_models", {"next_page": "http://attacker.test/api/v2/customModels/?offset=2"}
        )
        assert (error_of(foreign)["kind"], error_of(foreign)["code"]) == ("validation", "foreign_url")
        other_list = first["next"].replace("/customModels/", "/executionEnvironments/")
        wrong = await client.call_tool("datarobot_list_custom_models", {"next_page": other_list})
        assert error_of(wrong)["code"] == "foreign_url"
        assert len(sandbox.requests("datarobot")) == before  # neither was sent anywhere


async def test_token_scheme_is_selectable_and_the_token_never_leaks(sandbox: RunningSandbox, state_dir: Path) -> None:
    env = sandbox.env(DATAROBOT_API_TOKEN=CANARY, DATAROBOT_AUTH_SCHEME="Token")
    async with stdio_server(env, state_dir) as (client, errlog):
        listed = await ok(client, "datarobot_list_execution_environments", {})
        missing = await client.call_tool("datarobot_get_custom_model", {"customModelId": "0" * 24})
    assert PYTHON_ENV_ID in {e["id"] for e in listed["data"]}
    assert error_of(missing)["kind"] == "not_found"
    assert {r.headers.get("authorization") for r in sandbox.requests("datarobot")} == {f"Token {CANARY}"}
    assert CANARY not in errlog.read_text()
    assert CANARY not in text_of(missing)


async def test_feature_impact_and_an_environment_build_are_followed_to_their_results(
    sandbox: RunningSandbox, state_dir: Path, tmp_path: Path
) -> None:
    context = tmp_path / "context.zip"
    with zipfile.ZipFile(context, "w") as archive:
        archive.writestr("Dockerfile", "FROM python:3.11-slim\n")
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[tmp_path]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        impact = await ok(client, "datarobot_start_feature_impact", DEMO)
        built = await ok(
            client,
            "datarobot_create_execution_environment_version",
            {"environmentId": PYTHON_ENV_ID, "dockerContext": context.name, "label": "v2"},
        )
        async with anyio.create_task_group() as tg:
            tg.start_soon(advance_in_steps, sandbox, 8, 6)
            impact_job = await wait_for_job(client, impact["job"]["id"])
            build_job = await wait_for_job(client, built["job"]["id"])
    # The 303 named the feature impact resource: its scores are the job's result.
    assert impact_job["status"] == "completed"
    assert impact_job["result"]["featureImpacts"]
    assert impact_job["result"]["location"].endswith("/featureImpact/")
    assert (build_job["status"], build_job["state"]) == ("completed", "success")
    assert build_job["result"]["id"] == built["id"]
