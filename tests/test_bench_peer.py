"""The benchmark's peer (FastMCP's OpenAPI provider, bench/peer.py) serves what the figures assume.

Every peer figure compares it with us on the same operations, so this checks, against the emulators on
loopback: the peer lists exactly one tool per non-internal operation of our documents, named as
`peer_tool_name` says; it calls the backends with the credential header each document declares; and
its stdio, Streamable HTTP and in-memory entry points all answer. Creating bench/.peer-venv takes about
20 s the first time (pip install fastmcp), so the whole test stays well under two minutes.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.support import RunningSandbox

# Opt-in (pyproject deselects both): the first run pip-installs fastmcp into bench/.peer-venv.
pytestmark = [pytest.mark.anyio, pytest.mark.bench, pytest.mark.network]

ROOT = Path(__file__).resolve().parent.parent
# One cheap read per backend that has a credential, and the header each document declares for it.
READS = [
    ("caila", "getDatasets", {"account": "demo"}),
    ("datarobot", "listCustomModels", {}),
    ("tunethemodel", "listModels", {}),
]


def load_peer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_peer", ROOT / "bench" / "peer.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def operations(docs: list[Path]) -> list[tuple[str, str]]:
    """(backend, operationId) of every operation in the peer's documents."""
    found = []
    for path in docs:
        doc = json.loads(path.read_text())
        for item in doc["paths"].values():
            for method, op in item.items():
                if method in ("get", "put", "post", "delete", "patch", "head", "options"):
                    found.append((doc["x-mcp"]["backend"], op["operationId"]))
    return found


def start_http(argv: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """The peer over Streamable HTTP on an ephemeral port: the process and the /mcp URL it printed."""
    proc = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    found = re.search(r"serving Streamable HTTP at (http://127\.0\.0\.1:\d+/mcp)", line)
    if found is None:
        proc.kill()
        proc.wait()
        raise AssertionError(f"no URL from the peer: {line!r}")
    return proc, found[1]


async def call_reads(client: Client, peer: ModuleType) -> None:
    for backend, operation, arguments in READS:
        result = await client.call_tool(peer.peer_tool_name(operation, backend), arguments)
        assert not result.is_error, result.content


async def test_the_peer_serves_our_operations_with_our_auth(sandbox: RunningSandbox, tmp_path: Path) -> None:
    peer = load_peer()
    python = await anyio.to_thread.run_sync(peer.ensure_peer_python)
    docs = peer.peer_documents(tmp_path / "docs")
    env = sandbox.env()

    ours = operations(sorted((ROOT / "src" / "modelops_mcp" / "schemas").glob("*.json")))
    served = operations(docs)
    assert ("datarobot", "getStatus") in ours
    assert ("datarobot", "getStatus") not in served  # x-mcp internal: ours only, never a tool
    expected = {peer.peer_tool_name(op, backend) for backend, op in served}
    assert len(expected) == len(served)

    with anyio.fail_after(90):
        params = StdioServerParameters(command=str(python), args=peer.peer_stdio_command(python, docs)[1:], env=env)
        with tempfile.TemporaryFile("w+") as errlog:
            async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
                assert {tool.name for tool in (await client.list_tools()).tools} == expected
                await call_reads(client, peer)

        # The credential went as each document's security scheme says, with ours' variables.
        last: dict[str, Any] = {entry.backend: entry.headers for entry in sandbox.requests()}
        assert last["caila"]["mlp-api-key"] == env["CAILA_API_KEY"]
        assert last["datarobot"]["authorization"] == f"Bearer {env['DATAROBOT_API_TOKEN']}"
        assert last["tunethemodel"]["authorization"] == env["TTM_API_KEY"]

        proc, url = await anyio.to_thread.run_sync(start_http, peer.peer_http_command(python, docs), env)
        try:
            async with Client(url, mode="legacy") as client:
                assert len((await client.list_tools()).tools) == len(expected)
                await call_reads(client, peer)
        finally:
            proc.kill()
            proc.wait()

        calls = [{"operation_id": op, "backend": backend, "arguments": args} for backend, op, args in READS]
        figures = await anyio.to_thread.run_sync(
            lambda: peer.peer_inmemory_calls(python, docs, env, calls, 3, warmup=1)
        )
    for _, operation, _ in READS:
        assert figures[operation]["n"] == 3
        assert figures[operation]["errors"] == 0
        assert 0 < figures[operation]["p50_ms"] <= figures[operation]["p99_ms"]
