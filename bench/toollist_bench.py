"""Tool-list size: the bytes of the tools array of `tools/list` as each server sends it over stdio, with every
backend loaded — per backend and in total, tool count, largest tool, and bytes/4 as an estimate of tokens
(labelled so: no tokenizer is involved). For ours in full mode, ours in `--discovery search` mode (when this
build has it), ours with `--output-schemas full`, with `--read-only`, and with one `--toolsets` backend at a
time (each when this build has the flag), and the peer (FastMCP's
OpenAPI provider on the same documents, internal operations stripped).

    python bench/toollist_bench.py [--quick] [--no-peer] [--out bench/results/toollist.json]

Each tool is counted as it comes over the wire: validated as an MCP `Tool`, then
`model_dump(by_alias=True, mode="json", exclude_none=True)` dumped as compact JSON. Groups are the name's
prefix before the first "_" (both servers name tools `<backend>_...`); `jobs_*` and `ops_*` are groups of
their own. Sizes do not vary from run to run, so one listing of each is enough.
"""

from __future__ import annotations

import tempfile
from typing import Any

import common

TARGET_FULL_TO_PEER = 0.35  # issue 17 item 2 (issue 6 asked for 0.5)
TARGET_SEARCH_TOKENS = 2000


def listing(cmd: list[str], env: dict[str, str]) -> list[dict[str, Any]]:
    with (
        tempfile.TemporaryDirectory(prefix="bench-state-") as state,
        common.StdioRpc(cmd, common.server_env(env, state)) as rpc,
    ):
        rpc.initialize()
        return rpc.list_tools()


def main() -> None:
    args = common.parser("toollist", __doc__).parse_args()
    flags = common.serve_flags()
    backends = sorted(common.operations_by_backend())
    results: dict[str, Any] = {
        "benchmark": "toollist",
        "machine": common.machine(),
        "token_estimate": "estimated tokens = bytes / 4 (no tokenizer)",
        "flags_available": sorted(flags),
    }
    with common.sandbox_process() as (_, env), common.peer_or_none(args.no_peer) as (peer, why_no_peer):
        ours = common.tool_sizes(listing(common.serve_command(), env), common.prefix_group)
        results["ours_full"] = ours
        if "--discovery" in flags:
            search = common.tool_sizes(listing(common.serve_command("--discovery", "search"), env), common.prefix_group)
            results["ours_search"] = search
            tokens = search["total"]["estimated_tokens_bytes_div_4"]
            results["search_target_tokens"] = TARGET_SEARCH_TOKENS
            results["search_met"] = tokens < TARGET_SEARCH_TOKENS
        if "--output-schemas" in flags:  # the default is lean; this is what every field documented costs
            cmd = common.serve_command("--output-schemas", "full")
            results["ours_full_output_schemas"] = common.tool_sizes(listing(cmd, env), common.prefix_group)["total"]
        if "--read-only" in flags:
            cmd = common.serve_command("--read-only")
            results["ours_read_only"] = common.tool_sizes(listing(cmd, env), common.prefix_group)["total"]
        if "--toolsets" in flags and not args.quick:
            results["ours_toolsets"] = {
                backend: common.tool_sizes(
                    listing(common.serve_command("--toolsets", backend), env), common.prefix_group
                )["total"]
                for backend in backends
            }
        if peer is None:
            results["peer"] = {"skipped": why_no_peer}
        else:
            theirs = common.tool_sizes(listing(peer.stdio_command(), env), common.prefix_group)
            results["peer"] = theirs
            results["peer_version"] = peer.version
    if peer is not None:
        per_backend = {
            backend: common.ratio(
                ours["per_group"].get(backend, {}).get("bytes"), theirs["per_group"].get(backend, {}).get("bytes")
            )
            for backend in backends
        }
        operations_only = ours["total"]["bytes"] - ours["per_group"].get("jobs", {}).get("bytes", 0)
        results["ratio_ours_to_peer"] = {
            "per_backend": per_backend,
            # The headline counts our jobs_* tools too, which the peer has no equivalent of.
            "total": common.ratio(ours["total"]["bytes"], theirs["total"]["bytes"]),
            "total_operations_only": common.ratio(operations_only, theirs["total"]["bytes"]),
        }
        if "ours_search" in results:
            results["ratio_ours_to_peer"]["search_total"] = common.ratio(
                results["ours_search"]["total"]["bytes"], theirs["total"]["bytes"], 4
            )
        results["target_full_to_peer"] = TARGET_FULL_TO_PEER
        results["met_full_to_peer"] = results["ratio_ours_to_peer"]["total"] <= TARGET_FULL_TO_PEER
    common.write_results(results, args.out)


if __name__ == "__main__":
    main()
