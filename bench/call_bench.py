"""Per-call overhead: sequential calls of one GET tool and one POST tool, through our server (the mcp SDK's
`Client` in memory, over stdio and over Streamable HTTP with one session), through the peer (FastMCP's OpenAPI
provider on the same documents: in memory, stdio, HTTP), through the floor (bench/floor_server.py: the SDK's bare
low-level `Server` making the same request: stdio, HTTP), and as the same HTTP requests made directly with
httpx — all against one sandbox process, in one run.

    python bench/call_bench.py [--rounds 600] [--blocks 4] [--quick] [--no-peer] [--out bench/results/calls.json]

The tools: Tune the Model's `getModelStatus` (GET /v0/models/{id}/status: a status call) and `classify` (POST
/v0/models/{id}/classify: a call with a JSON body) on the sandbox's public classifier, which is always Ready —
both cheap, read-only, and neither starts a job, so no job polling runs during the timed calls: the figures are
each server's own layer alone. "added" is p50(path) - p50(direct): what a server adds to the HTTP call it makes.
"server CPU per call" is the CPU time (user + system, from /proc) of the server's process over its timed calls,
divided by their number (subprocess paths only).

Every path is warmed up first. The rounds are split into blocks and the paths take turns block by block
(in a rotating order), so noise on the shared machine is spread over all of them. The peer in memory runs
in its own venv's process (bench/peer_inmemory.py), which reports p50/p99 per block; its figures are the
medians of those.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from statistics import median
from typing import Any

import anyio
import anyio.to_thread
import common
import floor_server
import httpx
import procs
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from modelops_mcp.app.runtime import open_runtime
from modelops_mcp.settings.config import Settings
from modelops_mcp.surface.server import build_server

# Issue 20's targets: added latency at most 0.6 of the peer's and 1.3 of the floor's; CPU per call 0.6 of the peer's.
TARGET_ADDED_TO_PEER = 0.6
TARGET_ADDED_TO_FLOOR = 1.3
TARGET_CPU_TO_PEER = 0.6
TRANSPORTS = ("memory", "stdio", "http")
Caller = Callable[[dict[str, Any]], Awaitable[None]]


def mcp_caller(client: Client, name_of: Callable[[dict[str, Any]], str]) -> Caller:
    async def call(spec: dict[str, Any]) -> None:
        result = await client.call_tool(name_of(spec), spec["arguments"])
        if result.is_error:
            raise RuntimeError(f"{name_of(spec)} answered an error: {result.content}")

    return call


def direct_caller(http: httpx.AsyncClient) -> Caller:
    async def call(spec: dict[str, Any]) -> None:
        body = {k: v for k, v in spec["arguments"].items() if k != "model_id"}
        response = await http.request(spec["method"], spec["path"], json=body if spec["method"] == "POST" else None)
        response.raise_for_status()
        response.json()  # a server parses the answer too

    return call


def stdio_transport(cmd: list[str], env: dict[str, str], errlog: Any) -> Any:
    # stdio_client rather than Client(StdioServerParameters): its errlog keeps servers' stderr off the output.
    return stdio_client(StdioServerParameters(command=cmd[0], args=cmd[1:], env=env), errlog=errlog)


class Servers:
    """Opens each server's client and remembers the server's pid (a child of this process) for its CPU time."""

    def __init__(self, stack: contextlib.AsyncExitStack, sync_stack: contextlib.ExitStack, devnull: Any) -> None:
        self.stack, self.sync_stack, self.devnull = stack, sync_stack, devnull
        self.pids: dict[str, int] = {}

    async def stdio(self, name: str, cmd: list[str], env: dict[str, str]) -> Client:
        before = set(procs.children())
        client = await self.stack.enter_async_context(Client(stdio_transport(cmd, env, self.devnull), mode="legacy"))
        self.pids[name] = procs.new_child(before)
        return client

    async def http(self, name: str, cmd: list[str], env: dict[str, str]) -> Client:
        before = set(procs.children())
        url = self.sync_stack.enter_context(common.http_server(cmd, env))
        self.pids[name] = procs.new_child(before)
        return await self.stack.enter_async_context(Client(url, mode="legacy"))


def added_ratios(added: dict[str, dict[str, float]], theirs: str) -> dict[str, dict[str, float | None]]:
    """ours_<transport> added / <theirs>_<transport> added, per transport and call."""
    ratios: dict[str, dict[str, float | None]] = {}
    for transport in TRANSPORTS:
        ours, other = added.get(f"ours_{transport}"), added.get(f"{theirs}_{transport}")
        if ours and other:
            ratios[transport] = {label: common.ratio(ours[label], other[label]) for label in ours}
    return ratios


async def run(args: Any) -> dict[str, Any]:
    rounds = 50 if args.quick else args.rounds
    blocks = 2 if args.quick else max(1, args.blocks)
    warmup = 5 if args.quick else 50
    per_block = max(1, rounds // blocks)
    results: dict[str, Any] = {
        "benchmark": "calls",
        "machine": common.machine(),
        "rounds_per_tool": per_block * blocks,
        "blocks": blocks,
        "calls": {c["label"]: {k: c[k] for k in ("tool", "operation_id", "method", "path")} for c in common.CALLS},
    }
    samples: dict[str, dict[str, list[float]]] = {}
    peer_blocks: list[dict[str, Any]] = []
    cpu: dict[str, float] = {}
    with (
        common.sandbox_process() as (_, env),
        common.peer_or_none(args.no_peer) as (peer, why_no_peer),
        tempfile.TemporaryDirectory(prefix="bench-state-") as state,
        common.devnull() as devnull,
        contextlib.ExitStack() as sync_stack,
    ):
        async with contextlib.AsyncExitStack() as stack:
            servers = Servers(stack, sync_stack, devnull)
            http = await stack.enter_async_context(
                httpx.AsyncClient(base_url=env["TTM_API_URL"], headers={"Authorization": env["TTM_API_KEY"]})
            )
            runtime = await stack.enter_async_context(open_runtime(Settings(state_dir=Path(state) / "mem"), env))
            in_memory = await stack.enter_async_context(Client(build_server(runtime), mode="legacy"))
            ours_name: Callable[[dict[str, Any]], str] = lambda c: c["tool"]  # noqa: E731  (the floor's too)
            plain_env = {**os.environ, **env}
            paths: dict[str, Caller] = {
                "direct": direct_caller(http),
                "ours_memory": mcp_caller(in_memory, ours_name),
            }
            ours_stdio = common.serve_command()
            paths["ours_stdio"] = mcp_caller(
                await servers.stdio("ours_stdio", ours_stdio, common.server_env(env, Path(state) / "stdio")),
                ours_name,
            )
            ours_http = common.serve_command(transport="http")
            paths["ours_http"] = mcp_caller(
                await servers.http("ours_http", ours_http, common.server_env(env, Path(state) / "http")), ours_name
            )
            paths["floor_stdio"] = mcp_caller(
                await servers.stdio("floor_stdio", floor_server.command("stdio"), plain_env), ours_name
            )
            paths["floor_http"] = mcp_caller(
                await servers.http("floor_http", floor_server.command("http"), plain_env), ours_name
            )
            # What the SDK's HTTP transport costs without its per-request SSE stream (not a target: a reference).
            paths["floorjson_http"] = mcp_caller(
                await servers.http("floorjson_http", floor_server.command("http", json_response=True), plain_env),
                ours_name,
            )
            if peer is not None:
                peer_name: Callable[[dict[str, Any]], str] = lambda c: peer.tool_name(c["operation_id"], c["backend"])  # noqa: E731
                paths["peer_stdio"] = mcp_caller(
                    await servers.stdio("peer_stdio", peer.stdio_command(), plain_env), peer_name
                )
                paths["peer_http"] = mcp_caller(
                    await servers.http("peer_http", peer.http_command(), plain_env), peer_name
                )
            for call in paths.values():
                for _ in range(warmup):
                    for spec in common.CALLS:
                        await call(spec)
            samples = {name: {c["label"]: [] for c in common.CALLS} for name in paths}
            names = [*paths, *(["peer_memory"] if peer is not None else [])]
            cpu = {name: 0.0 for name in servers.pids}
            for block in range(blocks):
                shift = block % len(names)
                for name in names[shift:] + names[:shift]:
                    if name == "peer_memory":
                        assert peer is not None
                        block_figures = await anyio.to_thread.run_sync(
                            lambda: peer.inmemory_calls(env, common.CALLS, per_block)
                        )
                        peer_blocks.append(block_figures)
                        continue
                    pid = servers.pids.get(name)
                    cpu_before = procs.cpu_seconds(pid) if pid else 0.0
                    for _ in range(per_block):
                        for spec in common.CALLS:  # GET and POST alternate, so both see the same moments
                            start = time.perf_counter()
                            await paths[name](spec)
                            samples[name][spec["label"]].append(time.perf_counter() - start)
                    if pid:
                        cpu[name] += procs.cpu_seconds(pid) - cpu_before
    figures: dict[str, dict[str, Any]] = {
        name: {label: common.stats_ms(values) for label, values in per_label.items()}
        for name, per_label in samples.items()
    }
    if peer_blocks:
        figures["peer_memory"] = {}
        for spec in common.CALLS:
            per = [b[spec["operation_id"]] for b in peer_blocks]
            figures["peer_memory"][spec["label"]] = {
                "n": sum(b["n"] for b in per),
                "errors": sum(b["errors"] for b in per),
                "p50_ms": round(median(b["p50_ms"] for b in per), 3),
                "p99_ms": round(median(b["p99_ms"] for b in per), 3),
                "combined_from_blocks": len(per),
            }
    results["paths"] = figures
    added: dict[str, dict[str, float]] = {}
    for name, per_label in figures.items():
        if name == "direct":
            continue
        added[name] = {
            label: round(stats["p50_ms"] - figures["direct"][label]["p50_ms"], 3) for label, stats in per_label.items()
        }
    results["added_p50_ms"] = added
    results["ratio_added_ours_to_peer"] = added_ratios(added, "peer")
    results["ratio_added_ours_to_floor"] = added_ratios(added, "floor")
    calls_timed = per_block * blocks * len(common.CALLS)
    results["server_cpu_ms_per_call"] = {name: round(seconds / calls_timed * 1000, 3) for name, seconds in cpu.items()}
    per_call = results["server_cpu_ms_per_call"]
    results["ratio_cpu_ours_to_peer"] = {
        t: common.ratio(per_call[f"ours_{t}"], per_call[f"peer_{t}"])
        for t in ("stdio", "http")
        if f"peer_{t}" in per_call
    }
    results["ratio_cpu_ours_to_floor"] = {
        t: common.ratio(per_call[f"ours_{t}"], per_call[f"floor_{t}"]) for t in ("stdio", "http")
    }
    results["targets"] = {
        "added_to_peer": TARGET_ADDED_TO_PEER,
        "added_to_floor": TARGET_ADDED_TO_FLOOR,
        "cpu_to_peer": TARGET_CPU_TO_PEER,
    }
    if peer is None:
        results["peer"] = {"skipped": why_no_peer}
    else:
        results["peer_version"] = peer.module.installed_version(peer.python)
        results["peer_tools"] = {c["label"]: peer.tool_name(c["operation_id"], c["backend"]) for c in common.CALLS}
    return results


def main() -> None:
    p = common.parser("calls", __doc__)
    p.add_argument("--rounds", type=int, default=600, help="calls of each tool per path")
    p.add_argument("--blocks", type=int, default=4, help="the paths take turns this many times")
    args = p.parse_args()
    common.write_results(anyio.run(run, args), args.out)


if __name__ == "__main__":
    main()
