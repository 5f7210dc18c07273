"""Which operations a server exposes: toolsets (a backend, or one of its groups), an allowlist, read-only.

Clients cap the number of tools they take and every tool costs context, so a user picks what an agent sees.
The catalog stays whole (jobs of any operation are still followed); only the exposed set is listed and
callable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from modelops_mcp.tools.catalog import Catalog, Operation


class SelectionError(ValueError):
    """A toolset or tool name that matches nothing: refused at start, since a typo would hide tools."""


@dataclass(frozen=True)
class Selection:
    # Backends (`datarobot`) or groups (`datarobot.tests`); empty with no `tools` either: everything.
    toolsets: tuple[str, ...] = ()
    # Tool names or shell-style patterns (`datarobot_get_*`), added to the toolsets' tools.
    tools: tuple[str, ...] = ()
    # Only tools annotated read-only.
    read_only: bool = False

    @property
    def everything(self) -> bool:
        return not self.toolsets and not self.tools and not self.read_only


def toolsets(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """Every selectable toolset and its tool names: each backend, then each `<backend>.<group>`."""
    sets: dict[str, list[str]] = {}
    for op in catalog.operations.values():
        sets.setdefault(op.backend, []).append(op.tool_name)
        if op.group is not None:
            sets.setdefault(f"{op.backend}.{op.group}", []).append(op.tool_name)
    return {name: tuple(names) for name, names in sorted(sets.items())}


def _unknown(kind: str, names: Iterable[str], known: Iterable[str]) -> SelectionError:
    shown = ", ".join(sorted(known))
    return SelectionError(f"unknown {kind} {', '.join(repr(n) for n in names)}; known: {shown}")


def select(catalog: Catalog, selection: Selection) -> dict[str, Operation]:
    """The exposed operations by tool name, in catalog order."""
    if selection.everything:
        return dict(catalog.operations)
    chosen: set[str] = set()
    if selection.toolsets or selection.tools:
        sets = toolsets(catalog)
        missing = [name for name in selection.toolsets if name not in sets]
        if missing:
            raise _unknown("toolset", missing, sets)
        for name in selection.toolsets:
            chosen.update(sets[name])
        unmatched = []
        for pattern in selection.tools:
            matched = [name for name in catalog.operations if fnmatchcase(name, pattern)]
            if not matched:
                unmatched.append(pattern)
            chosen.update(matched)
        if unmatched:
            raise SelectionError(
                f"no tool matches {', '.join(repr(p) for p in unmatched)}; `modelops-mcp tools` lists them"
            )
    else:
        chosen = set(catalog.operations)
    return {
        name: op
        for name, op in catalog.operations.items()
        if name in chosen and (not selection.read_only or op.annotations.read_only_hint)
    }
