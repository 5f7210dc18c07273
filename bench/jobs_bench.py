"""Jobs benchmark: backend polls per job per minute at rest and while watched, the tracker's memory with
10,000 tracked jobs, and the cost of reading a job through MCP next to asking the backend directly.

    python bench/jobs_bench.py [--scale 10] [--jobs 20] [--tracked 10000] [--quick] [--out bench/results/jobs.json]

`--scale` compresses the poll policy and the measuring window by the same factor (the default 1 s minimum
interval and 30 s maximum become 0.1 s and 3 s at scale 10), so rates are reported per policy minute;
`--scale 1` measures in real time and takes about three minutes.

`at_scale` runs a real server process (`modelops-mcp serve` over stdio, default limits, real time) whose
state dir holds `--tracked` unfinished Caila fits that the sandbox (in this process, clock frozen) keeps
PENDING: the server's resident memory next to the same server with no jobs, its CPU seconds per wall second
while no client asks anything, the status polls per second it sends (counted by the sandbox) next to the
bounds its limits set, and jobs_list / jobs_get latency through an MCP client.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from statistics import median
from typing import Any

import anyio
import common
import httpx
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from modelops_mcp.app.runtime import load_settings_catalog, open_runtime
from modelops_mcp.core.redact import Redactor
from modelops_mcp.jobs import Job, JobStore
from modelops_mcp.jobs.polling import PollPolicy
from modelops_mcp.jobs.tracker import Tracker
from modelops_mcp.sandbox import Sandbox, serve_sandbox
from modelops_mcp.settings.config import Limits, Settings
from modelops_mcp.surface.server import build_server

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


# ---- a server process following 10,000 unfinished jobs ---------------------------------------------------


class InFlight:
    """ASGI wrapper around the sandbox: requests in flight now and at most since `reset`, each answered after
    `latency_s`, as a remote backend would be. Without it the in-process emulator answers every request
    before it takes the next, and concurrency would never show."""

    def __init__(self, app: Any, latency_s: float) -> None:
        self.app = app
        self.latency_s = latency_s
        self.now = 0
        self.peak = 0

    def reset(self) -> None:
        self.peak = self.now

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await anyio.sleep(self.latency_s)
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


def proc_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def proc_memory(pid: int) -> dict[str, int]:
    """Resident memory now (VmRSS) and at its peak so far (VmHWM), in bytes."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line.split(":")[0]] = int(line.split()[1]) * 1024
    return {"rss_bytes": found["VmRSS"], "peak_rss_bytes": found["VmHWM"]}


def child_pid(marker: str) -> int:
    """Our child process whose command line holds `marker` (the stdio client does not expose its pid)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if ppid == os.getpid() and marker in cmdline:
            return int(entry.name)
    raise RuntimeError(f"no child process with {marker!r} in its command line")


def seed_jobs(emulators: Sandbox, state_dir: Path, count: int, origin: str) -> list[str]:
    """`count` fits the frozen sandbox keeps PENDING, and the same jobs in the server's store, unfinished,
    started against `origin` (the sandbox's Caila URL: a job is polled only where it was started)."""
    caila: Any = emulators.state("caila")
    account = caila.find_account("demo")
    model = caila.find_model(account, "text-classifier")
    dataset = caila.visible_dataset(account, FIT["datasetId"])
    config = next(c for c in caila.configs_of(model) if c.config_id == FIT["configId"])
    store = JobStore(state_dir / "jobs.sqlite3")
    ids = []
    try:
        for index in range(count):
            remote = caila.start_fit(model, dataset, config, None, None, 0.0)
            job_id = f"scale{index:06d}"
            remote_ids = {"account": account.account_id, "jobId": remote.job_id}
            job = Job(id=job_id, backend="caila", operation="caila_fit_service", remote=remote_ids, origin=origin)
            # At rest: the state a poll before the restart saw (the frozen sandbox keeps answering it), so
            # the window measures polls that find nothing new, not each job's first observation.
            job.state = "PENDING"
            job.note()
            store.insert(job)
            ids.append(job_id)
    finally:
        store.close()
    return ids


async def server_figures(
    emulators: Sandbox,
    inflight: InFlight,
    env: dict[str, str],
    state_dir: Path,
    window: float,
    job_ids: list[str],
    rounds: int,
    max_seconds: float,
) -> dict[str, Any]:
    bucket = min(5.0, window)
    cmd = common.serve_command("--state-dir", str(state_dir))  # on the command line: how child_pid finds it
    params = StdioServerParameters(command=cmd[0], args=cmd[1:], env=common.server_env(env, state_dir))
    timeline: list[dict[str, Any]] = []
    with common.devnull() as devnull:
        async with Client(stdio_client(params, errlog=devnull), mode="legacy") as client:
            pid = child_pid(str(state_dir))
            started = time.time()
            inflight.reset()
            cpu_before = proc_cpu_s(pid)
            samples = [(started, cpu_before)]
            while samples[-1][0] - started < window - 1e-6:
                await anyio.sleep(bucket)
                samples.append((time.time(), proc_cpu_s(pid)))
            peak = inflight.peak
            memory = proc_memory(pid)
            counts = status_calls(emulators, started, samples[-1][0])
            entries = [
                e.time for e in emulators.log.entries("caila", method="GET") if started <= e.time < samples[-1][0]
            ]
            for (t0, c0), (t1, c1) in itertools.pairwise(samples):
                polls = sum(1 for t in entries if t0 <= t < t1)
                timeline.append(
                    {
                        "from_s": round(t0 - started, 1),
                        "polls_per_s": round(polls / (t1 - t0), 1),
                        "cpu_s_per_s": round((c1 - c0) / (t1 - t0), 3),
                    }
                )
            latency: dict[str, Any] = {}
            if job_ids:
                for tool, arguments in (
                    ("jobs_list", lambda i: {"limit": 20}),
                    ("jobs_get", lambda i: {"job_id": job_ids[(i * 7919) % len(job_ids)]}),
                ):
                    times = []
                    # Bounded in time too: a read that waits behind a backlog of polls can take seconds.
                    deadline = time.perf_counter() + max_seconds
                    for i in range(rounds):
                        t = time.perf_counter()
                        result = await client.call_tool(tool, arguments(i))
                        times.append(time.perf_counter() - t)
                        assert not result.is_error, result
                        if time.perf_counter() > deadline:
                            break
                    latency[tool] = {**common.stats_ms(times), "max_ms": round(max(times) * 1000, 3)}
    elapsed = samples[-1][0] - started
    cpu = samples[-1][1] - cpu_before
    tail = [b for b in timeline if b["from_s"] >= elapsed - 20.0] or timeline[-1:]
    return {
        **memory,
        "window_s": round(elapsed, 1),
        "cpu_s_per_s": round(cpu / elapsed, 3),
        "polls_per_s": round(sum(counts.values()) / elapsed, 1),
        "polls_per_s_last_20s": round(sum(b["polls_per_s"] for b in tail) / len(tail), 1),
        "cpu_s_per_s_last_20s": round(sum(b["cpu_s_per_s"] for b in tail) / len(tail), 3),
        "max_polls_of_one_job": max(counts.values(), default=0),
        "peak_polls_in_flight": peak,
        "timeline": timeline,
        **latency,
    }


async def bare_gets(urls: list[str], headers: dict[str, str], concurrency: int, seconds: float) -> dict[str, Any]:
    """`--bare-get`: the same status GETs with httpx alone, `concurrency` in flight, for `seconds` (or every
    url once): this process's CPU per GET, the floor a poll is measured against."""
    done = 0
    async with httpx.AsyncClient(headers=headers, timeout=30) as http:
        await http.get(urls[0])  # connection and imports paid before the clock starts
        cpu0, wall0 = time.process_time(), time.perf_counter()
        deadline = wall0 + seconds
        pending = iter(urls)

        async def worker() -> None:
            nonlocal done
            for url in pending:
                if time.perf_counter() > deadline:
                    return
                (await http.get(url)).raise_for_status()
                done += 1

        async with anyio.create_task_group() as tg:
            for _ in range(concurrency):
                tg.start_soon(worker)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "gets": done,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "cpu_ms_per_get": round(cpu / done * 1000, 3),
    }


async def bare_get_process(
    urls: list[str], headers: dict[str, str], concurrency: int, seconds: float
) -> dict[str, Any]:
    """`bare_gets` in a process of its own (the sandbox answering it runs in this one)."""
    spec = json.dumps({"urls": urls, "headers": headers, "concurrency": concurrency, "seconds": seconds})
    done = await anyio.run_process([sys.executable, __file__, "--bare-get"], input=spec.encode(), check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def status_urls(env: dict[str, str], emulators: Sandbox, job_ids: list[str], state_dir: Path) -> list[str]:
    """The status URL of each seeded job, as the server's Caila status call builds it."""
    store = JobStore(state_dir / "jobs.sqlite3")
    try:
        jobs = [store.get(job_id) for job_id in job_ids]
    finally:
        store.close()
    base = env["CAILA_BASE_URL"]
    return [f"{base}/api/mlpgate/account/{j.remote['account']}/job/{j.remote['jobId']}" for j in jobs if j is not None]


async def at_scale(
    tracked: int, window: float, rounds: int, latency_ms: float, read_seconds: float = 20.0
) -> dict[str, Any]:
    """One server process with `tracked` unfinished jobs next to the same server with none."""
    emulators = Sandbox(speed=0)  # a frozen clock: every fit stays PENDING, so every job stays unfinished
    inflight = InFlight(emulators.app, latency_ms / 1000)
    emulators.app = inflight
    limits = Limits()  # the server runs with its defaults: these are the bounds it must keep
    with tempfile.TemporaryDirectory() as tmp:
        empty_dir, loaded_dir = Path(tmp) / "empty", Path(tmp) / "loaded"
        async with serve_sandbox(emulators) as url:
            env = emulators.env(url)
            job_ids = seed_jobs(emulators, loaded_dir, tracked, env["CAILA_BASE_URL"])
            empty = await server_figures(emulators, inflight, env, empty_dir, min(window, 5.0), [], 0, 0)
            loaded = await server_figures(emulators, inflight, env, loaded_dir, window, job_ids, rounds, read_seconds)
            # The floor, in the same run against the same endpoint (same latency, same concurrency as the
            # tracker's limit): what the status GETs alone cost a client made of nothing but httpx.
            urls = status_urls(env, emulators, job_ids, loaded_dir)
            bare = await bare_get_process(
                urls, {"MLP-API-KEY": env["CAILA_API_KEY"]}, limits.poll_concurrency, min(20.0, window)
            )
    polls = loaded["polls_per_s"] * loaded["window_s"]
    poll_cpu_ms = loaded["cpu_s_per_s"] * loaded["window_s"] / polls * 1000 if polls else None
    bounds = {
        "poll_min_interval_s": limits.poll_min_interval_s,
        "poll_max_s": limits.poll_max_s,
        "poll_concurrency": limits.poll_concurrency,
        "max_polls_per_s": round(tracked / limits.poll_min_interval_s, 1),  # each job at most once per interval
        "max_polls_of_one_job_in_window": math.floor(loaded["window_s"] / limits.poll_min_interval_s) + 1,
        "polls_per_s_at_rest": round(tracked / limits.poll_max_s, 1),  # every job backed off to the maximum
    }
    return {
        "tracked_jobs": tracked,
        "backend_latency_ms": latency_ms,
        "empty_server": empty,
        "loaded_server": loaded,
        "rss_delta_bytes": loaded["rss_bytes"] - empty["rss_bytes"],
        "rss_delta_bytes_per_job": round((loaded["rss_bytes"] - empty["rss_bytes"]) / max(tracked, 1), 1),
        "peak_rss_delta_bytes": loaded["peak_rss_bytes"] - empty["peak_rss_bytes"],
        "bounds": bounds,
        # Issue 20 item 5: a poll (the server's whole CPU over the window / its polls) at most 1.5x a bare GET.
        "poll_cpu_ms": None if poll_cpu_ms is None else round(poll_cpu_ms, 3),
        "bare_httpx_get": bare,
        "poll_cpu_ratio_to_bare_get": None if poll_cpu_ms is None else round(poll_cpu_ms / bare["cpu_ms_per_get"], 2),
        "poll_cpu_ratio_target": 1.5,
        "within_bounds": loaded["polls_per_s"] <= bounds["max_polls_per_s"]
        and loaded["max_polls_of_one_job"] <= bounds["max_polls_of_one_job_in_window"]
        and loaded["peak_polls_in_flight"] <= limits.poll_concurrency,
    }


PARTS = ("polls", "memory", "read", "at_scale")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    parts = args.parts.split(",") if args.parts else PARTS
    results: dict[str, Any] = {"benchmark": "jobs", "python": platform.python_version(), "machine": common.machine()}
    if "polls" in parts:
        results["polls"] = await poll_rates(args.scale, args.jobs)
    if "memory" in parts:
        results["memory"] = await tracker_memory(args.tracked)
    if "read" in parts:
        results["read"] = await read_cost(args.rounds)
    if "at_scale" in parts:
        results["at_scale"] = await at_scale(
            args.scale_jobs, args.window, args.scale_rounds, args.latency_ms, args.read_seconds
        )
    return results


if __name__ == "__main__":
    if sys.argv[1:] == ["--bare-get"]:  # the spec on stdin: 10,000 URLs are too long for a command line
        spec = json.loads(sys.stdin.read())
        print(json.dumps(anyio.run(bare_gets, spec["urls"], spec["headers"], spec["concurrency"], spec["seconds"])))
        sys.exit(0)
    parser = common.parser("jobs", __doc__)
    # None: the --quick size if --quick, else the full one (explicit values win either way).
    sizes = {
        "scale": (10.0, 60.0),
        "jobs": (20, 3),
        "tracked": (10_000, 200),
        "rounds": (300, 5),
        "scale_jobs": (10_000, 300),
        "window": (90.0, 4.0),
        "scale_rounds": (200, 10),
        "latency_ms": (20.0, 20.0),
        "read_seconds": (20.0, 5.0),
    }
    parser.add_argument("--scale", type=float, help="poll policy compression for the poll-rate figures (10)")
    parser.add_argument("--jobs", type=int, help="jobs for the poll-rate figures (20)")
    parser.add_argument("--tracked", type=int, help="jobs for the tracker's own memory (10000)")
    parser.add_argument("--rounds", type=int, help="jobs_get rounds next to a direct status GET (300)")
    parser.add_argument("--scale-jobs", type=int, help="unfinished jobs the server process follows (10000)")
    parser.add_argument("--window", type=float, help="seconds the loaded server is watched after it answered (90)")
    parser.add_argument("--scale-rounds", type=int, help="jobs_list and jobs_get calls on the loaded server (200)")
    parser.add_argument("--latency-ms", type=float, help="the sandbox answers each request after this long (20)")
    parser.add_argument("--read-seconds", type=float, help="time cap on each of jobs_list and jobs_get's rounds (20)")
    parser.add_argument("--parts", help=f"comma-separated, of {', '.join(PARTS)} (default: all)")
    arguments = parser.parse_args()
    for name, (full, quick) in sizes.items():
        if getattr(arguments, name) is None:
            setattr(arguments, name, quick if arguments.quick else full)
    common.write_results(anyio.run(main, arguments), arguments.out)
