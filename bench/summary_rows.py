"""The summary rows of the per-call and cold-start figures (issue 20's targets): each benchmark's JSON → table rows
of figure, ours, the peer or reference, the ratio, the target and whether it is met. bench/run_all.py prints them
with the other benchmarks' rows."""

from __future__ import annotations

from typing import Any

import common

Row = dict[str, Any]


def row(figure: str, ours: str, peer: str = "", ratio: float | None = None, target: str = "", met: Any = None) -> Row:
    return {"figure": figure, "ours": ours, "peer": peer, "ratio": ratio, "target": target, "met": met}


def at_most(value: float | None, bound: float) -> bool | None:
    return None if value is None else value <= bound


def startup_rows(r: dict[str, Any]) -> list[Row]:
    ours, floor = r["ours"]["median_s"], r["floor"]["median_s"]
    ours_cpu, floor_cpu = r["ours"].get("cpu_median_s"), r["floor"].get("cpu_median_s")
    target = r.get("target_ours_to_floor", 1.2)
    rows = []
    if "median_s" in r.get("peer", {}):
        ratio = r["ratio_ours_to_peer"]
        rows.append(
            row(
                "Cold start, stdio, all backends (median s)",
                f"{ours:.2f}",
                f"{r['peer']['median_s']:.2f}",
                ratio,
                "≤ 0.5",
                at_most(ratio, 0.5),
            )
        )
        if "cpu_ratio_ours_to_peer" in r:
            ratio = r["cpu_ratio_ours_to_peer"]
            rows.append(
                row(
                    "Cold start, CPU s (median)",
                    f"{ours_cpu:.2f}",
                    f"{r['peer']['cpu_median_s']:.2f}",
                    ratio,
                    "≤ 0.5",
                    at_most(ratio, 0.5),
                )
            )
            rows.append(
                row(
                    "Cold start: the floor's own CPU s / the peer's (what ≤ 0.5 leaves room for)",
                    f"floor {floor_cpu:.2f}",
                    f"{r['peer']['cpu_median_s']:.2f}",
                    common.ratio(floor_cpu, r["peer"]["cpu_median_s"]),
                )
            )
    rows.append(
        row(
            "Cold start / floor (import mcp.server + stdio), wall",
            f"{ours:.2f}",
            f"floor {floor:.2f}",
            r["ratio_ours_to_floor"],
            f"≤ {target:g}",
            at_most(r["ratio_ours_to_floor"], target),
        )
    )
    if "cpu_ratio_ours_to_floor" in r:
        rows.append(
            row(
                "Cold start / floor, CPU s",
                f"{ours_cpu:.2f}",
                f"floor {floor_cpu:.2f}",
                r["cpu_ratio_ours_to_floor"],
                f"≤ {target:g}",
                at_most(r["cpu_ratio_ours_to_floor"], target),
            )
        )
    if "cpu_ratio_ours_no_cache_to_floor" in r:
        rows.append(
            row(
                "Cold start without the start cache (first start, MODELOPS_CACHE_DIR=off) / floor, CPU s",
                f"{r['ours_no_cache']['cpu_median_s']:.2f}",
                f"floor {floor_cpu:.2f}",
                r["cpu_ratio_ours_no_cache_to_floor"],
            )
        )
    if "ours_search" in r:
        search = r["ours_search"]["median_s"]
        ratio = r["ratio_ours_search_to_floor"]
        rows.append(
            row(
                "Cold start, --discovery search / floor",
                f"{search:.2f}",
                f"floor {floor:.2f}",
                ratio,
                f"≤ {target:g}",
                at_most(ratio, target),
            )
        )
    return rows


def calls_rows(r: dict[str, Any]) -> list[Row]:
    rows = []
    direct = r["paths"]["direct"]
    targets = r.get("targets", {})
    to_peer, to_floor = targets.get("added_to_peer", 0.6), targets.get("added_to_floor", 1.3)
    for label in direct:
        rows.append(row(f"Direct httpx call p50, {label} (ms; reference)", f"{direct[label]['p50_ms']:.2f}"))
    added = r["added_p50_ms"]
    for transport in ("memory", "stdio", "http"):
        ours, peer = added.get(f"ours_{transport}", {}), added.get(f"peer_{transport}", {})
        floor = added.get(f"floor_{transport}", {})
        for label, value in ours.items():
            ratio = r.get("ratio_added_ours_to_peer", {}).get(transport, {}).get(label)
            rows.append(
                row(
                    f"Per call, {transport}, {label}: p50 added to direct (ms), ours / peer",
                    f"{value:.2f}",
                    f"{peer[label]:.2f}" if label in peer else "",
                    ratio,
                    f"≤ {to_peer:g}",
                    at_most(ratio, to_peer),
                )
            )
            if label in floor:
                ratio = r.get("ratio_added_ours_to_floor", {}).get(transport, {}).get(label)
                rows.append(
                    row(
                        f"Per call, {transport}, {label}: p50 added, ours / floor (bare SDK Server)",
                        f"{value:.2f}",
                        f"floor {floor[label]:.2f}",
                        ratio,
                        f"≤ {to_floor:g}",
                        at_most(ratio, to_floor),
                    )
                )
                if label in peer:
                    rows.append(
                        row(
                            f"Per call, {transport}, {label}: p50 added, floor / peer (the SDK's share)",
                            f"floor {floor[label]:.2f}",
                            f"{peer[label]:.2f}",
                            common.ratio(floor[label], peer[label]),
                        )
                    )
        ours_paths, peer_paths = r["paths"].get(f"ours_{transport}", {}), r["paths"].get(f"peer_{transport}", {})
        for label, stats in ours_paths.items():
            peer_p99 = peer_paths.get(label, {}).get("p99_ms")
            rows.append(
                row(
                    f"Per call, {transport}, {label}: p99 (ms)",
                    f"{stats['p99_ms']:.2f}",
                    f"{peer_p99:.2f}" if peer_p99 else "",
                    common.ratio(stats["p99_ms"], peer_p99),
                )
            )
    for label, value in added.get("floorjson_http", {}).items():
        rows.append(
            row(
                f"Per call, http, {label}: p50 added by the floor answering plain JSON, no SSE (ms; reference)",
                f"floor-json {value:.2f}",
                f"{added['peer_http'][label]:.2f}" if label in added.get("peer_http", {}) else "",
                common.ratio(value, added.get("peer_http", {}).get(label)),
            )
        )
    cpu = r.get("server_cpu_ms_per_call", {})
    to_peer_cpu = targets.get("cpu_to_peer", 0.6)
    for transport in ("stdio", "http"):
        if f"ours_{transport}" not in cpu:
            continue
        ours_cpu, peer_cpu = cpu[f"ours_{transport}"], cpu.get(f"peer_{transport}")
        ratio = r.get("ratio_cpu_ours_to_peer", {}).get(transport)
        rows.append(
            row(
                f"Server CPU per call, {transport} (ms), ours / peer",
                f"{ours_cpu:.2f}",
                f"{peer_cpu:.2f}" if peer_cpu is not None else "",
                ratio,
                f"≤ {to_peer_cpu:g}",
                at_most(ratio, to_peer_cpu),
            )
        )
        floor_cpu = cpu.get(f"floor_{transport}")
        if floor_cpu is not None:
            rows.append(
                row(
                    f"Server CPU per call, {transport} (ms), ours / floor; floor / peer",
                    f"{ours_cpu:.2f}",
                    f"floor {floor_cpu:.2f}",
                    r.get("ratio_cpu_ours_to_floor", {}).get(transport),
                    f"floor / peer {common.ratio(floor_cpu, peer_cpu)}" if peer_cpu else "",
                )
            )
    return rows


def profile_rows(r: dict[str, Any]) -> list[Row]:
    """The profile's breakdown of one call (µs, cProfile): our layer's parts next to the SDK's."""
    rows = []
    ours_parts = (
        "argument_validation",
        "request_building",
        "answer_parsing",
        "redaction",
        "output_check",
        "result_building",
        "labels_and_session",
        "job_start_and_store_writes",
    )
    for key, figures in r.items():
        if not isinstance(figures, dict) or "handler_total" not in figures:
            continue
        parts = ", ".join(f"{p.replace('_', ' ')} {figures[p]:.0f}" for p in ours_parts if figures.get(p))
        rows.append(
            row(
                f"Profile, {key.replace('_', ' ')} (µs per call under cProfile): ours = handler less httpx",
                f"handler {figures['handler_total']:.0f} (httpx {figures['httpx_send_receive']:.0f}, "
                f"reading {figures['answer_reading_within_limit']:.0f}; {parts})",
                f"SDK framing + dispatch {figures['sdk_framing_dispatch']:.0f}",
            )
        )
    return rows


def http_rows(r: dict[str, Any]) -> list[Row]:
    rows = []
    peer, floor = r.get("peer", {}), r.get("floor", {})
    target = r.get("target_calls_per_s_ratio", 1.5)
    for level, ours in r["ours"].items():
        theirs = peer.get(level)
        ratio = r.get("ratio_calls_per_s_ours_to_peer", {}).get(level)
        rows.append(
            row(
                f"Streamable HTTP, {level} session(s): calls/s",
                f"{ours['calls_per_s']:.0f}",
                f"{theirs['calls_per_s']:.0f}" if theirs else "",
                ratio,
                f"≥ {target:g}" if level != "1" else "",
                None if ratio is None or level == "1" else ratio >= target,
            )
        )
        if level in floor:
            rows.append(
                row(
                    f"Streamable HTTP, {level} session(s): calls/s, ours / floor; floor / peer",
                    f"{ours['calls_per_s']:.0f}",
                    f"floor {floor[level]['calls_per_s']:.0f}",
                    r.get("ratio_calls_per_s_ours_to_floor", {}).get(level),
                    f"floor / peer {r.get('ratio_calls_per_s_floor_to_peer', {}).get(level)}",
                )
            )
        if "server_cpu_ms_per_call" in ours:
            rows.append(
                row(
                    f"Streamable HTTP, {level} session(s): server CPU ms per call (ours / peer / floor)",
                    f"{ours['server_cpu_ms_per_call']:.2f}",
                    f"{theirs['server_cpu_ms_per_call']:.2f}" if theirs else "",
                    common.ratio(ours["server_cpu_ms_per_call"], theirs["server_cpu_ms_per_call"]) if theirs else None,
                    f"floor {floor[level]['server_cpu_ms_per_call']:.2f}" if level in floor else "",
                )
            )
        p99_ratio = r.get("ratio_p99_ours_to_peer", {}).get(level)
        rows.append(
            row(
                f"Streamable HTTP, {level} session(s): p99 (ms)",
                f"{ours['p99_ms']:.1f}",
                f"{theirs['p99_ms']:.1f}" if theirs else "",
                p99_ratio,
            )
        )
    return rows
