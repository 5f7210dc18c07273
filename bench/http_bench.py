"""Streamable HTTP throughput: our `serve --transport http`, the peer's HTTP server (FastMCP's OpenAPI provider on
the same documents) and the floor (bench/floor_server.py: the SDK's bare low-level `Server` making the same
request), each against one sandbox process, with 1, 8 and 64 concurrent MCP client sessions, each session calling
the GET tool back to back for a fixed time: calls/s, latency p50/p99, and the server process's CPU seconds per
call (from /proc) and per second of the level.

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
import floor_server
import procs
from mcp import Client

GET = common.CALLS[0]
TARGET_RATIO = 1.5  # ours calls/s at least 1.5 times the peer's at 8 and 64 sessions (issue 20)


async def run_level(url: str, tool: str, sessions: int, seconds: float, max_calls: int, pid: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(Client(url, mode="legacy")) for _ in range(sessions)]
        for client in clients:  # warm: each session's first call pays for its connection
            await client.call_tool(tool, GET["arguments"])
        cpu_before = procs.cpu_seconds(pid)
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
        cpu = procs.cpu_seconds(pid) - cpu_before
    stats = common.stats_ms(latencies)
    return {
        "sessions": sessions,
        "seconds": round(elapsed, 3),
        "calls": len(latencies),
        "errors": errors,
        "calls_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": stats.get("p50_ms"),
        "p99_ms": stats.get("p99_ms"),
        "server_cpu_ms_per_call": round(cpu / len(latencies) * 1000, 3) if latencies else None,
        "server_cores": round(cpu / elapsed, 3),
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
    floor: dict[str, Any] = {}
    with (
        common.sandbox_process() as (_, env),
        common.peer_or_none(args.no_peer) as (peer, why_no_peer),
        tempfile.TemporaryDirectory(prefix="bench-state-") as state,
        contextlib.ExitStack() as stack,
    ):
        servers: dict[str, tuple[str, str, dict[str, Any], int]] = {}

        def start(name: str, cmd: list[str], tool: str, into: dict[str, Any]) -> None:
            before = set(procs.children())
            url = stack.enter_context(common.http_server(cmd, common.server_env(env, state)))
            servers[name] = (url, tool, into, procs.new_child(before))

        start("ours", common.serve_command(transport="http"), GET["tool"], ours)
        start("floor", floor_server.command("http"), GET["tool"], floor)
        if peer is not None:
            start("peer", peer.http_command(), peer.tool_name(GET["operation_id"], GET["backend"]), theirs)
        for index, sessions in enumerate(levels):
            names = list(servers)
            shift = index % len(names)  # the order rotates from level to level
            for name in names[shift:] + names[:shift]:
                url, tool, into, pid = servers[name]
                into[str(sessions)] = await run_level(url, tool, sessions, seconds, args.max_calls, pid)
    results["ours"] = ours
    results["floor"] = floor
    results["ratio_calls_per_s_ours_to_floor"] = {
        level: common.ratio(ours[level]["calls_per_s"], floor[level]["calls_per_s"]) for level in ours
    }
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
        results["ratio_calls_per_s_floor_to_peer"] = {
            level: common.ratio(floor[level]["calls_per_s"], theirs[level]["calls_per_s"]) for level in ours
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
