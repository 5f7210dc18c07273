"""Time sequential tool calls on the peer (FastMCP's OpenAPI provider) through an in-memory client.

Runs inside the peer virtualenv. Reads a JSON job on stdin, prints a JSON result on stdout:

    {"docs": [...], "rounds": N, "warmup": W, "client": "mcp" | "fastmcp",
     "calls": [{"key": "...", "tool": "...", "arguments": {...}}, ...]}
    -> {key: {"p50_ms", "p99_ms", "n", "errors", "tool"}, ...}

The sandbox URLs and keys come from the environment, as for `peer_server.py`.

By default the client is the mcp SDK's `Client(lowlevel_server, mode="legacy")`, the very client our
in-memory figures use, so both sides pay the same client-side cost and the difference is the server's;
the server's lifespan is entered as FastMCP's own in-memory transport does. `"client": "fastmcp"`
uses `fastmcp.Client(server)` instead, whose `call_tool` also turns structured results into Python
objects on the client side.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import anyio

# Only through peer_server, which sets fastmcp's settings (log level, no banner) before importing it.
from peer_server import FastMCP, build_server

Call = Callable[[str, dict[str, Any]], Awaitable[bool]]  # (tool, arguments) -> is_error


def percentile(values: list[float], q: float) -> float:
    """Nearest rank on the sorted sample (no interpolation: p99 of 1000 is the 990th value)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@asynccontextmanager
async def connect(server: FastMCP, kind: str) -> AsyncIterator[Call]:
    if kind == "fastmcp":
        from fastmcp import Client as FastMCPClient

        async with FastMCPClient(server) as fc:

            async def call_fastmcp(tool: str, arguments: dict[str, Any]) -> bool:
                return (await fc.call_tool(tool, arguments, raise_on_error=False)).is_error

            yield call_fastmcp
        return
    from mcp import Client

    # FastMCPTransport does the same: the server's lifespan (its providers' clients) around the session.
    async with server._lifespan_manager(), Client(server._mcp_server, mode="legacy") as mc:

        async def call_mcp(tool: str, arguments: dict[str, Any]) -> bool:
            return bool((await mc.call_tool(tool, arguments)).is_error)

        yield call_mcp


async def run(job: dict[str, Any]) -> dict[str, Any]:
    server = build_server([Path(p) for p in job["docs"]])
    calls: list[dict[str, Any]] = job["calls"]
    times: dict[str, list[float]] = {c["key"]: [] for c in calls}
    errors: dict[str, int] = {c["key"]: 0 for c in calls}
    deadline = time.monotonic() + float(job.get("max_seconds", 600))
    async with connect(server, job.get("client", "mcp")) as call:
        for _ in range(int(job.get("warmup", 10))):
            for c in calls:
                await call(c["tool"], c["arguments"])
        # Round-robin over the calls, so slow phases of a shared machine hit every call alike.
        for _ in range(int(job["rounds"])):
            if time.monotonic() > deadline:
                break
            for c in calls:
                start = time.perf_counter()
                failed = await call(c["tool"], c["arguments"])
                times[c["key"]].append((time.perf_counter() - start) * 1000.0)
                errors[c["key"]] += int(failed)
    return {
        c["key"]: {
            "tool": c["tool"],
            "p50_ms": round(percentile(times[c["key"]], 0.50), 4) if times[c["key"]] else None,
            "p99_ms": round(percentile(times[c["key"]], 0.99), 4) if times[c["key"]] else None,
            "n": len(times[c["key"]]),
            "errors": errors[c["key"]],
        }
        for c in calls
    }


def main() -> None:
    job = json.load(sys.stdin)
    print(json.dumps(anyio.run(run, job)))


if __name__ == "__main__":
    main()
