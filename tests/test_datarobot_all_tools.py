"""Every one of DataRobot's 58 tools, called once through a real MCP client against the emulator, its result checked
against the tool's own outputSchema."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from modelops_mcp.sandbox.datarobot_state import (
    DEMO_DATASET_ID,
    DEMO_IMAGE_ID,
    DEMO_ITEM_ID,
    DEMO_MODEL_ID,
    DEMO_TEST_ID,
    DEMO_VERSION_ID,
    PYTHON_ENV_ID,
    PYTHON_ENV_VERSION_ID,
)
from tests.support import (
    DATAROBOT_TOOLS,
    EXAMPLE_DATA,
    RunningSandbox,
    assert_matches_output_schema,
    in_process,
    text_of,
)

pytestmark = pytest.mark.anyio

EXAMPLE_MODEL = Path(__file__).resolve().parent.parent / "examples" / "custom_model"
DEMO = {"customModelId": DEMO_MODEL_ID, "customModelVersionId": DEMO_VERSION_ID}
ENV_VERSION = {"environmentId": PYTHON_ENV_ID, "environmentVersionId": PYTHON_ENV_VERSION_ID}
SHARE = [{"username": "colleague@example.com", "role": "USER"}]
NEW_MODEL = {"name": "every-tool", "customModelType": "inference", "targetType": "Binary", "language": "python"}


def docker_context(folder: Path) -> Path:
    path = folder / "context.tar.gz"
    dockerfile = b"FROM python:3.11-slim\n"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        archive.addfile(info, io.BytesIO(dockerfile))
    return path


class Caller:
    def __init__(self, client: Client, sandbox: RunningSandbox) -> None:
        self.client = client
        self.sandbox = sandbox
        self.tools: dict[str, Any] = {}
        self.called: set[str] = set()

    async def load(self) -> None:
        self.tools = {t.name: t for t in (await self.client.list_tools()).tools}

    async def __call__(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await self.client.call_tool(tool, arguments)
        assert not result.is_error, f"{tool}: {text_of(result)}"
        assert_matches_output_schema(self.tools[tool], result)
        self.called.add(tool)
        assert result.structured_content is not None
        return result.structured_content

    def advance(self, seconds: float) -> None:
        self.sandbox.emulators.clock.advance(seconds)


async def test_every_datarobot_tool_answers_schema_valid_results(
    sandbox: RunningSandbox, state_dir: Path, tmp_path: Path
) -> None:
    context = docker_context(tmp_path)
    allowed = [EXAMPLE_MODEL, EXAMPLE_DATA, tmp_path]
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=allowed) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        call = Caller(client, sandbox)
        await call.load()
        # Reading what the sandbox starts with.
        await call("datarobot_get_custom_model_limits", {})
        await call("datarobot_list_custom_models", {})
        await call("datarobot_get_custom_model", {"customModelId": DEMO_MODEL_ID})
        await call("datarobot_update_custom_model", {"customModelId": DEMO_MODEL_ID, "description": "reviewed"})
        await call("datarobot_list_custom_model_access", {"customModelId": DEMO_MODEL_ID})
        await call("datarobot_update_custom_model_access", {"customModelId": DEMO_MODEL_ID, "data": SHARE})
        await call("datarobot_download_custom_model", {"customModelId": DEMO_MODEL_ID})
        await call("datarobot_list_custom_model_versions", {"customModelId": DEMO_MODEL_ID})
        await call("datarobot_get_custom_model_version", DEMO)
        await call("datarobot_update_custom_model_version", {**DEMO, "description": "first release"})
        await call("datarobot_download_custom_model_version", DEMO)
        await call("datarobot_list_custom_model_tests", {"customModelId": DEMO_MODEL_ID})
        await call("datarobot_get_custom_model_test", {"customModelTestId": DEMO_TEST_ID})
        await call("datarobot_download_custom_model_test_log", {"customModelTestId": DEMO_TEST_ID})
        await call("datarobot_get_custom_model_test_log_tail", {"customModelTestId": DEMO_TEST_ID, "lines": 5})
        await call("datarobot_get_image_feature_impact", {"imageId": DEMO_IMAGE_ID})
        await call("datarobot_get_feature_impact", DEMO)
        await call("datarobot_get_dependency_build", DEMO)
        await call("datarobot_get_dependency_build_log", DEMO)

        # Jobs that start on the demo model (the clock is frozen: each is still running when stopped).
        conversion = await call("datarobot_create_custom_model_conversion", {**DEMO, "mainProgramItemId": DEMO_ITEM_ID})
        ids = {**DEMO, "conversionId": conversion["conversionId"]}
        await call("datarobot_list_custom_model_conversions", DEMO)
        await call("datarobot_get_custom_model_conversion", ids)
        await call("datarobot_stop_custom_model_conversion", ids)
        await call("datarobot_start_feature_impact", DEMO)
        call.advance(11)
        await call("datarobot_start_image_feature_impact", {"imageId": DEMO_IMAGE_ID})
        await call("datarobot_init_model_prediction_explanations", DEMO)
        await call("datarobot_init_version_prediction_explanations", DEMO)
        training = {"customModelId": DEMO_MODEL_ID, "datasetId": DEMO_DATASET_ID}
        await call("datarobot_assign_custom_model_training_data", training)
        repository = {"customModelId": DEMO_MODEL_ID, "repositoryId": "github-sentiment"}
        await call("datarobot_create_custom_model_version_from_repository", repository)
        await call("datarobot_add_custom_model_version_from_repository", repository)
        with_data = {"customModelId": DEMO_MODEL_ID, "trainingData": {"datasetId": DEMO_DATASET_ID}}
        await call("datarobot_create_custom_model_version_with_training_data", with_data)

        # A model of our own: versions from local files, a build and a test, each cancelled while it runs.
        model_id = (await call("datarobot_create_custom_model", NEW_MODEL))["id"]
        version = {"customModelId": model_id, "isMajorUpdate": "true", "baseEnvironmentId": PYTHON_ENV_ID}
        first = await call("datarobot_create_custom_model_version", {**version, "files": [str(EXAMPLE_MODEL)]})
        patched = {"customModelId": model_id, "isMajorUpdate": "false", "files": ["custom.py"]}
        await call("datarobot_create_custom_model_version_from_latest", patched)
        ours = {"customModelId": model_id, "customModelVersionId": first["id"]}
        await call("datarobot_start_dependency_build", ours)
        await call("datarobot_cancel_dependency_build", ours)
        await call("datarobot_create_custom_model_test", {**ours, "datasetId": DEMO_DATASET_ID})
        tests = await call("datarobot_list_custom_model_tests", {"customModelId": model_id, "limit": 1})
        await call("datarobot_cancel_custom_model_test", {"customModelTestId": tests["data"][0]["id"]})
        copy = await call("datarobot_copy_custom_model", {"customModelId": model_id})
        await call("datarobot_delete_custom_model", {"customModelId": copy["id"]})
        template = {"templateId": "tmpl-1", "resourceBundleId": "cpu.small", "secretConfigId": "secret-1"}
        await call("datarobot_create_custom_model_from_template", template)

        # Execution environments.
        await call("datarobot_list_execution_environments", {})
        environment = (await call("datarobot_create_execution_environment", {"name": "every-tool env"}))["id"]
        await call("datarobot_get_execution_environment", {"environmentId": environment})
        await call("datarobot_update_execution_environment", {"environmentId": environment, "description": "test"})
        await call("datarobot_list_execution_environment_access", {"environmentId": environment})
        await call("datarobot_update_execution_environment_access", {"environmentId": environment, "data": SHARE})
        built = {"environmentId": environment, "dockerContext": str(context), "label": "v1"}
        await call("datarobot_create_execution_environment_version", built)
        await call("datarobot_list_execution_environment_versions", {"environmentId": PYTHON_ENV_ID})
        await call("datarobot_get_execution_environment_version", ENV_VERSION)
        await call("datarobot_get_execution_environment_version_build_log", ENV_VERSION)
        await call("datarobot_download_execution_environment_version", ENV_VERSION)
        await call("datarobot_delete_execution_environment", {"environmentId": environment})
        await call("datarobot_permanently_delete_execution_environments", {"executionEnvironmentIds": [environment]})

        # Datasets of the AI Catalog.
        uploaded = await call("datarobot_upload_dataset", {"file": str(EXAMPLE_DATA / "sentiment-test.csv")})
        await call("datarobot_list_datasets", {"limit": 2})
        await call("datarobot_get_dataset", {"datasetId": uploaded["catalogId"]})
        await call("datarobot_delete_dataset", {"datasetId": uploaded["catalogId"]})

    assert call.called == DATAROBOT_TOOLS
    assert len(call.called) == 58
