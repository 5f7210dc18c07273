"""`modelops-mcp sandbox --fault JSON --faults FILE` as a real process, and the server over stdio against it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from tests.conftest import CANARY
from tests.support import error_of, sandbox_process, stdio_server, structured, text_of

pytestmark = pytest.mark.anyio


def requests_seen(url: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = httpx.get(f"{url}/_sandbox/requests", timeout=10).json()["requests"]
    return seen


def file_size(path: str) -> int:
    return Path(path).stat().st_size


def test_a_bad_fault_stops_the_sandbox_before_it_serves() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "modelops_mcp", "sandbox", "--port", "0", "--fault", '{"kind": "reset", "when": 1}'],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "unknown fault fields: ['when']" in done.stderr
    assert "serving" not in done.stdout


async def test_faults_from_the_command_line_reach_a_server_over_stdio(state_dir: Path, tmp_path: Path) -> None:
    listed = [
        {"backend": "tunethemodel", "method": "GET", "path": "^/v0/models$", "kind": "oversized", "size": 3_000_000},
        {"backend": "pieces", "path": "^/models$", "kind": "truncated", "times": 1},
    ]
    faults_file = tmp_path / "faults.json"
    faults_file.write_text(json.dumps(listed))
    reset = {"backend": "caila", "method": "GET", "path": "/dataset$", "kind": "reset", "times": 1}
    html = {"backend": "caila", "method": "POST", "path": "/fit$", "kind": "html"}
    args = ("--speed", "0", "--fault", json.dumps(reset), "--fault", json.dumps(html), "--faults", str(faults_file))
    with sandbox_process(*args) as sandbox:
        url, env = sandbox.url, {**sandbox.env, "CAILA_API_KEY": CANARY}
        assert [json.loads(line)["kind"] for line in sandbox.faults] == ["reset", "html", "oversized", "truncated"]
        async with stdio_server(env, state_dir, "--max-response-mb", "1") as (client, errlog):
            datasets = await client.call_tool("caila_list_datasets", {"account": "demo"})
            fit = await client.call_tool(
                "caila_fit_service", {"account": "demo", "model": "text-classifier", "datasetId": 501}
            )
            models = await client.call_tool("tunethemodel_list_models", {})
            pieces = await client.call_tool("pieces_list_models", {})
            pieces_again = await client.call_tool("pieces_list_models", {})
        seen = await anyio.to_thread.run_sync(requests_seen, url)
    assert not datasets.is_error, text_of(datasets)  # the reset, retried: GET is idempotent
    assert [r["status"] for r in seen if r["path"].endswith("/dataset")] == [0, 200]
    assert error_of(fit)["code"] == "invalid_response"
    assert len([r for r in seen if r["path"].endswith("/fit")]) == 1  # a POST is sent once
    too_large = error_of(models)
    assert too_large["code"] == "response_too_large"
    assert file_size(too_large["saved"]["path"]) == too_large["saved"]["size"] > 1024 * 1024
    assert error_of(pieces)["code"] == "invalid_response"
    assert structured(pieces_again)["iterable"]  # served again once the one-off fault is spent
    assert CANARY not in errlog.read_text()
    for result in (datasets, fit, models, pieces):
        assert CANARY not in json.dumps(result.model_dump(mode="json"))


async def test_read_timeout_bounds_the_wait_for_a_slow_answer(state_dir: Path) -> None:
    """`serve --read-timeout 0.5`: an answer held back 3 s is a timeout error after half a second, not a minute.

    (The sandbox process finishes the held answer before it stops: the longer the hold, the longer the test.)"""
    slow = {"backend": "datarobot", "method": "GET", "path": "/executionEnvironments/$", "delay_s": 3, "times": 1}
    with sandbox_process("--speed", "0", "--fault", json.dumps(slow)) as sandbox:
        async with stdio_server(sandbox.env, state_dir, "--read-timeout", "0.5") as (client, _):
            started = anyio.current_time()
            result = await client.call_tool("datarobot_list_execution_environments", {})
            waited = anyio.current_time() - started
    error = error_of(result)
    assert (error["kind"], error["backend"], error["retryable"]) == ("timeout", "datarobot", True)
    assert waited < 2.5, waited  # a read timeout is not retried: the call never waited out the fault


def test_read_timeout_must_be_positive() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "modelops_mcp", "serve", "--read-timeout", "0"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "--read-timeout: must be a number of seconds > 0" in done.stderr
