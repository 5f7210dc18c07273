"""Which operations a server exposes: toolsets (a backend, or one of its groups), an allowlist, read-only.

Clients cap the number of tools they take and every tool costs context, so a user picks what an agent sees.
The catalog stays whole (jobs of any operation are still followed); only the exposed set is listed and
callable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from modelops_mcp.spec.catalog import Catalog, Operation

# Toolset names that stand for sets of backends: those the user configured (the default) and every one.
CONFIGURED = "configured"
ALL = "all"


class SelectionError(ValueError):
    """A toolset or tool name that matches nothing: refused at start, since a typo would hide tools."""


@dataclass(frozen=True)
class Selection:
    # Backends (`datarobot`), groups (`datarobot.tests`), `configured` or `all`; empty with no `tools`
    # either: `configured`.
    toolsets: tuple[str, ...] = ()
    # Tool names or shell-style patterns (`datarobot_get_*`), added to the toolsets' tools.
    tools: tuple[str, ...] = ()
    # Only tools annotated read-only.
    read_only: bool = False
    # The backends the `configured` toolset holds (exposure.py decides them); None: every backend.
    configured: tuple[str, ...] | None = None

    @property
    def named(self) -> tuple[str, ...]:
        """The toolsets in effect: those given, else `configured` unless tools alone were named."""
        return self.toolsets or (() if self.tools else (CONFIGURED,))


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
    configured = set(catalog.backends if selection.configured is None else selection.configured)
    sets = {
        **toolsets(catalog),
        ALL: tuple(catalog.operations),
        CONFIGURED: tuple(name for name, op in catalog.operations.items() if op.backend in configured),
    }
    missing = [name for name in selection.named if name not in sets]
    if missing:
        raise _unknown("toolset", missing, sets)
    chosen: set[str] = set()
    for name in selection.named:
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
    return {
        name: op
        for name, op in catalog.operations.items()
        if name in chosen and (not selection.read_only or op.annotations.read_only_hint)
    }
