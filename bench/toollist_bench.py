"""Tool-list size: the bytes of the tools array of `tools/list` as each server sends it over stdio, with every
backend loaded — per backend and in total, tool count, largest tool, and bytes/4 as an estimate of tokens
(labelled so: no tokenizer is involved). For ours in full mode, ours in `--discovery search` mode (when this
build has it), ours with `--output-schemas full`, with `--read-only`, and with one `--toolsets` backend at a
time (each when this build has the flag), and the peer (FastMCP's
OpenAPI provider on the same documents, internal operations stripped).

By configuration (`ours_by_configuration`): what a server lists by default, in full and search mode, when the
environment configures nothing, each backend alone, all five, and under `serve --sandbox` — each server started
with every backend and MODELOPS_* variable of this shell removed, then the sandbox's variables of the backends
in question.

    python bench/toollist_bench.py [--quick] [--no-peer] [--out bench/results/toollist.json]

Where the bytes go (`ours_full_split`, `peer_split`, per backend and in total): `model_visible` is name +
description + inputSchema, what hosts pass to a model, and `ratio_ours_to_peer.model_visible` compares it; the
parts are tool descriptions, descriptions inside inputSchema, inputSchema without them (input structure),
outputSchema, annotations, and the rest (title, keys, punctuation).

Each tool is counted as it comes over the wire: validated as an MCP `Tool`, then
`model_dump(by_alias=True, mode="json", exclude_none=True)` dumped as compact JSON. Groups are the name's
prefix before the first "_" (both servers name tools `<backend>_...`); `jobs_*` and `ops_*` are groups of
their own. Sizes do not vary from run to run, so one listing of each is enough.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

import common

TARGET_FULL_TO_PEER = 0.35  # issue 17 item 2 (issue 6 asked for 0.5)
TARGET_SEARCH_TOKENS = 2000


# Each backend's variables, by prefix (the sandbox sets a URL for each, a key for three).
BACKEND_PREFIXES = {
    "caila": "CAILA_",
    "datarobot": "DATAROBOT_",
    "pieces": "PIECES_",
    "training": "TRAINING_",
    "tunethemodel": "TTM_",
}


def configured_listing(cmd: list[str], env: dict[str, str]) -> list[dict[str, Any]]:
    """tools/list of a server that sees only `env`'s backend settings (none of this shell's)."""
    unset = (*BACKEND_PREFIXES.values(), "MODELOPS_")
    base = {name: value for name, value in os.environ.items() if not name.startswith(unset)}
    with (
        tempfile.TemporaryDirectory(prefix="bench-state-") as state,
        common.StdioRpc(cmd, {**base, **env, "MODELOPS_STATE_DIR": state}) as rpc,
    ):
        rpc.initialize()
        return rpc.list_tools()


def by_configuration(sandbox_env: dict[str, str], backends: list[str], quick: bool) -> dict[str, Any]:
    """Tools, bytes and estimated tokens of the default listing per configuration, in each discovery mode."""
    configurations: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {"nothing": ({}, ())}
    for backend in backends[:1] if quick else backends:
        alone = {k: v for k, v in sandbox_env.items() if k.startswith(BACKEND_PREFIXES[backend])}
        configurations[backend] = (alone, ())
    configurations["all_five"] = (dict(sandbox_env), ())
    configurations["sandbox"] = ({}, ("--sandbox",))
    found: dict[str, Any] = {}
    for mode in ("tools", "search"):
        found[mode] = {}
        for name, (env, flags) in configurations.items():
            tools = configured_listing(common.serve_command(*flags, "--discovery", mode), env)
            total = common.tool_sizes(tools, common.prefix_group)["total"]
            found[mode][name] = {k: total[k] for k in ("tools", "bytes", "estimated_tokens_bytes_div_4")}
    return found


def _compact(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def _without_descriptions(schema: Any) -> Any:
    """The schema with every `description` string gone (a property *named* description stays)."""
    if isinstance(schema, dict):
        return {
            key: (
                {k: _without_descriptions(v) for k, v in sub.items()}
                if key == "properties"
                else _without_descriptions(sub)
            )
            for key, sub in schema.items()
            if not (key == "description" and isinstance(sub, str))
        }
    if isinstance(schema, list):
        return [_without_descriptions(sub) for sub in schema]
    return schema


def split(tools: list[dict[str, Any]], group_of: Any = common.prefix_group) -> dict[str, Any]:
    """Where the bytes go, per group and in total. `model_visible` is name + description + inputSchema, what
    hosts pass to a model (dumped as {"name","description","inputSchema"}); the parts are each field's compact
    JSON: tool descriptions, descriptions inside inputSchema, the inputSchema without them (structure),
    outputSchema, annotations, and the rest (title, keys, _meta, execution) of the wire bytes."""

    def parts(tool: dict[str, Any]) -> dict[str, int]:
        from mcp import types

        wire = types.Tool.model_validate(tool).model_dump(by_alias=True, mode="json", exclude_none=True)
        visible = {k: wire[k] for k in ("name", "description", "inputSchema") if k in wire}
        schema = wire.get("inputSchema", {})
        structure = _compact(_without_descriptions(schema))
        found = {
            "bytes": _compact(wire),
            "model_visible": _compact(visible),
            "tool_descriptions": len(wire.get("description", "").encode()),
            "input_descriptions": _compact(schema) - structure,
            "input_structure": structure,
            "output_schemas": _compact(wire["outputSchema"]) if "outputSchema" in wire else 0,
            "annotations": _compact(wire["annotations"]) if "annotations" in wire else 0,
        }
        found["other"] = found["bytes"] - sum(
            found[k]
            for k in ("tool_descriptions", "input_descriptions", "input_structure", "output_schemas", "annotations")
        )
        return found

    total: dict[str, int] = {}
    groups: dict[str, dict[str, int]] = {}
    for tool in tools:
        for key, size in parts(tool).items():
            total[key] = total.get(key, 0) + size
            group = groups.setdefault(group_of(tool["name"]), {})
            group[key] = group.get(key, 0) + size
    return {"total": total, "per_group": dict(sorted(groups.items()))}


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
        ours_tools = listing(common.serve_command(), env)
        ours = common.tool_sizes(ours_tools, common.prefix_group)
        results["ours_full"] = ours
        results["ours_full_split"] = split(ours_tools)
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
        if "--discovery" in flags:
            results["ours_by_configuration"] = by_configuration(env, backends, args.quick)
        if peer is None:
            results["peer"] = {"skipped": why_no_peer}
        else:
            peer_tools = listing(peer.stdio_command(), env)
            theirs = common.tool_sizes(peer_tools, common.prefix_group)
            results["peer"] = theirs
            results["peer_split"] = split(peer_tools)
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
        mine, peers = results["ours_full_split"], results["peer_split"]
        results["ratio_ours_to_peer"]["model_visible"] = {
            "total": common.ratio(mine["total"]["model_visible"], peers["total"]["model_visible"]),
            "per_backend": {
                backend: common.ratio(
                    mine["per_group"].get(backend, {}).get("model_visible"),
                    peers["per_group"].get(backend, {}).get("model_visible"),
                )
                for backend in backends
            },
        }
        results["target_full_to_peer"] = TARGET_FULL_TO_PEER
        results["met_full_to_peer"] = results["ratio_ours_to_peer"]["total"] <= TARGET_FULL_TO_PEER
    common.write_results(results, args.out)


if __name__ == "__main__":
    main()
