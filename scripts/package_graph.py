"""The package graph of modelops_mcp folded to its top-level parts: who imports whom, and which pairs import
each other (a cycle between packages). The view behind the import-linter contracts in pyproject.toml.

    PYTHONPATH=src .venv/bin/python scripts/package_graph.py     # grimp comes with import-linter (the test extra)
"""

from __future__ import annotations

import itertools

import grimp

PACKAGE = "modelops_mcp"


def part(module: str) -> str | None:
    """`modelops_mcp.jobs.store` -> `jobs`; the package itself has no part."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else None


def main() -> None:
    graph = grimp.build_graph(PACKAGE)
    parts = sorted({p for m in graph.modules if (p := part(m)) is not None})
    edges: dict[str, set[str]] = {p: set() for p in parts}
    for module in graph.modules:
        source = part(module)
        if source is None:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            target = part(imported)
            if target is not None and target != source:
                edges[source].add(target)
    print(f"{len(parts)} top-level parts, {len(graph.modules)} modules")
    for source in parts:
        print(f"  {source} -> {', '.join(sorted(edges[source])) or '-'}")
    mutual = [(a, b) for a, b in itertools.combinations(parts, 2) if b in edges[a] and a in edges[b]]
    print(f"pairs importing each other: {len(mutual)}", *(f"{a} <-> {b}" for a, b in mutual))


if __name__ == "__main__":
    main()
