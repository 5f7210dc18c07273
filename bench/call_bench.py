"""Per-call overhead: sequential calls of one GET tool and one POST tool, through our server (the mcp SDK's
`Client` in memory and over stdio), through the peer (FastMCP's OpenAPI provider on the same documents, in
memory and over stdio), and as the same HTTP requests made directly with httpx — all against one sandbox
process, in one run.

    python bench/call_bench.py [--rounds 1000] [--blocks 4] [--quick] [--no-peer] [--out bench/results/calls.json]

The tools: Tune the Model's `getModelStatus` (GET /v0/models/{id}/status) and `classify` (POST
/v0/models/{id}/classify) on the sandbox's public classifier, which is always Ready — both cheap, read-only,
and neither starts a job. "added" is p50(path) - p50(direct): what a server adds to the HTTP call it makes.

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
import httpx
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from modelops_mcp.app.runtime import open_runtime
from modelops_mcp.settings.config import Settings
from modelops_mcp.surface.server import build_server

TARGET_ADDED_RATIO = 0.5
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
    with (
        common.sandbox_process() as (_, env),
        common.peer_or_none(args.no_peer) as (peer, why_no_peer),
        tempfile.TemporaryDirectory(prefix="bench-state-") as state,
        common.devnull() as devnull,
    ):
        async with contextlib.AsyncExitStack() as stack:
            http = await stack.enter_async_context(
                httpx.AsyncClient(base_url=env["TTM_API_URL"], headers={"Authorization": env["TTM_API_KEY"]})
            )
            runtime = await stack.enter_async_context(open_runtime(Settings(state_dir=Path(state) / "mem"), env))
            in_memory = await stack.enter_async_context(Client(build_server(runtime), mode="legacy"))
            ours_stdio = await stack.enter_async_context(
                Client(
                    stdio_transport(common.serve_command(), common.server_env(env, Path(state) / "stdio"), devnull),
                    mode="legacy",
                )
            )
            paths: dict[str, Caller] = {
                "direct": direct_caller(http),
                "ours_memory": mcp_caller(in_memory, lambda c: c["tool"]),
                "ours_stdio": mcp_caller(ours_stdio, lambda c: c["tool"]),
            }
            if peer is not None:
                peer_stdio = await stack.enter_async_context(
                    Client(stdio_transport(peer.stdio_command(), {**os.environ, **env}, devnull), mode="legacy")
                )
                paths["peer_stdio"] = mcp_caller(peer_stdio, lambda c: peer.tool_name(c["operation_id"], c["backend"]))
            for call in paths.values():
                for _ in range(warmup):
                    for spec in common.CALLS:
                        await call(spec)
            samples = {name: {c["label"]: [] for c in common.CALLS} for name in paths}
            names = [*paths, *(["peer_memory"] if peer is not None else [])]
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
                    for _ in range(per_block):
                        for spec in common.CALLS:  # GET and POST alternate, so both see the same moments
                            start = time.perf_counter()
                            await paths[name](spec)
                            samples[name][spec["label"]].append(time.perf_counter() - start)
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
    results["ratio_added_ours_to_peer"] = {}
    for transport in ("memory", "stdio"):
        ours, theirs = added.get(f"ours_{transport}"), added.get(f"peer_{transport}")
        if ours and theirs:
            results["ratio_added_ours_to_peer"][transport] = {
                label: common.ratio(ours[label], theirs[label]) for label in ours
            }
    results["target_added_ratio"] = TARGET_ADDED_RATIO
    if peer is None:
        results["peer"] = {"skipped": why_no_peer}
    else:
        results["peer_version"] = peer.version
        results["peer_tools"] = {c["label"]: peer.tool_name(c["operation_id"], c["backend"]) for c in common.CALLS}
    return results


def main() -> None:
    p = common.parser("calls", __doc__)
    p.add_argument("--rounds", type=int, default=1000, help="calls of each tool per path")
    p.add_argument("--blocks", type=int, default=4, help="the paths take turns this many times")
    args = p.parse_args()
    common.write_results(anyio.run(run, args), args.out)


if __name__ == "__main__":
    main()
