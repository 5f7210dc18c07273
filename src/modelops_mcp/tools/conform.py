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
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from modelops_mcp.tools.openapi import pointer_join

Path = tuple[str | int, ...]
# Each value is nulled, then removed, then its parent is tried: a few steps per path, a bound for the odd case.
_MAX_STEPS = 2000


def _deepest(errors: list[ValidationError]) -> Path:
    """Where the deepest refusal is: fixing it changes the least of the answer."""
    error = max(errors, key=lambda e: len(e.absolute_path))
    path: Path = tuple(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        # The object lacks a key: the missing value is the one to supply (as null) or to give up on.
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [k for k in required if k not in error.instance]
        if missing:
            return (*path, str(missing[0]))
    return path


def _parent(doc: Any, path: Path) -> Any:
    for step in path[:-1]:
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
        path = _deepest(errors)
        while path and tried.get(path, 0) >= 2:
            path = path[:-1]  # nulling and removing it were not enough: its container goes
        if not path:
            if doc == {}:
                break  # even an empty answer does not fit: a schema no answer can meet
            doc, tried = {}, {}  # nothing smaller fits; required fields are then supplied as null
            changed.append("/")
            continue
        parent = _parent(doc, path)
        key = path[-1]
        changed.append(pointer_join("", *(str(p) for p in path)))
        if isinstance(parent, list):
            del parent[int(key)]  # a row that does not fit leaves the list, the others stay
            tried = {p: n for p, n in tried.items() if p[: len(path) - 1] != path[:-1]}
        elif tried.get(path, 0) == 0:
            parent[key] = None
            tried[path] = 1
        else:
            parent.pop(key, None)
            tried[path] = 2
    return doc, list(dict.fromkeys(changed))
