"""Where one call's time goes in our server process: cProfile over `serve` (stdio and Streamable HTTP), for a status
call (Tune the Model `getModelStatus`) and a fit call (Caila `fit`, which starts a job and waits for its first
status poll), with job polling pushed out (`--poll-interval 3600`), bucketed into the parts of a call.

    python bench/profile_call.py [--calls 200] [--quick] [--out bench/results/profile.json]

Each (transport, call) runs in its own server process; only warmed-up calls are profiled (bench/profiled_serve.py
switches cProfile on and off by signal). The buckets are cProfile's cumulative
times of the functions that do each part (CPU while running: a coroutine's time waiting is not counted), per
call, in microseconds; cProfile itself slows Python code about twofold, so read them as shares of the whole.
`sdk_framing_dispatch` is the process's profiled time less our handler and the event loop's idle wait. The
buckets overlap where one part runs inside another (`handler_total` holds most; the fit's first-look poll runs
in the tracker's task group, with its own httpx, parsing and store write).
"""

from __future__ import annotations

import os
import pstats
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import common
import procs
from mcp import Client

STATUS = common.CALLS[0]
FIT = {
    "label": "fit",
    "tool": "caila_fit_service",
    "arguments": {"account": "demo", "model": "text-classifier", "datasetId": 501, "configId": 301},
}
PUSHED_OUT = ("--poll-interval", "3600", "--poll-max", "3600")
# bucket → (file path suffix, function name) whose cumulative time it is; several add up.
BUCKETS: dict[str, list[tuple[str, str]]] = {
    "handler_total": [("surface/tool_handlers.py", "call_tool")],
    "argument_validation": [("calls/validation.py", "check")],
    "request_building": [("calls/request.py", "build_request"), ("http/backends.py", "authorize")],
    "httpx_send_receive": [("http/backends.py", "send")],
    "answer_reading_within_limit": [("http/backends.py", "_read")],
    "answer_parsing": [("calls/response.py", "parse_answer")],
    "redaction": [("core/redact.py", "value")],
    "output_check": [("jsonschema/validators.py", "is_valid")],
    "result_building": [("calls/response.py", "success_result"), ("surface/wire_result.py", "wire_result")],
    "labels_and_session": [("calls/class_labels.py", "labelled"), ("calls/executor.py", "_remember_session")],
    "job_start_and_store_writes": [("jobs/tracker.py", "start")],
    "job_first_look_poll": [("jobs/tracker.py", "first_look")],
    "store_writes": [("jobs/store.py", "insert"), ("jobs/store.py", "save")],
    "sdk_request_validation": [("mcp_types/methods.py", "validate_client_request")],
    "sdk_result_serialization": [("mcp/server/runner.py", "_serialize")],
}
IDLE = [("select.epoll", "poll"), ("selectors.py", "select")]


def cumulative(stats: dict[Any, Any], wanted: list[tuple[str, str]], own: bool = False) -> float:
    total = 0.0
    for (filename, _, name), (_, _, tottime, cumtime, _) in stats.items():
        for suffix, function in wanted:
            if (name == function and filename.endswith(suffix)) or (filename == "~" and suffix in name):
                total += tottime if own else cumtime
    return total


def per_call(profile: Path, calls: int) -> dict[str, float]:
    """Microseconds per call in each bucket, and the process's busy time (all but the event loop's idle wait)."""
    stats: dict[Any, Any] = pstats.Stats(str(profile)).stats  # type: ignore[attr-defined]
    out = {name: cumulative(stats, wanted) / calls * 1e6 for name, wanted in BUCKETS.items()}
    whole = sum(tottime for (_, _, tottime, _, _) in stats.values())
    out["process_busy_total"] = (whole - cumulative(stats, IDLE, own=True)) / calls * 1e6
    # httpx's own time is the send less reading the answer within the limit (which `send` does).
    out["httpx_send_receive"] -= out["answer_reading_within_limit"]
    out["sdk_framing_dispatch"] = out["process_busy_total"] - out["handler_total"]
    return {name: round(value, 1) for name, value in out.items()}


def serve_command(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).with_name("profiled_serve.py")), "serve", *args, *PUSHED_OUT]


def dump_profile(pid: int, out: Path, timeout: float = 30) -> None:
    os.kill(pid, signal.SIGUSR2)
    deadline = time.monotonic() + timeout
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # the file appears before it is whole


async def mcp_calls(client: Client, call: dict[str, Any], count: int) -> None:
    for _ in range(count):
        result = await client.call_tool(call["tool"], call["arguments"])
        if result.is_error:
            raise RuntimeError(f"{call['tool']} failed: {result.content}")


def rpc_calls(rpc: common.StdioRpc, call: dict[str, Any], count: int) -> None:
    for _ in range(count):
        result = rpc.request("tools/call", {"name": call["tool"], "arguments": call["arguments"]})
        if result.get("isError"):
            raise RuntimeError(f"{call['tool']} failed: {result}")


def profile_run(transport: str, env: dict[str, str], call: dict[str, Any], count: int, warmup: int) -> dict[str, float]:
    """One server process: `warmup` calls, then `count` calls with the profiler on."""
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        out = Path(tmp) / "out.prof"
        server_env = {**common.server_env(env, Path(tmp) / "state"), "BENCH_PROFILE_OUT": str(out)}
        before = set(procs.children())
        if transport == "stdio":
            with common.StdioRpc(serve_command(), server_env) as rpc:
                pid = procs.new_child(before)
                rpc.initialize()
                rpc_calls(rpc, call, warmup)
                os.kill(pid, signal.SIGUSR1)
                rpc_calls(rpc, call, count)
                dump_profile(pid, out)
        else:
            http_args = ("--transport", "http", "--port", "0", "--no-auth")
            with common.http_server(serve_command(*http_args), server_env) as url:
                pid = procs.new_child(before)

                async def calls() -> None:
                    async with Client(url, mode="legacy") as client:
                        await mcp_calls(client, call, warmup)
                        os.kill(pid, signal.SIGUSR1)
                        await mcp_calls(client, call, count)
                        dump_profile(pid, out)

                anyio.run(calls)
        return per_call(out, count)


def main() -> None:
    p = common.parser("profile", __doc__)
    p.add_argument("--calls", type=int, default=200, help="profiled calls per (transport, call)")
    args = p.parse_args()
    count, warmup = (20, 3) if args.quick else (args.calls, 20)
    results: dict[str, Any] = {
        "benchmark": "profile",
        "machine": common.machine(),
        "calls_each": count,
        "unit": "microseconds per call, cProfile cumulative (about 2x slower than unprofiled)",
        "note": "profiled after warm-up calls (bench/profiled_serve.py switches cProfile on and off by signal)",
    }
    with common.sandbox_process() as (_, env):
        for transport in ("stdio", "http"):
            for call in (STATUS, FIT):
                results[f"{transport}_{call['label']}"] = profile_run(transport, env, call, count, warmup)
    common.write_results(results, args.out)


if __name__ == "__main__":
    main()
