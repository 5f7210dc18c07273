"""Jobs benchmark: backend polls per job per minute at rest and while watched, the tracker's memory with
10,000 tracked jobs, and the cost of reading a job through MCP next to asking the backend directly.

    python bench/jobs_bench.py [--scale 10] [--jobs 20] [--tracked 10000] [--out bench/results/jobs.json]

`--scale` compresses the poll policy and the measuring window by the same factor (the default 1 s minimum
interval and 30 s maximum become 0.1 s and 3 s at scale 10), so rates are reported per policy minute;
`--scale 1` measures in real time and takes about three minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import tracemalloc
from pathlib import Path
from statistics import median
from typing import Any

import anyio
import httpx
from mcp import Client

from modelops_mcp.config import Limits, Settings
from modelops_mcp.jobs import Job, JobStore
from modelops_mcp.jobs.tracker import PollPolicy, Tracker
from modelops_mcp.redact import Redactor
from modelops_mcp.runtime import load_settings_catalog, open_runtime
from modelops_mcp.sandbox import Sandbox, serve_sandbox
from modelops_mcp.server import build_server

FIT = {"account": "demo", "model": "text-classifier", "datasetId": 501, "configId": 301}


def status_calls(emulators: Sandbox, since: float, until: float) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in emulators.log.entries("caila"):
        if entry.method == "GET" and entry.path.split("/")[-2] == "job" and since <= entry.time < until:
            counts[entry.path] = counts.get(entry.path, 0) + 1
    return counts


async def poll_rates(scale: float, jobs: int) -> dict[str, Any]:
    """Jobs the backend keeps PENDING (the sandbox clock is frozen): how often does each get polled?"""
    limits = Limits(poll_min_interval_s=1.0 / scale, poll_max_s=30.0 / scale)
    emulators = Sandbox(speed=0)
    warmup, window = 70.0 / scale, 120.0 / scale  # the backoff ramp (1+2+4+8+16+30 s) is over by 61 s
    with tempfile.TemporaryDirectory() as state:
        settings = Settings(state_dir=Path(state), limits=limits)
        async with serve_sandbox(emulators) as url, open_runtime(settings, emulators.env(url)) as runtime:
            handles = []
            for _ in range(jobs):
                result = await runtime.executor.call("caila_fit_service", dict(FIT))
                assert not result.is_error, result
                handles.append((result.structured_content or {})["job"]["id"])
            await anyio.sleep(warmup)
            start = time.time()
            async with anyio.create_task_group() as tg:
                # One job is watched the whole window, as an agent in jobs_wait would.
                tg.start_soon(runtime.jobs.wait, handles[0], window)
                await anyio.sleep(window)
            until = time.time()
            watched_path = f"/job/{runtime.jobs.get(handles[0]).remote['jobId']}"
    counts = status_calls(emulators, start, until)
    policy_minutes = window * scale / 60.0
    watched = sum(n for path, n in counts.items() if path.endswith(watched_path))
    at_rest = [n for path, n in counts.items() if not path.endswith(watched_path)]
    at_rest += [0] * (jobs - 1 - len(at_rest))
    return {
        "scale": scale,
        "jobs": jobs,
        "policy": {"min_interval_s": 1.0, "max_interval_s": 30.0},
        "window_policy_minutes": round(policy_minutes, 3),
        "polls_per_job_per_minute_at_rest": {
            "median": round(median(at_rest) / policy_minutes, 2),
            "max": round(max(at_rest) / policy_minutes, 2),
            "expected_steady_state": 60.0 / 30.0,
        },
        "polls_per_minute_watched_job": round(watched / policy_minutes, 2),
        "expected_watched": 60.0 / 1.0,
    }


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def tracker_memory(tracked: int) -> dict[str, Any]:
    """The tracker's own memory once it follows `tracked` unfinished jobs (rows live in SQLite, not in RAM)."""
    with tempfile.TemporaryDirectory() as state:
        store = JobStore(Path(state) / "jobs.sqlite3")
        for index in range(tracked):
            store.insert(
                Job(
                    id=f"bench{index:06d}",
                    backend="caila",
                    operation="caila_fit_service",
                    remote={"account": 1001, "jobId": 100000 + index},
                )
            )
        catalog = load_settings_catalog(Settings(state_dir=Path(state)))

        async def never_called(*_: Any) -> Any:
            raise AssertionError("no poll is due while measuring")

        # A far first poll: this measures what following costs at rest, not a storm of polls.
        policy = PollPolicy(min_interval=3600, initial=3600, max=3600)
        # RSS first, without tracemalloc, whose own bookkeeping would inflate it.
        rss_before = rss_bytes()
        Tracker(store, catalog, never_called, Redactor(), policy).resume()
        rss_after = rss_bytes()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        tracker = Tracker(store, catalog, never_called, Redactor(), policy)
        resumed = tracker.resume()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        store.close()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return {
        "tracked_jobs": resumed,
        "tracemalloc_bytes": grown,
        "bytes_per_job": round(grown / max(resumed, 1), 1),
        "rss_growth_bytes": rss_after - rss_before,  # page-granular; includes reading the ids from SQLite
    }


async def read_cost(rounds: int) -> dict[str, Any]:
    """jobs_get through a real MCP client (in memory) next to one direct GET of the backend's status."""
    emulators = Sandbox(speed=0)
    settings_limits = Limits(poll_min_interval_s=3600, poll_max_s=3600)  # reads within the interval: no polls
    with tempfile.TemporaryDirectory() as state:
        settings = Settings(state_dir=Path(state), limits=settings_limits)
        async with (
            serve_sandbox(emulators) as url,
            open_runtime(settings, emulators.env(url)) as runtime,
            Client(build_server(runtime), mode="legacy") as client,
        ):
            env = emulators.env(url)
            started = await client.call_tool("caila_fit_service", dict(FIT))
            content = started.structured_content or {}
            job_id, remote = content["job"]["id"], content["jobId"]
            status_url = f"{env['CAILA_BASE_URL']}/api/mlpgate/account/1001/job/{remote}"
            async with httpx.AsyncClient(headers={"MLP-API-KEY": env["CAILA_API_KEY"]}) as http:
                direct: list[float] = []
                ours: list[float] = []
                for _ in range(rounds):  # interleaved, so noise on a shared machine hits both alike
                    t0 = time.perf_counter()
                    (await http.get(status_url)).raise_for_status()
                    t1 = time.perf_counter()
                    result = await client.call_tool("jobs_get", {"job_id": job_id})
                    t2 = time.perf_counter()
                    assert not result.is_error
                    direct.append(t1 - t0)
                    ours.append(t2 - t1)
    return {
        "rounds": rounds,
        "direct_status_get_ms_median": round(median(direct) * 1000, 3),
        "jobs_get_ms_median": round(median(ours) * 1000, 3),
        "ratio_jobs_get_to_direct": round(median(ours) / median(direct), 2),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "benchmark": "jobs",
        "python": platform.python_version(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "polls": await poll_rates(args.scale, args.jobs),
        "memory": await tracker_memory(args.tracked),
        "read": await read_cost(args.rounds),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--tracked", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--out", default="bench/results/jobs.json")
    arguments = parser.parse_args()
    results = anyio.run(main, arguments)
    out = Path(arguments.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
