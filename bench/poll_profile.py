"""Where a status poll's CPU goes: the tracker's poll of one job next to the bare httpx GET it makes.

    python bench/poll_profile.py [--jobs 2000] [--rounds 3] [--profile] [--out bench/results/poll_profile.json]

The sandbox (clock frozen: every fit stays PENDING) runs on its own thread and loop, so this thread's CPU
(`time.thread_time`) is the poll's alone: `--jobs` unfinished Caila fits are polled one after another
(`Tracker.refresh`, the path a scheduled poll takes: adapter, executor, httpx, store, notifications), and
the same status URLs are fetched with a bare `httpx.AsyncClient`, alternating in blocks. `--profile` prints
the poll path's cProfile (thread CPU) to stderr. Guides issue 20 item 5; `jobs_bench.py`'s `at_scale` is
the figure at 10,000 jobs in a real server process.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

import anyio
import common
import httpx

from modelops_mcp.app.runtime import open_runtime
from modelops_mcp.calls.executor import Calls
from modelops_mcp.jobs import JobStore
from modelops_mcp.jobs.polling import PollPolicy
from modelops_mcp.jobs.tracker import Tracker
from modelops_mcp.settings.config import Limits, Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from jobs_bench import seed_jobs, status_urls
from tests.support import sandbox_in_thread


async def measure(jobs: int, rounds: int, profile: bool) -> dict[str, Any]:
    limits = Limits(poll_min_interval_s=3600, poll_max_s=3600)
    with sandbox_in_thread() as sandbox, tempfile.TemporaryDirectory() as tmp:
        env = sandbox.env()
        state = Path(tmp)
        ids = seed_jobs(sandbox.emulators, state / "jobs", jobs, env["CAILA_BASE_URL"])
        urls = status_urls(env, sandbox.emulators, ids, state / "jobs")
        async with (
            open_runtime(Settings(state_dir=state / "runtime", limits=limits), env) as runtime,
            httpx.AsyncClient(headers={"MLP-API-KEY": env["CAILA_API_KEY"]}) as http,
        ):
            # The runtime's own parts, with a tracker of these jobs whose scheduler does not run: only the
            # polls below happen (the runtime's tracker follows an empty store).
            store = JobStore(state / "jobs" / "jobs.sqlite3")
            policy = PollPolicy(min_interval=0.001, initial=3600, max=3600)
            executor = runtime.executor.executor
            tracker = Tracker(store, runtime.catalog, Calls(executor), runtime.redactor, policy, executor.base_url)
            tracker.resume()
            await tracker.refresh(ids[0])
            await http.get(urls[0])
            poll_ms, get_ms = [], []
            profiler = cProfile.Profile(time.thread_time) if profile else None
            for _ in range(rounds):
                t = time.thread_time()
                for url in urls:
                    (await http.get(url)).raise_for_status()
                get_ms.append((time.thread_time() - t) / len(urls) * 1000)
                await anyio.sleep(0.002)  # past the minimum interval: each refresh polls
                if profiler:
                    profiler.enable()
                t = time.thread_time()
                for job_id in ids:
                    await tracker.refresh(job_id)
                poll_ms.append((time.thread_time() - t) / len(ids) * 1000)
                if profiler:
                    profiler.disable()
            store.close()
            polls = sum(1 for e in sandbox.requests("caila") if e.method == "GET" and "/job/" in e.path)
    if profiler:
        shown = r"modelops_mcp|httpx/_models|httpx/_client|pydantic|jsonschema|sqlite"
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(shown, 60)
    return {
        "jobs": jobs,
        "rounds": rounds,
        "status_gets_seen_by_sandbox": polls,
        "poll_cpu_ms": round(median(poll_ms), 3),
        "bare_get_cpu_ms": round(median(get_ms), 3),
        "ratio": round(median(poll_ms) / median(get_ms), 2),
        "target_ratio": 1.5,
    }


def main() -> None:
    p = common.parser("poll_profile", __doc__)
    p.add_argument("--jobs", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--profile", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.jobs, args.rounds = 50, 1
    results = {
        "benchmark": "poll_profile",
        "machine": common.machine(),
        **anyio.run(measure, args.jobs, args.rounds, args.profile),
    }
    common.write_results(results, args.out)


if __name__ == "__main__":
    main()
