"""The command line: tools, sandbox and serve's refusal of a malformed schema (the demo: tests/test_demo_cli.py)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support import BACKEND_TOOLS, CAILA_TOOLS, JOB_TOOLS

CLI = [sys.executable, "-m", "modelops_mcp"]


def run(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL
    )


# `tools --sandbox` lists what `serve --sandbox` does: every backend (a plain `tools` lists the configured ones).
def test_tools_lists_the_five_caila_tools_with_method_path_and_summary() -> None:
    done = run("tools", "--sandbox")
    assert done.returncode == 0, done.stderr
    names = re.findall(r"^(caila_\w+)\s+(GET|POST)\s+(/\S+)$", done.stdout, re.MULTILINE)
    assert {n for n, _, _ in names} == CAILA_TOOLS
    assert ("caila_list_datasets", "GET", "/api/mlpgate/account/{account}/dataset") in names
    assert "List the datasets of a Caila account." in done.stdout


def test_tools_json_prints_the_mcp_tool_definitions_tools_list_answers() -> None:
    done = run("tools", "--json", "--sandbox")
    assert done.returncode == 0, done.stderr
    tools = json.loads(done.stdout)
    assert {t["name"] for t in tools} == BACKEND_TOOLS | JOB_TOOLS
    fit = next(t for t in tools if t["name"] == "caila_fit_service")
    assert fit["inputSchema"]["required"] == ["account", "model", "datasetId"]
    assert fit["annotations"]["readOnlyHint"] is False
    assert "outputSchema" in fit


def test_a_malformed_schema_stops_the_start_naming_file_and_pointer(tmp_path: Path) -> None:
    bad = tmp_path / "mine.json"
    bad.write_text(json.dumps({"openapi": "3.1.0", "x-mcp": {"backend": "Mine!"}}))
    for args in (["tools", "--schema", str(bad)], ["serve", "--schema", str(bad), "--state-dir", str(tmp_path)]):
        done = run(*args)
        assert done.returncode == 2
        assert "mine.json#/x-mcp/backend:" in done.stderr
        assert "Traceback" not in done.stderr
        assert done.stdout == ""


def test_an_extra_schema_adds_its_tools(tmp_path: Path) -> None:
    from tests.test_catalog import minimal_document

    path = tmp_path / "toy.json"
    path.write_text(json.dumps(minimal_document()))
    done = run("tools", "--sandbox", "--schema", str(path))
    assert done.returncode == 0, done.stderr
    assert "toy_rename_item" in done.stdout
    assert "caila_fit_service" in done.stdout


def test_sandbox_prints_paste_ready_exports_and_serves_until_interrupted(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*CLI, "sandbox", "--port", "0", "--speed", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        exports = dict(re.findall(r"^export (\w+)=(\S+)$", "".join(lines), re.MULTILINE))
        assert set(exports) == {"CAILA_BASE_URL", "CAILA_API_KEY"}
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/caila", exports["CAILA_BASE_URL"])
        answer = httpx.get(
            exports["CAILA_BASE_URL"] + "/api/mlpgate/account/demo/dataset",
            headers={"MLP-API-KEY": exports["CAILA_API_KEY"]},
        )
        assert answer.status_code == 200
        assert [d["name"] for d in answer.json()] == ["support-tickets", "product-reviews", "broken-labels"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
    assert proc.returncode == 0
