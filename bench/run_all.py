"""Run every benchmark, one after the other, and summarise: bench/results/summary.json and SUMMARY.md (a table of
each figure: ours, the peer or reference it is compared with, the ratio, the target and whether it is met).

    python bench/run_all.py [--quick] [--no-peer] [--out-dir bench/results]

Each script runs as its own process and writes its JSON next to the summary; one that fails is reported in
the summary and the others still run. `--quick` uses tiny sizes (the figures are noise; it checks the
scripts run) and writes under the temp dir unless --out-dir says otherwise, so it never overwrites the
committed figures. A full run takes about 7 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import common
from summary_rows import Row, at_most, calls_rows, http_rows, profile_rows, row, startup_rows

BENCH = Path(__file__).resolve().parent
# (name, script, extra arguments in full mode, in quick mode); every script but files_bench takes --quick.
SCRIPTS: list[tuple[str, str, list[str], list[str]]] = [
    ("startup", "startup_bench.py", [], ["--quick"]),
    ("toollist", "toollist_bench.py", [], ["--quick"]),
    ("calls", "call_bench.py", [], ["--quick"]),
    ("profile", "profile_call.py", [], ["--quick"]),
    ("http", "http_bench.py", [], ["--quick"]),
    ("jobs", "jobs_bench.py", [], ["--quick"]),
    ("files", "files_bench.py", [], ["--mib", "1", "--rounds", "2"]),
    ("search", "search_bench.py", [], ["--quick"]),
    ("stall", "stall_bench.py", [], ["--quick"]),
]
TAKES_NO_PEER = {"startup", "toollist", "calls", "http", "jobs"}


def run_script(script: str, args: list[str], timeout: float) -> tuple[bool, float, str]:
    start = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(BENCH / script), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            cwd=BENCH.parent,
        )
    except subprocess.TimeoutExpired:
        return False, time.monotonic() - start, f"timed out after {timeout:g} s"
    return done.returncode == 0, time.monotonic() - start, done.stderr[-1500:]


def kb(size: int) -> str:
    return f"{size / 1000:.1f} KB"


def toollist_rows(r: dict[str, Any]) -> list[Row]:
    ours = r["ours_full"]
    peer = r.get("peer", {}) if "total" in r.get("peer", {}) else None
    total = ours["total"]
    peer_total = f"{kb(peer['total']['bytes'])} ({peer['total']['tools']} tools)" if peer else ""
    ratio = r.get("ratio_ours_to_peer", {}).get("total")
    target = r.get("target_full_to_peer", 0.5)  # the benchmark's own (issue 17: 0.35); per backend, issue 6's 0.5
    rows = [
        row(
            f"tools/list, full: total bytes (est. tokens = bytes/4: {total['estimated_tokens_bytes_div_4']:,})",
            f"{kb(total['bytes'])} ({total['tools']} tools)",
            peer_total,
            ratio,
            f"≤ {target:g}",
            at_most(ratio, target),
        ),
    ]
    for backend, ratio in r.get("ratio_ours_to_peer", {}).get("per_backend", {}).items():
        assert peer is not None
        rows.append(
            row(
                f"tools/list, full: {backend}",
                kb(ours["per_group"][backend]["bytes"]),
                kb(peer["per_group"][backend]["bytes"]),
                ratio,
                "≤ 0.5",
                at_most(ratio, 0.5),
            )
        )
    largest = total["largest"]
    peer_largest = f"{peer['total']['largest']['name']} {kb(peer['total']['largest']['bytes'])}" if peer else ""
    rows.append(
        row(
            "tools/list: largest tool",
            f"{largest['name']} {kb(largest['bytes'])}",
            peer_largest,
            common.ratio(largest["bytes"], peer["total"]["largest"]["bytes"]) if peer else None,
        )
    )
    for key, label in (("ours_full_output_schemas", "--output-schemas full"), ("ours_read_only", "--read-only")):
        if key in r:
            ratio = common.ratio(r[key]["bytes"], peer["total"]["bytes"]) if peer else None
            rows.append(
                row(
                    f"tools/list, {label}: total bytes",
                    f"{kb(r[key]['bytes'])} ({r[key]['tools']} tools)",
                    peer_total,
                    ratio,
                )
            )
    for backend, sizes in r.get("ours_toolsets", {}).items():
        rows.append(
            row(
                f"tools/list, --toolsets {backend} (with jobs_*): bytes",
                f"{kb(sizes['bytes'])} ({sizes['tools']} tools)",
            )
        )
    if "ours_search" in r:
        search = r["ours_search"]["total"]
        tokens = search["estimated_tokens_bytes_div_4"]
        rows.append(
            row(
                "tools/list, --discovery search: est. tokens (bytes/4)",
                f"{tokens:,} ({search['tools']} tools)",
                "",
                None,
                "< 2,000",
                tokens < 2000,
            )
        )
    return rows


def jobs_rows(r: dict[str, Any]) -> list[Row]:
    s = r["at_scale"]
    loaded, bounds, n = s["loaded_server"], s["bounds"], s["tracked_jobs"]
    rest = r["polls"]["polls_per_job_per_minute_at_rest"]
    return [
        row(
            f"{n:,} unfinished jobs: server RSS growth",
            f"{s['rss_delta_bytes'] / 2**20:.1f} MiB",
            f"{s['rss_delta_bytes_per_job']:.0f} B/job",
        ),
        row(
            f"{n:,} unfinished jobs: server CPU s per s (whole window / last 20 s)",
            f"{loaded['cpu_s_per_s']:.2f} / {loaded['cpu_s_per_s_last_20s']:.2f}",
            f"no jobs: {s['empty_server']['cpu_s_per_s']:.2f}",
        ),
        row(
            f"{n:,} unfinished jobs: status polls/s (whole window / last 20 s)",
            f"{loaded['polls_per_s']:.0f} / {loaded['polls_per_s_last_20s']:.0f}",
            f"bound {bounds['max_polls_per_s']:.0f}; at rest {bounds['polls_per_s_at_rest']:.0f}",
            common.ratio(loaded["polls_per_s"], bounds["max_polls_per_s"]),
            "≤ 1",
            s["within_bounds"],
        ),
        row(
            f"{n:,} unfinished jobs: most polls of one job in {loaded['window_s']:.0f} s",
            str(loaded["max_polls_of_one_job"]),
            f"bound {bounds['max_polls_of_one_job_in_window']}",
            None,
            "≤ bound",
            loaded["max_polls_of_one_job"] <= bounds["max_polls_of_one_job_in_window"],
        ),
        row(
            f"{n:,} unfinished jobs: server CPU per status poll / a bare httpx GET's (ms)",
            f"{s['poll_cpu_ms']:.3f}",
            f"bare GET {s['bare_httpx_get']['cpu_ms_per_get']:.3f}",
            s["poll_cpu_ratio_to_bare_get"],
            f"≤ {s['poll_cpu_ratio_target']:g}",
            s["poll_cpu_ratio_to_bare_get"] <= s["poll_cpu_ratio_target"],
        ),
        row(
            f"{n:,} unfinished jobs: polls in flight at once",
            str(loaded["peak_polls_in_flight"]),
            f"bound {bounds['poll_concurrency']}",
            None,
            "≤ bound",
            loaded["peak_polls_in_flight"] <= bounds["poll_concurrency"],
        ),
        *(
            row(
                f"{n:,} unfinished jobs: {tool} p50 / p99 / max (ms)",
                f"{loaded[tool]['p50_ms']:.1f} / {loaded[tool]['p99_ms']:.1f} / {loaded[tool]['max_ms']:.0f}",
                f"n = {loaded[tool]['n']}",
            )
            for tool in ("jobs_list", "jobs_get")
        ),
        row(
            "Polls per job per minute at rest (policy compressed)",
            f"{rest['median']:.2f} (max {rest['max']:.2f})",
            f"policy {rest['expected_steady_state']:.0f}",
            None,
            "≈ 2",
            rest["max"] <= 2 * rest["expected_steady_state"],
        ),
        row(
            f"Tracker memory per job ({r['memory']['tracked_jobs']:,} jobs, tracemalloc)",
            f"{r['memory']['bytes_per_job']:.0f} B",
        ),
    ]


def files_rows(r: dict[str, Any]) -> list[Row]:
    up, down = r["upload"], r["download"]
    return [
        row(
            f"Upload {up['file_mib']:g} MiB through the tool / direct httpx",
            f"{up['tool_s']:.2f} s",
            f"direct {up['direct_httpx_s']:.2f} s",
            up["ratio_tool_to_direct"],
        ),
        row(
            "Upload: peak Python allocation / file size",
            f"{up['peak_alloc_to_file_size']:.3f}",
            "",
            None,
            "< 0.9",
            up["peak_alloc_to_file_size"] < 0.9,
        ),
        row(
            "Download through the tool / direct httpx",
            f"{down['tool_s'] * 1000:.1f} ms",
            f"direct {down['direct_httpx_s'] * 1000:.1f} ms",
            down["ratio_tool_to_direct"],
        ),
    ]


def stall_rows(r: dict[str, Any]) -> list[Row]:
    during, rest, floor = r["during_big_call"], r["at_rest"], r["sdk_transport_on_loop"]
    mb = f"{r['answer_bytes'] / 1e6:.1f} MB"
    rows = [
        row(
            f"Ping p99 of session B while A receives a {mb} list answer (ms)",
            f"{during['p99_ms']:.1f} (max {during['max_ms']:.1f})",
            f"at rest {rest['p99_ms']:.1f}",
            None,
            f"< {r['target_p99_ms']:g}",
            r["target_met"],
        ),
        row(f"The {mb} list call itself (s)", ", ".join(f"{s:.2f}" for s in r["big_calls"]["seconds"])),
        row(
            "The SDK transport's own on-loop stretches for that answer (ms)",
            f"{floor['model_dump_json_ms']:.1f} + {floor['sse_encode_ms']:.1f}",
            "JSON-RPC encode + SSE framing, each one stretch: the floor under the p99",
        ),
    ]
    if "floor" in r:  # the same measurement against the bare SDK server making the same GET
        bare = r["floor"]["during_big_call"]
        rows.append(
            row(
                "The same ping p99 with the bare SDK server (floor_server.py) answering A (ms)",
                f"{bare['p99_ms']:.1f} (max {bare['max_ms']:.1f})",
                f"at rest {r['floor']['at_rest']['p99_ms']:.1f}",
            )
        )
    return rows


def search_rows(r: dict[str, Any]) -> list[Row]:
    targets = r["targets"]
    rows = []
    for split, label in (("dev", "dev, tuned on"), ("heldout", "held out")):
        figures = r["per_split"][split]
        for key, name, target in (
            ("recall_at_3", "right operation in the top 3", targets["recall_at_3"]),
            ("first", "right operation first", targets["first"]),
        ):
            rows.append(
                row(
                    f"ops_search, {name} ({label}: {figures['requests']} user requests)",
                    f"{figures[key]:.2f}",
                    target=f"≥ {target:.2f}",
                    met=figures[key] >= target,
                )
            )
    everything = r["all"]
    rows.append(
        row(
            f"ops_search, deprecated below their replacements ({everything['requests']} requests)",
            f"{everything['deprecated_below']:.2f}",
            target="1.00",
            met=everything["deprecated_below"] >= 1.0,
        )
    )
    return rows


ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "startup": startup_rows,
    "toollist": toollist_rows,
    "calls": calls_rows,
    "profile": profile_rows,
    "http": http_rows,
    "jobs": jobs_rows,
    "files": files_rows,
    "search": search_rows,
    "stall": stall_rows,
}


def markdown(rows: list[Row], machine: dict[str, Any], peer_version: str | None, notes: list[str]) -> str:
    met = {True: "yes", False: "**no**", None: ""}
    lines = [
        f"Measured {machine['date']} on {machine['platform']}, Python {machine['python']}, "
        f"{machine['cpus']} CPUs (shared machine), commit {machine['commit']}. "
        + (f"Peer: FastMCP {peer_version} (OpenAPI provider, same documents, same sandbox)." if peer_version else ""),
        "",
        "| Figure | Ours | Peer / reference | Ratio | Target | Met |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        lines.append(f"| {r['figure']} | {r['ours']} | {r['peer']} | {ratio} | {r['target']} | {met[r['met']]} |")
    return "\n".join([*lines, "", *notes]).rstrip() + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes; results go to the temp dir by default")
    p.add_argument("--no-peer", action="store_true", help="skip the peer (FastMCP) figures")
    p.add_argument("--out-dir", help="where every JSON and SUMMARY.md go (default bench/results)")
    p.add_argument("--only", help="comma-separated names to run (startup,toollist,calls,http,jobs,files,search)")
    args = p.parse_args()
    default_dir = Path(tempfile.gettempdir()) / "modelops-bench-quick" if args.quick else common.RESULTS
    out_dir = Path(args.out_dir) if args.out_dir else default_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(",")) if args.only else None
    if not args.no_peer:
        with common.peer_or_none(False) as (peer, why):  # make the peer venv once, before anything is timed
            if peer is None:
                print(f"run_all: no peer figures: {why}", file=sys.stderr)
    rows: list[Row] = []
    runs: dict[str, Any] = {}
    notes: list[str] = []
    peer_version: str | None = None
    for name, script, full, quick in SCRIPTS:
        if only is not None and name not in only:
            continue
        out = out_dir / f"{name}.json"
        extra = [*(quick if args.quick else full), "--out", str(out)]
        if args.no_peer and name in TAKES_NO_PEER:
            extra.append("--no-peer")
        print(f"run_all: {script} ...", file=sys.stderr, flush=True)
        ok, seconds, stderr = run_script(script, extra, timeout=300 if args.quick else 900)
        runs[name] = {"ok": ok, "seconds": round(seconds, 1)}
        if not ok:
            runs[name]["error"] = stderr
            notes.append(f"- `{script}` failed: {stderr.strip().splitlines()[-1] if stderr.strip() else '?'}")
            continue
        result = json.loads(out.read_text())
        peer_version = peer_version or result.get("peer_version")
        if isinstance(result.get("peer"), dict) and "skipped" in result["peer"]:
            notes.append(f"- {name}: peer {result['peer']['skipped']}")
        try:
            rows += ROWS[name](result)
        except (KeyError, TypeError) as exc:  # a script whose output changed shape: say so, keep the rest
            notes.append(f"- {name}: could not summarise ({type(exc).__name__}: {exc})")
    machine = common.machine()
    text = markdown(rows, machine, peer_version, notes)
    summary = {"machine": machine, "quick": args.quick, "peer_version": peer_version, "runs": runs, "rows": rows}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out_dir / "SUMMARY.md").write_text(text)
    print(text, end="")
    sys.exit(0 if all(r["ok"] for r in runs.values()) else 1)


if __name__ == "__main__":
    main()
