"""Cold start: spawn the server over stdio with every backend loaded, `initialize`, `tools/list` answered —
timed from the spawn to the tools/list result. Next to it, in the same run and interleaved, the floor: the
time Python takes to start and import the mcp SDK's server and stdio modules, and the peer (FastMCP's
OpenAPI provider on the same documents) measured the same way.

    python bench/startup_bench.py [--runs 10] [--quick] [--no-peer] [--out bench/results/startup.json]

Ours and the floor run from bench/.ours-venv, this checkout installed as a user installs it (no test extras;
see user_venv.py); with --no-peer (offline) from this venv instead. `ours_installed_as` says which.

Each run gets a fresh state dir; every server points at one sandbox process. The order of the variants
rotates from run to run so a burst of noise on the shared machine does not always hit the same one.
Figures: median and min of the runs; ratios are of medians.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from statistics import median
from typing import Any

import common
from user_venv import user_install_or_none

FLOOR = "import mcp.server, mcp.server.stdio"
TARGET_OURS_TO_FLOOR = 1.2
TARGET_OURS_TO_PEER = 0.5
# The CPU seconds of each run (user + system of the reaped child) are recorded next to the wall time: on a
# shared machine under load the wall time of a start stretches with everyone else's work, its CPU time does not.
CPU: dict[str, list[float]] = {}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_exit(cmd: list[str], name: str) -> float:
    cpu, start = children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=120)
    elapsed = time.perf_counter() - start
    CPU.setdefault(name, []).append(children_cpu() - cpu)
    return elapsed


def time_server(cmd: list[str], env: dict[str, str], tools_seen: dict[str, int], name: str) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-state-") as state:
        cpu, start = children_cpu(), time.perf_counter()
        rpc = common.StdioRpc(cmd, common.server_env(env, state))
        try:
            rpc.initialize()
            tools = rpc.list_tools()
            elapsed = time.perf_counter() - start
        finally:
            rpc.close()  # reaps the server: its CPU time is in RUSAGE_CHILDREN from here on
        CPU.setdefault(name, []).append(children_cpu() - cpu)
    tools_seen[name] = len(tools)
    return elapsed


def summary(samples: list[float]) -> dict[str, Any]:
    return {
        "median_s": round(median(samples), 4),
        "min_s": round(min(samples), 4),
        "max_s": round(max(samples), 4),
        "runs_s": [round(s, 4) for s in samples],
    }


def main() -> None:
    p = common.parser("startup", __doc__)
    p.add_argument("--runs", type=int, default=10)
    args = p.parse_args()
    runs = 3 if args.quick else max(1, args.runs)
    flags = common.serve_flags()
    results: dict[str, Any] = {"benchmark": "startup", "machine": common.machine(), "runs": runs}
    with (
        common.sandbox_process() as (_, env),
        common.peer_or_none(args.no_peer) as (peer, why_no_peer),
        user_install_or_none(args.no_peer) as (user_bin, installed_as),
    ):
        # Ours and the floor run from the same venv: a user's install when it can be made (as the peer's is).
        python = str(user_bin / "python") if user_bin else sys.executable
        serve = [str(user_bin / "modelops-mcp"), "serve"] if user_bin else common.serve_command()
        results["ours_installed_as"] = installed_as
        tools_seen: dict[str, int] = {}
        variants: dict[str, Callable[[], float]] = {
            "floor": lambda: time_exit([python, "-c", FLOOR], "floor"),
            # How much of our start is importing our own code (as `serve` does) rather than building the catalog.
            "ours_import_only": lambda: time_exit(
                [python, "-c", "import modelops_mcp.cli, modelops_mcp.app.serve"], "ours_import_only"
            ),
            "ours": lambda: time_server(serve, env, tools_seen, "ours"),
            # A first start ever (or after an upgrade): catalog and tool list built, not read from the cache.
            "ours_no_cache": lambda: time_server(
                serve, {**env, "MODELOPS_CACHE_DIR": "off"}, tools_seen, "ours_no_cache"
            ),
        }
        if "--discovery" in flags:
            search = [*serve, "--discovery", "search"]
            variants["ours_search"] = lambda: time_server(search, env, tools_seen, "ours_search")
        if peer is not None:
            peer_cmd = peer.stdio_command()
            variants["peer"] = lambda: time_server(peer_cmd, env, tools_seen, "peer")
            # The peer's own floor: its venv has its own Python packages (another mcp SDK version).
            variants["peer_floor"] = lambda: time_exit([str(peer.python), "-c", FLOOR], "peer_floor")
        names = list(variants)
        for name in names:  # one untimed run each: the page cache holds every file afterwards, for all alike
            variants[name]()
        CPU.clear()
        samples: dict[str, list[float]] = {name: [] for name in names}
        for run in range(runs):
            order = names[run % len(names) :] + names[: run % len(names)]
            for name in order:
                samples[name].append(variants[name]())
    for name in names:
        results[name] = {**summary(samples[name]), **({"tools": tools_seen[name]} if name in tools_seen else {})}
        results[name]["cpu_median_s"] = round(median(CPU[name]), 4)
    ours, floor = median(samples["ours"]), median(samples["floor"])
    ours_cpu, floor_cpu = median(CPU["ours"]), median(CPU["floor"])
    results["cpu_ratio_ours_to_floor"] = round(ours_cpu / floor_cpu, 3)
    if "peer" in CPU:
        results["cpu_ratio_ours_to_peer"] = round(ours_cpu / median(CPU["peer"]), 3)
    results["ratio_ours_to_floor"] = round(ours / floor, 3)
    results["target_ours_to_floor"] = TARGET_OURS_TO_FLOOR
    results["met_ours_to_floor"] = ours / floor <= TARGET_OURS_TO_FLOOR
    results["cpu_ratio_ours_no_cache_to_floor"] = round(median(CPU["ours_no_cache"]) / floor_cpu, 3)
    if "ours_search" in samples:
        results["ratio_ours_search_to_floor"] = round(median(samples["ours_search"]) / floor, 3)
    if "peer" in samples:
        results["peer_version"] = peer.module.installed_version(peer.python) if peer else None
        results["ratio_ours_to_peer"] = round(ours / median(samples["peer"]), 3)
        results["target_ours_to_peer"] = TARGET_OURS_TO_PEER
        results["met_ours_to_peer"] = ours / median(samples["peer"]) <= TARGET_OURS_TO_PEER
    else:
        results["peer"] = {"skipped": why_no_peer}
    results["flags_available"] = sorted(flags)
    common.write_results(results, args.out)


if __name__ == "__main__":
    main()
