"""The official DataRobot client (`datarobot` 3.20.0) against `modelops-mcp sandbox` on a loopback port.

The client runs in its own virtualenv (.ci/clients/datarobot.sh) as a subprocess: tests/contract/datarobot_client.py
drives it through the custom model journey and prints one JSON line of steps, each asserted here.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.contract.clients import ROOT, client_python
from tests.support import sandbox_process

SCRIPT = Path(__file__).resolve().parent / "datarobot_client.py"
MODEL_FOLDER = ROOT / "examples" / "custom_model"
DATASET = ROOT / "examples" / "data" / "sentiment-test.csv"
# The client sleeps 5 real seconds between status polls; at 3000 simulated seconds per real second a 30 s
# test is done within milliseconds, so each wait costs one poll at most.
SPEED = "3000"
STEPS = [
    "version",
    "execution_environments",
    "execution_environment_without_versions",
    "create_custom_models",
    "get_custom_model",
    "list_custom_models",
    "unpaginate_custom_models",
    "version_from_folder",
    "model_has_latest_version",
    "dataset_from_file",
    "dataset_get_and_list",
    "custom_model_test",
    "test_refuses_a_missing_dataset",
    "test_fails_on_the_wrong_language",
    "delete_dataset",
    "delete_custom_models",
]


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    python = client_python("datarobot")
    with sandbox_process("--speed", SPEED) as sandbox:
        endpoint = sandbox.env["DATAROBOT_ENDPOINT"]
        token = sandbox.env["DATAROBOT_API_TOKEN"]
        done = subprocess.run(
            [str(python), str(SCRIPT), endpoint, token, str(MODEL_FOLDER), str(DATASET)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    lines = done.stdout.strip().splitlines()
    assert lines, f"the client script printed nothing (exit {done.returncode}): {done.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def test_the_client_is_the_pinned_version(report: dict[str, Any]) -> None:
    assert report["client"] == "3.20.0"


def test_the_client_ran_every_step_without_raising(report: dict[str, Any]) -> None:
    assert report["error"] is None, report["error"]
    assert [s["step"] for s in report["steps"]] == STEPS


@pytest.mark.parametrize("name", STEPS)
def test_step_passes(report: dict[str, Any], name: str) -> None:
    found = [s for s in report["steps"] if s["step"] == name]
    assert found, f"step {name} never ran: {report['error']}"
    assert found[0]["ok"], json.dumps(found[0])


def test_models_without_versions_reach_the_client_with_latest_version_none(report: dict[str, Any]) -> None:
    created = next(s for s in report["steps"] if s["step"] == "create_custom_models")
    assert created["latest_versions"] == [None, None, None]


def test_unpaginate_followed_more_than_one_page(report: dict[str, Any]) -> None:
    paged = next(s for s in report["steps"] if s["step"] == "unpaginate_custom_models")
    # Three models plus the demo one, two to a page.
    assert paged["pages"] >= 2
    assert paged["items"] >= 4


def test_the_uploaded_dataset_has_the_rows_of_the_file(report: dict[str, Any]) -> None:
    uploaded = next(s for s in report["steps"] if s["step"] == "dataset_from_file")
    rows = len(DATASET.read_text(encoding="utf-8").strip().splitlines()) - 1
    assert uploaded["rows"] == rows
    assert uploaded["name"] == DATASET.name
