"""The ranking techniques tried for `ops_search`, on the same evaluation set (bench/search_eval.json), so the
choice rests on figures: the shipped index, the same index with each of its parts switched off, and two
libraries over the same fields — bm25s (sparse BM25) and rapidfuzz (fuzzy token matching).

    python bench/search_alternatives.py [--out bench/results/search_alternatives.json]

The libraries are not dependencies of the server: `pip install bm25s==0.3.16 rapidfuzz==3.14.6` into the
venv to include them; without them their rows say "not installed".
"""

from __future__ import annotations

import contextlib
import importlib.util
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import search_bench

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.present import search, vocabulary
from modelops_mcp.settings.config import Settings
from modelops_mcp.spec.catalog import Operation

# Each ablation: attributes of modelops_mcp.present.search (or .vocabulary) set while the index is built and queried.
ABLATIONS: dict[str, dict[str, Any]] = {
    "shipped": {},
    "without user vocabulary": {"_USER_WORDS": {}},
    "without backend named in the query": {"mentions": lambda text, backends, plain=None: (set(), text)},
    "without name coverage": {"_NAME_COVERED": 0.0},
    "without the upload step": {"_UPLOAD_STEP": False},
    "plain field-weighted BM25 (none of the above)": {
        "_USER_WORDS": {},
        "mentions": lambda text, backends, plain=None: (set(), text),
        "_NAME_COVERED": 0.0,
        "_UPLOAD_STEP": False,
    },
}


@contextlib.contextmanager
def patched(values: dict[str, Any]) -> Iterator[None]:
    """Set attributes of the search module, or of its vocabulary (the user words live there)."""
    owners = {name: search if hasattr(search, name) else vocabulary for name in values}
    saved = {name: getattr(owners[name], name) for name in values}
    for name, value in values.items():
        setattr(owners[name], name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(owners[name], name, value)


def document(op: Operation) -> str:
    return " ".join(search._fields(op).values())


def bm25s_ranker(ops: list[Operation]) -> search_bench.Rank:
    import bm25s

    corpus = [search.tokens(document(op)) for op in ops]
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)

    def rank(query: str, limit: int) -> list[str]:
        terms = [t for t in search.tokens(query) if any(t in doc for doc in corpus)]
        if not terms:
            return []
        scores = retriever.get_scores(terms)
        order = sorted(range(len(ops)), key=lambda i: -scores[i])
        return [ops[i].tool_name for i in order[:limit] if scores[i] > 0]

    return rank


def rapidfuzz_ranker(ops: list[Operation]) -> search_bench.Rank:
    from rapidfuzz import fuzz, process

    texts = [" ".join(search.tokens(f"{op.tool_name} {op.title} {op.description.split(chr(10))[0]}")) for op in ops]

    def rank(query: str, limit: int) -> list[str]:
        found = process.extract(" ".join(search.tokens(query)), texts, scorer=fuzz.token_set_ratio, limit=limit)
        return [ops[index].tool_name for _, _, index in found]

    return rank


def main() -> None:
    import common

    args = common.parser("search_alternatives", __doc__).parse_args()
    catalog = load_settings_catalog(Settings(state_dir=Path(tempfile.mkdtemp(prefix="search-alt-"))))
    ops = list(catalog.operations.values())
    asked = search_bench.requests()
    results: dict[str, Any] = {"benchmark": "search_alternatives", "machine": common.machine(), "techniques": {}}
    for label, values in ABLATIONS.items():
        with patched(values):
            index = search.OperationIndex(ops)
            figures = search_bench.evaluate(
                lambda q, n, index=index: [h.operation.tool_name for h in index.search(q, n)], asked
            )
        results["techniques"][label] = figures["per_split"]
    libraries = (("bm25s", "bm25s", bm25s_ranker), ("rapidfuzz token_set_ratio", "rapidfuzz", rapidfuzz_ranker))
    for label, module, build in libraries:
        if importlib.util.find_spec(module) is None:
            results["techniques"][label] = "not installed"
            continue
        results["techniques"][label] = search_bench.evaluate(build(ops), asked)["per_split"]
    common.write_results(results, args.out)


if __name__ == "__main__":
    main()
