"""Search ranking: how often `ops_search` puts the operation a user's request needs where an agent looks,
measured on bench/search_eval.json (requests worded as users word them in chat, written by hand, not made
from the operations' summaries), with every backend loaded.

    python bench/search_bench.py [--quick] [--out bench/results/search.json]

Figures, for the dev part (used while tuning the ranking), the held-out part (not looked at while tuning)
and both, and per backend: recall@3 (every operation a request expects is in the top 3: a multi-step
request needs each step), first (the top hit is one the request expects or accepts), and deprecated-below
(each deprecated operation a request names ranks below its first expected operation, or not at all).
The test `tests/test_search_eval.py` asserts the targets from the same functions. `--quick` changes
nothing: ranking 86 requests takes milliseconds.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

EVAL_SET = Path(__file__).resolve().parent / "search_eval.json"
TARGET_RECALL_AT_3 = 0.95
TARGET_FIRST = 0.80
# How deep the ranking is read for the deprecated-below check: an operation past this is "not at all".
DEPTH = 25

Rank = Callable[[str, int], Sequence[str]]


def requests(path: Path = EVAL_SET) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text())["requests"])


def backend_of(name: str) -> str:
    return name.split("_", 1)[0]


def judge(request: dict[str, Any], ranked: Sequence[str]) -> dict[str, bool]:
    expect: list[str] = request["expect"]
    accept = set(expect) | set(request.get("accept", []))
    first_expected = min((ranked.index(n) for n in expect if n in ranked), default=len(ranked))
    below = all(n not in ranked or ranked.index(n) > first_expected for n in request.get("below", []))
    return {
        "recall_at_3": all(n in ranked[:3] for n in expect),
        "first": bool(ranked) and ranked[0] in accept,
        "deprecated_below": below,
    }


def figures(judged: Iterable[dict[str, bool]]) -> dict[str, Any]:
    rows = list(judged)
    count = len(rows)
    if not count:
        return {"requests": 0}
    return {
        "requests": count,
        "recall_at_3": round(sum(r["recall_at_3"] for r in rows) / count, 4),
        "first": round(sum(r["first"] for r in rows) / count, 4),
        "deprecated_below": round(sum(r["deprecated_below"] for r in rows) / count, 4),
    }


def evaluate(rank: Rank, asked: list[dict[str, Any]]) -> dict[str, Any]:
    judged = [(request, judge(request, list(rank(request["query"], DEPTH)))) for request in asked]
    per_split = {
        split: figures(j for r, j in judged if r["split"] == split) for split in sorted({r["split"] for r in asked})
    }
    backends = sorted({backend_of(n) for r in asked for n in r["expect"]})
    per_backend = {b: figures(j for r, j in judged if backend_of(r["expect"][0]) == b) for b in backends}
    per_kind = {k: figures(j for r, j in judged if r["kind"] == k) for k in sorted({r["kind"] for r in asked})}
    return {
        "all": figures(j for _, j in judged),
        "per_split": per_split,
        "per_backend": per_backend,
        "per_kind": per_kind,
    }


def misses(rank: Rank, asked: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    """The failed requests of one split with their top 3: for tuning on dev only."""
    out = []
    for request in asked:
        if request["split"] != split:
            continue
        ranked = list(rank(request["query"], DEPTH))
        verdict = judge(request, ranked)
        if not all(verdict.values()):
            out.append({"query": request["query"], "expect": request["expect"], "top": ranked[:3], **verdict})
    return out


def shipped_ranker() -> Rank:
    from modelops_mcp.app.runtime import load_settings_catalog
    from modelops_mcp.present.search import OperationIndex
    from modelops_mcp.settings.config import Settings

    catalog = load_settings_catalog(Settings(state_dir=Path(tempfile.mkdtemp(prefix="search-bench-"))))
    index = OperationIndex(catalog.operations.values())
    return lambda query, limit: [hit.operation.tool_name for hit in index.search(query, limit)]


def main() -> None:
    import common

    p = common.parser("search", __doc__)
    p.add_argument("--misses", choices=["dev"], help="print the failed dev requests (never the held-out ones)")
    args = p.parse_args()
    asked = requests()
    rank = shipped_ranker()
    if args.misses:
        for miss in misses(rank, asked, args.misses):
            print(json.dumps(miss))
    results: dict[str, Any] = {
        "benchmark": "search",
        "machine": common.machine(),
        "eval_set": str(EVAL_SET.relative_to(common.ROOT)),
        "targets": {"recall_at_3": TARGET_RECALL_AT_3, "first": TARGET_FIRST, "deprecated_below": 1.0},
        **evaluate(rank, asked),
    }
    common.write_results(results, args.out)


if __name__ == "__main__":
    main()
