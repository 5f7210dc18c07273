"""Contract: the official Tune the Model client (tune-the-model 0.1.33) runs its own fit flow on our sandbox.

The client is installed by .ci/clients/tune-the-model.sh; tests/contract/ttm_client_flow.py runs it against
`modelops-mcp sandbox` on an ephemeral loopback port with a fast clock, and prints the steps as JSON.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.contract.clients import client_python, run_flow, step, steps_of
from tests.support import sandbox_process

FLOW = Path(__file__).with_name("ttm_client_flow.py")
# 20 simulated seconds per real second: a file loads in 0.25 s, a fit takes 3.5 s.
SPEED = "20"


def offline_env(sandbox_env: dict[str, str]) -> dict[str, str]:
    """The sandbox's TTM_API_URL/TTM_API_KEY, and a dead proxy for everything else: the client asks PyPI for
    its latest version on import (tune_the_model/__init__.py:29, without a timeout), which must not leave
    this machine."""
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    dead = "http://127.0.0.1:9"
    env.update({"HTTP_PROXY": dead, "HTTPS_PROXY": dead, "NO_PROXY": "127.0.0.1,localhost"})
    env.update({k: v for k, v in sandbox_env.items() if k.startswith("TTM_")})
    return env


def run_ttm_flow() -> dict[str, dict[str, Any]]:
    python = client_python("tune-the-model")
    with sandbox_process("--speed", SPEED) as sandbox:
        report = run_flow([str(python), str(FLOW)], offline_env(sandbox.env))
    return steps_of(report, "tune-the-model", "0.1.33")


@pytest.fixture(scope="module")
def steps() -> dict[str, dict[str, Any]]:
    return run_ttm_flow()


def test_the_one_call_fit_binds_files_still_loading_and_queues_the_fit(steps: dict[str, dict[str, Any]]) -> None:
    # tune_classifier uploads, binds at once, requires DatasetsLoaded right after the bind (cli.py:389) and
    # fits; the vendor's own test accepts any of these right after (tests/functional/test_tune_the_model.py:36).
    tuned = step(steps, "tune_classifier")
    assert tuned["status_after_fit"] in {"inqueue", "trainrequested", "training", "ready"}
    assert len(tuned["model_id"]) == 32


def test_the_fit_reaches_ready_and_both_files_are_loaded(steps: dict[str, dict[str, Any]]) -> None:
    assert step(steps, "wait_for_training_finish")["status"] == "ready"
    assert [tuple(f) for f in step(steps, "files")["files"]][:2] == [("train", "fileready"), ("val", "fileready")]


def test_the_trained_classifier_scores_two_classes_as_its_data_says(steps: dict[str, dict[str, Any]]) -> None:
    positive, negative = step(steps, "classify")["positive_text"], step(steps, "classify")["negative_text"]
    for scores in (positive, negative):
        assert len(scores) == 2
        assert abs(sum(scores) - 1) < 1e-6
    assert positive[1] > positive[0]  # class 1 is the positive texts of the training rows
    assert negative[0] > negative[1]


def test_the_model_is_listed_ready_then_deleted(steps: dict[str, dict[str, Any]]) -> None:
    model_id = step(steps, "tune_classifier")["model_id"]
    assert [model_id, "contract-sentiment", "ready"] in step(steps, "models")["models"]
    assert model_id not in step(steps, "delete")["models_left"]


def test_a_file_that_cannot_be_loaded_fails_the_model_and_the_clients_wait(steps: dict[str, dict[str, Any]]) -> None:
    bad = step(steps, "a_file_that_fails")
    assert bad["status_after_fit"] in {"inqueue", "fitfailed"}
    assert bad["status"] == "FitFailed"
    assert "failed to load: Fields inputs and classes must have the same length, got 32 and 33" in bad["error"]
    # The client's own wait turns FitFailed into its exception (cli.py:462-464).
    assert bad["raised"] == "Something went wrong during the fit process. Please, contact us"
