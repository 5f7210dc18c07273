"""Replicas on PostgreSQL: Streamable HTTP calls/s and p99 with one replica and with two, and two replicas
following 10,000 unfinished jobs (polls per second next to the bound, none duplicated, the split between them).

    python bench/replica_bench.py [--seconds 8] [--sessions 8] [--rounds 2] [--jobs 10000] [--window 60]
                                  [--quick] [--out bench/results/replicas.json]

Needs Debian's `postgresql` (.ci/postgres.sh installs it): a throwaway cluster is started in a temporary
directory on 127.0.0.1 (tests/postgres.py, as the `postgres` user when run as root), a database per part.

`http`: one sandbox process, two `serve --transport http --store ...` replicas; `--sessions` client sessions
call the GET tool back to back for `--seconds`, all on replica 1, or spread over both, the two set-ups
alternating for `--rounds` rounds; once with 2025-11-25 sessions (each kept on its replica, as affinity
does) and once with 2026-07-28 clients (stateless: the mcp SDK's client sends every request on its own).
Everything shares this machine's cores, so two replicas add capacity only when a core is idle: the ratio says
what they cost or gain here.

`jobs`: the sandbox in this process with its clock frozen (every fit stays PENDING) and a 20 ms answer delay;
`--jobs` fits seeded in a SQLite state dir and copied into PostgreSQL with `store migrate`; two replicas with
the default limits follow them for `--window` seconds. Counted in the sandbox's log: status polls per second
next to the bound (jobs / --poll-interval), polls of one job closer than the interval (duplicates: 0 is the
target), and from the database how many jobs each replica holds at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import anyio
import common
import psycopg
from jobs_bench import InFlight, seed_jobs
from mcp import Client

from modelops_mcp.app.store_migrate import migrate_state
from modelops_mcp.sandbox import Sandbox, serve_sandbox
from modelops_mcp.settings.config import Limits

sys.path.insert(0, str(common.ROOT))  # tests/postgres.py: the one way a throwaway cluster is started here
from tests.postgres import postgres_cluster

GET = common.CALLS[0]


@contextlib.contextmanager
def replicas(count: int, store: str, env: dict[str, str], *flags: str) -> Any:
    """`count` HTTP replicas on `store`; yields their URLs."""
    with contextlib.ExitStack() as stack:
        found = []
        for _ in range(count):
            state = stack.enter_context(tempfile.TemporaryDirectory())
            cmd = common.serve_command(*flags, transport="http")
            # The URL in the environment, not on the command line: it holds the password.
            server_env = {**common.server_env(env, state), "MODELOPS_STORE_URL": store}
            found.append(stack.enter_context(common.http_server(cmd, server_env)))
        yield found


async def calls(urls: list[str], mode: str, sessions: int, seconds: float, max_calls: int) -> dict[str, Any]:
    """`sessions` sessions spread over `urls` (each session stays on one: a 2025-11-25 one must)."""
    latencies: list[float] = []
    errors = 0
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(Client(urls[i % len(urls)], mode=mode)) for i in range(sessions)]
        for client in clients:  # warm: each session's first call pays for its connection
            await client.call_tool(GET["tool"], GET["arguments"])
        start = time.perf_counter()
        deadline = start + seconds

        async def worker(client: Client) -> None:
            nonlocal errors
            while time.perf_counter() < deadline and len(latencies) < max_calls:
                t0 = time.perf_counter()
                result = await client.call_tool(GET["tool"], GET["arguments"])
                latencies.append(time.perf_counter() - t0)
                errors += int(bool(result.is_error))

        async with anyio.create_task_group() as tg:
            for client in clients:
                tg.start_soon(worker, client)
        elapsed = time.perf_counter() - start
    return {"calls": len(latencies), "errors": errors, "seconds": elapsed, "latencies": latencies}


MODES = {"legacy": "2025-11-25 (sessions, each kept on its replica)", "auto": "2026-07-28 (stateless)"}


async def http_part(store: str, args: argparse.Namespace) -> dict[str, Any]:
    runs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    with common.sandbox_process() as (_, env), replicas(2, store, env) as urls:
        for round_ in range(args.rounds):
            order = ["one_replica", "two_replicas"] if round_ % 2 == 0 else ["two_replicas", "one_replica"]
            for setup, mode in itertools.product(order, MODES):
                chosen = urls[:1] if setup == "one_replica" else urls
                runs[mode, setup].append(await calls(chosen, mode, args.sessions, args.seconds, args.max_calls))
    found: dict[str, Any] = {}
    for mode, label in MODES.items():
        figures = {setup: summary(runs[mode, setup]) for setup in ("one_replica", "two_replicas")}
        ratio = common.ratio(figures["two_replicas"]["calls_per_s"], figures["one_replica"]["calls_per_s"])
        found[mode] = {"protocol": label, **figures, "two_over_one_calls_per_s": ratio}
    return {"sessions": args.sessions, "seconds_per_run": args.seconds, "rounds": args.rounds, **found}


def summary(done: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = [t for run in done for t in run["latencies"]]
    seconds = sum(run["seconds"] for run in done)
    stats = common.stats_ms(latencies)
    return {
        "calls": len(latencies),
        "errors": sum(run["errors"] for run in done),
        "calls_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": stats.get("p50_ms"),
        "p99_ms": stats.get("p99_ms"),
    }


async def jobs_part(store: str, args: argparse.Namespace) -> dict[str, Any]:
    limits = Limits()
    emulators = Sandbox(speed=0)  # frozen: every fit stays PENDING, every job unfinished
    emulators.app = InFlight(emulators.app, 0.02)
    with tempfile.TemporaryDirectory() as tmp:
        async with serve_sandbox(emulators) as url:
            env = emulators.env(url)
            began = time.perf_counter()
            seed_jobs(emulators, Path(tmp), args.jobs, env["CAILA_BASE_URL"])
            copied = migrate_state(Path(tmp), store)
            seed_s = time.perf_counter() - began
            with replicas(2, store, env) as urls:
                # The window starts once both replicas serve; polls before it (the claim) are not counted.
                started = time.time()
                await anyio.sleep(args.window)
                ended = time.time()
                with psycopg.connect(store) as conn:
                    held = dict(conn.execute("SELECT lease_owner, count(*) FROM jobs GROUP BY lease_owner").fetchall())
            assert len(urls) == 2
    polls: dict[str, list[float]] = defaultdict(list)
    for entry in emulators.log.entries("caila", method="GET"):
        found = re.search(r"/job/(\d+)$", entry.path)
        if found and started <= entry.time < ended:
            polls[found.group(1)].append(entry.time)
    gaps = [b - a for times in polls.values() for a, b in itertools.pairwise(sorted(times))]
    total = sum(len(times) for times in polls.values())
    window = ended - started
    return {
        "jobs": args.jobs,
        "seed_and_store_migrate_s": round(seed_s, 1),
        "store_migrate": copied,
        "window_s": round(window, 1),
        "polls": total,
        "polls_per_s": round(total / window, 1),
        "bound_polls_per_s": round(args.jobs / limits.poll_min_interval_s, 1),
        "at_rest_polls_per_s": round(args.jobs / limits.poll_max_s, 1),
        "jobs_polled": len(polls),
        "polls_closer_than_interval": sum(1 for gap in gaps if gap < limits.poll_min_interval_s),
        "min_gap_s": round(min(gaps), 3) if gaps else None,
        "jobs_held_per_replica": sorted(int(n) for owner, n in held.items() if owner is not None),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with postgres_cluster() as cluster:
        return {
            "benchmark": "replicas",
            "machine": common.machine(),
            "http": await http_part(cluster.database(), args),
            "jobs": await jobs_part(cluster.database(), args),
        }


if __name__ == "__main__":
    parser = common.parser("replicas", __doc__)
    sizes = {"seconds": (8.0, 1.0), "sessions": (8, 2), "rounds": (2, 1), "jobs": (10_000, 200), "window": (60.0, 5.0)}
    parser.add_argument("--seconds", type=float, help="seconds per calls run (8)")
    parser.add_argument("--sessions", type=int, help="concurrent client sessions (8)")
    parser.add_argument("--rounds", type=int, help="rounds of the two set-ups, alternating (2)")
    parser.add_argument("--max-calls", type=int, default=50_000, help="calls per run at most (50000)")
    parser.add_argument("--jobs", type=int, help="unfinished jobs the two replicas follow (10000)")
    parser.add_argument("--window", type=float, help="seconds the two replicas are watched (60)")
    arguments = parser.parse_args()
    for name, (full, quick) in sizes.items():
        if getattr(arguments, name) is None:
            setattr(arguments, name, quick if arguments.quick else full)
    common.write_results(anyio.run(main, arguments), arguments.out)
