"""Streamable HTTP throughput: our `serve --transport http` and the peer's HTTP server (FastMCP's OpenAPI
provider on the same documents), each against one sandbox process, with 1, 8 and 64 concurrent MCP client
sessions, each session calling the GET tool back to back for a fixed time: calls/s and latency p50/p99.

    python bench/http_bench.py [--seconds 10] [--levels 1,8,64] [--max-calls 20000] [--quick] [--no-peer]
                               [--out bench/results/http.json]

The sessions (the mcp SDK's `Client("http://.../mcp")`) are opened and warmed before the clock starts; a
level ends at its time or after `--max-calls` calls, whichever is first. The clients run in this one
process on the same (2-core) machine as the server and the sandbox, so absolute calls/s are bounded by the
whole machine; what compares the servers is the ratio at each level, measured back to back (the order of
the two servers alternates from level to level).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from typing import Any

import anyio
import common
from mcp import Client

GET = common.CALLS[0]
TARGET_RATIO = 2.0  # ours calls/s at least twice the peer's


async def run_level(url: str, tool: str, sessions: int, seconds: float, max_calls: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(Client(url, mode="legacy")) for _ in range(sessions)]
        for client in clients:  # warm: each session's first call pays for its connection
            await client.call_tool(tool, GET["arguments"])
        start = time.perf_counter()
        deadline = start + seconds

        async def worker(client: Client) -> None:
            nonlocal errors
            while time.perf_counter() < deadline and len(latencies) < max_calls:
                t0 = time.perf_counter()
                result = await client.call_tool(tool, GET["arguments"])
                latencies.append(time.perf_counter() - t0)
                errors += int(bool(result.is_error))

        async with anyio.create_task_group() as tg:
            for client in clients:
                tg.start_soon(worker, client)
        elapsed = time.perf_counter() - start
    stats = common.stats_ms(latencies)
    return {
        "sessions": sessions,
        "seconds": round(elapsed, 3),
        "calls": len(latencies),
        "errors": errors,
        "calls_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": stats.get("p50_ms"),
        "p99_ms": stats.get("p99_ms"),
    }


async def run(args: Any) -> dict[str, Any]:
    seconds = 1.0 if args.quick else args.seconds
    levels = [int(x) for x in args.levels.split(",")]
    if args.quick:
        levels = [n for n in levels if n <= 8] or [1]
    results: dict[str, Any] = {
        "benchmark": "http",
        "machine": common.machine(),
        "tool": {k: GET[k] for k in ("tool", "operation_id", "method", "path")},
        "seconds_per_level": seconds,
        "max_calls_per_level": args.max_calls,
    }
    ours: dict[str, Any] = {}
    theirs: dict[str, Any] = {}
    with (
        common.sandbox_process() as (_, env),
        common.peer_or_none(args.no_peer) as (peer, why_no_peer),
        tempfile.TemporaryDirectory(prefix="bench-state-") as state,
        contextlib.ExitStack() as stack,
    ):
        ours_url = stack.enter_context(
            common.http_server(common.serve_command(transport="http"), common.server_env(env, state))
        )
        servers: dict[str, tuple[str, str, dict[str, Any]]] = {"ours": (ours_url, GET["tool"], ours)}
        if peer is not None:
            peer_url = stack.enter_context(common.http_server(peer.http_command(), common.server_env(env, state)))
            servers["peer"] = (peer_url, peer.tool_name(GET["operation_id"], GET["backend"]), theirs)
        for index, sessions in enumerate(levels):
            order = list(servers) if index % 2 == 0 else list(reversed(servers))
            for name in order:
                url, tool, into = servers[name]
                into[str(sessions)] = await run_level(url, tool, sessions, seconds, args.max_calls)
    results["ours"] = ours
    if peer is None:
        results["peer"] = {"skipped": why_no_peer}
    else:
        results["peer"] = theirs
        results["peer_version"] = peer.module.installed_version(peer.python)
        results["ratio_calls_per_s_ours_to_peer"] = {
            level: common.ratio(ours[level]["calls_per_s"], theirs[level]["calls_per_s"]) for level in ours
        }
        results["ratio_p99_ours_to_peer"] = {
            level: common.ratio(ours[level]["p99_ms"], theirs[level]["p99_ms"]) for level in ours
        }
        results["target_calls_per_s_ratio"] = TARGET_RATIO
    return results


def main() -> None:
    p = common.parser("http", __doc__)
    p.add_argument("--seconds", type=float, default=10.0, help="duration of each level, per server")
    p.add_argument("--levels", default="1,8,64", help="concurrent sessions, comma-separated")
    p.add_argument("--max-calls", type=int, default=20000, help="cap on calls per level, per server")
    args = p.parse_args()
    common.write_results(anyio.run(run, args), args.out)


if __name__ == "__main__":
    main()
