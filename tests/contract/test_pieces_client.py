"""Contract: the official Pieces OS client (pieces_os_client 5.0.1) on our sandbox, with the socket opened first.

The client is installed by .ci/clients/pieces-os-client.sh; tests/contract/pieces_client_flow.py runs it
against `modelops-mcp sandbox` on an ephemeral loopback port with a fast clock, and prints the steps as JSON.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from modelops_mcp.sandbox.pieces_data import GPT_4O_ID, LLAMA_3_8B_ID, MISTRAL_7B_ID, PHI_3_MINI_ID
from tests.contract.clients import client_python, run_flow, step, steps_of
from tests.support import sandbox_process

FLOW = Path(__file__).with_name("pieces_client_flow.py")
# 30 simulated seconds per real second: Llama 3 (90 s) downloads in 3 s, Mistral fails at 40 % in 1 s.
SPEED = "30"


def run_pieces_flow() -> dict[str, dict[str, Any]]:
    python = client_python("pieces-os-client")
    with sandbox_process("--speed", SPEED) as sandbox:
        env = {**os.environ, "PIECES_OS_URL": sandbox.env["PIECES_OS_URL"]}
        report = run_flow([str(python), str(FLOW), LLAMA_3_8B_ID, MISTRAL_7B_ID], env)
    return steps_of(report, "pieces_os_client", "5.0.1")


@pytest.fixture(scope="module")
def steps() -> dict[str, dict[str, Any]]:
    return run_pieces_flow()


def test_the_snapshot_validates_as_the_clients_models(steps: dict[str, dict[str, Any]]) -> None:
    models = {m["id"]: m for m in step(steps, "snapshot")["models"]}
    assert set(models) >= {LLAMA_3_8B_ID, MISTRAL_7B_ID, PHI_3_MINI_ID, GPT_4O_ID}
    assert models[GPT_4O_ID]["cloud"] is True
    assert (models[LLAMA_3_8B_ID]["downloaded"], models[PHI_3_MINI_ID]["downloaded"]) == (False, True)


def test_a_socket_opened_before_the_download_reports_it_from_initialized_to_completed(
    steps: dict[str, dict[str, Any]],
) -> None:
    seen = step(steps, "download")
    assert seen["started"]["downloading"] is True
    frames = seen["frames"]
    assert [f["status"] for f in frames[:1]] == ["INITIALIZED"], f"frames {frames}, closed {seen['closed']}"
    assert not seen["timed_out"], seen
    # INITIALIZED when the download starts, then percentages, then COMPLETED (the vendor's
    # ModelProgressController: INITIALIZED "when you first press the button to download").
    assert frames[0] == {"status": "INITIALIZED", "percentage": None}
    assert frames[-1] == {"status": "COMPLETED", "percentage": 100}
    progress = frames[1:-1]
    assert len(progress) >= 3
    assert all(f["status"] == "IN-PROGRESS" for f in progress)
    percentages = [f["percentage"] for f in progress]
    assert percentages == sorted(percentages)
    assert percentages[0] < 10  # the clock runs on: the first frame is at or near 0
    assert 0 < percentages[-1] < 100
    assert seen["closed"][0] in (1000, None)  # a normal close (the client closes on COMPLETED itself)
    assert (seen["after"]["downloaded"], seen["after"]["downloading"]) == (True, False)


def test_the_downloaded_model_loads_and_unloads(steps: dict[str, dict[str, Any]]) -> None:
    assert (step(steps, "load")["model"]["id"], step(steps, "load")["model"]["loaded"]) == (LLAMA_3_8B_ID, True)
    assert (step(steps, "unload")["model"]["id"], step(steps, "unload")["model"]["loaded"]) == (LLAMA_3_8B_ID, False)


def test_a_failing_download_ends_its_socket_with_failed(steps: dict[str, dict[str, Any]]) -> None:
    seen = step(steps, "failing_download")
    assert not seen["timed_out"], seen
    assert seen["frames"][0]["status"] == "INITIALIZED"
    assert seen["frames"][-1] == {"status": "FAILED", "percentage": 40}
    assert all(f["status"] == "IN-PROGRESS" for f in seen["frames"][1:-1])
    assert (seen["after"]["downloaded"], seen["after"]["downloading"]) == (False, False)
