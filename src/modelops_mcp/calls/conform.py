"""A 2xx answer that breaks its tool's output schema, made to fit: the offending values nulled or left out.

The backend carried the call out; reporting it as a failure would make an agent repeat it (a duplicate model,
a second fit). But a client rejects a result whose structuredContent its outputSchema refuses (the TypeScript
SDK does, and it also refuses a non-error result without structuredContent when there is a schema). So the
answer is fitted: each value the schema refuses becomes null where null is allowed (every top-level field
allows it, see `tolerant`), else is left out of its object or list, else its parent is, up to the top. The
caller shows the whole answer as text and names the paths returned here.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from modelops_mcp.spec.openapi import pointer_join

if TYPE_CHECKING:  # imported on first use (tools/validation.py compile_schema), not at a server's start
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

Path = tuple[str | int, ...]
# Each pass fixes every refusal it finds; a value takes at most three (null, remove, its container) per level.
_MAX_STEPS = 500


def _target(error: ValidationError) -> Path:
    """Where a refusal is to be fixed: the refused value, or for a missing required key, that key's place."""
    path: Path = tuple(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [k for k in required if k not in error.instance]
        if missing:
            return (*path, str(missing[0]))
    return path


def _at(doc: Any, path: Path) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def conform(answer: Any, validator: Draft202012Validator) -> tuple[Any, list[str]]:
    """`answer` fitted to the validator's schema, and the JSON pointers of the values changed (or `/`)."""
    if validator.is_valid(answer):
        return answer, []
    changed: list[str] = []
    doc: Any = copy.deepcopy(answer)
    if not isinstance(doc, dict):
        doc, changed = {}, ["/"]
    tried: dict[Path, int] = {}  # 1: set to null, 2: removed
    for _ in range(_MAX_STEPS):
        errors = list(validator.iter_errors(doc))
        if not errors:
            break
        paths = set()
        for error in errors:
            path = _target(error)
            while path and tried.get(path, 0) >= 2:
                path = path[:-1]  # nulling and removing it were not enough: its container goes
            paths.add(path)
        if () in paths:
            if doc == {}:
                break  # even an empty answer does not fit: a schema no answer can meet
            doc, tried = {}, {}  # nothing smaller fits; required fields are then supplied as null
            changed.append("/")
            continue
        # One pass fixes every refusal that does not overlap a deeper one (a long list's rows all at once);
        # rows are dropped at the end of the pass, so that the other paths' indexes still hold meanwhile.
        handled: list[Path] = []
        drops: dict[Path, list[int]] = {}
        for path in sorted(paths, key=len, reverse=True):
            if any(path[: len(h)] == h or h[: len(path)] == path for h in handled):
                continue
            handled.append(path)
            parent = _at(doc, path[:-1])
            key = path[-1]
            changed.append(pointer_join("", *(str(p) for p in path)))
            if isinstance(parent, list):
                drops.setdefault(path[:-1], []).append(int(key))  # a row that does not fit leaves the list
            elif tried.get(path, 0) == 0:
                parent[key] = None
                tried[path] = 1
            else:
                parent.pop(key, None)
                tried[path] = 2
        for rows, indexes in drops.items():
            listed = _at(doc, rows)
            for index in sorted(indexes, reverse=True):
                del listed[index]
            tried = {p: n for p, n in tried.items() if p[: len(rows)] != rows}
    return doc, _outermost(changed)


def listed(paths: list[str], most: int = 10) -> str:
    """The changed paths as a result's note names them: the first `most`, then how many more."""
    more = f" and {len(paths) - most} more" if len(paths) > most else ""
    return ", ".join(paths[:most]) + more


def _outermost(pointers: list[str]) -> list[str]:
    """Each change once, by its outermost path (a row dropped after its field was nulled is the row)."""
    if "/" in pointers:
        return ["/"]
    unique = list(dict.fromkeys(pointers))
    return [p for p in unique if not any(p.startswith(q + "/") for q in unique)]
