"""How operations relate, read from the documents alone: which are deprecated and what replaces them, and
which usually follow which (an id one returns and another takes, a job to wait for, an upload to bind).

Nothing here names a tool: every relation is derived from the operations' own data (`deprecated: true` or
the description's words, output properties, required arguments, job declarations, paths), so a new
document gets the same relations without a table to keep.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelops_mcp.spec.catalog import Operation

JOBS_WAIT = "jobs_wait"
# A description that says the operation itself is on its way out (not a field of it, not another API).
_DEPRECATED = re.compile(
    r"\bDEPRECATED\b|\b(api|route|endpoint|operation)\s+is\s+(going\s+to\s+be\s+)?deprecated\b", re.IGNORECASE
)
# "METHOD /path" references in a description, e.g. "use version route instead: GET /api/v2/customModels/...".
_ROUTE = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\s+(/[\w{}./-]+)")
_USE = re.compile(r"\buse\b", re.IGNORECASE)
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def is_deprecated(op: Operation) -> bool:
    if op.deprecated:
        return True
    summary = op.description.split("\n", 1)[0]
    return "deprecated" in summary.lower() or bool(_DEPRECATED.search(op.description))


@functools.cache
def _words(name: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORDS.findall(name.replace("_", " ")))


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _replacements(op: Operation, same_backend: list[Operation]) -> list[str]:
    """The operations a deprecated one's description points to ("use ... instead: POST /path"): the routes
    named after its last "use", or every route it names when it says no "use"."""
    text = op.description
    uses = list(_USE.finditer(text))
    tail = text[uses[-1].end() :] if uses else text
    found: list[str] = []
    for method, route in _ROUTE.findall(tail):
        for other in same_backend:
            if other is op or other.method != method or not route.rstrip("/").endswith(other.path.rstrip("/")):
                continue
            if other.path.strip("/") and other.tool_name not in found:
                found.append(other.tool_name)
    return found


def _id_outputs(op: Operation) -> dict[tuple[str, ...], str]:
    """The ids an answer carries, by the words another operation's argument would name them with: `file_id`
    as (file,), a bare `id` as the singular of the collection the operation's path creates in."""
    schema = op.output_schema or {}
    properties: Mapping[str, Any] = schema.get("properties", {})
    out: dict[tuple[str, ...], str] = {}
    statics = [s for s in op.path.strip("/").split("/") if s and not s.startswith("{")]
    for name in properties:
        words = _words(name)
        if name == "id" and statics and op.method in ("POST", "PUT", "PATCH"):
            # POST /customModels/ answers the new custom model's id; POST .../versions/ a version's.
            resource = tuple(_singular(w) for w in _words(statics[-1]))
            out[resource] = name
        elif len(words) > 1 and words[-1] in ("id", "key"):
            out[words[:-1]] = name
        elif words == ("key",):
            out[("key",)] = name
    return out


def _wanted(op: Operation) -> list[tuple[str, ...]]:
    """The words of the arguments an operation needs: its required ones, and its session key."""
    wanted = list(op.input_schema.get("required", []))
    if op.session_arg is not None and op.session_arg not in wanted:
        wanted.append(op.session_arg)
    return [words for words in map(_words, wanted) if words]


def _takes(wanted: list[tuple[str, ...]], ids: Mapping[tuple[str, ...], str]) -> int:
    """How many of these arguments an answer with these ids provides: `customModelVersionId` takes a
    version's id, `train_file` a file's, `account` an `accountId`."""
    count = 0
    last_words = {key[-1] for key in ids}
    for words in wanted:
        if words[-1] in ("id", "key") and len(words) > 1:
            # A bare `id` is the resource's: `customModelVersionId` takes a new version's. A named one
            # (`versionId`) is only what the same name takes, not every kind of version.
            stem = words[:-1]
            count += any(stem == key or (name == "id" and stem[-len(key) :] == key) for key, name in ids.items())
        else:
            count += words[-1] in last_words
    return count


@dataclass
class Relations:
    deprecated: dict[str, list[str]] = field(default_factory=dict)  # name -> its replacements
    follows: dict[str, list[str]] = field(default_factory=dict)  # name -> what usually comes next, best first
    needs: dict[str, list[str]] = field(default_factory=dict)  # name -> what must usually come first


def _followers(
    op: Operation,
    backend_ops: list[Operation],
    deprecated: Mapping[str, list[str]],
    wanted: Mapping[str, list[tuple[str, ...]]],
) -> list[str]:
    ids = _id_outputs(op)
    then = None  # an upload's read-back: the tool already makes that call
    if op.upload is not None and op.upload.then is not None:
        then = next((o for o in backend_ops if o.operation_id == op.upload.then.operation), None)
        if then is not None:
            ids.update(_id_outputs(then))
    order = {o.tool_name: i for i, o in enumerate(backend_ops)}
    scored: list[tuple[tuple[Any, ...], str]] = []
    for other in backend_ops:
        if other is op or other is then or other.tool_name in deprecated or other.annotations.destructive_hint:
            continue
        provided = _takes(wanted[other.tool_name], ids)
        if not provided:
            continue
        # The step the answer feeds most; then one on what the operation made (a path under its own, after
        # an id); then one later in the document; then one that makes something (not a read, not an edit).
        rank = (
            -provided,
            not other.path.startswith(op.path.rstrip("/") + "/{"),
            order[other.tool_name] < order[op.tool_name],
            bool(other.annotations.read_only_hint),
            other.method != "POST",
            order[other.tool_name],
        )
        scored.append((rank, other.tool_name))
    found = [name for _, name in sorted(scored)]
    if op.job is not None:
        found.insert(0, JOBS_WAIT)
    return found


def relate(operations: Iterable[Operation]) -> Relations:
    ops = list(operations)
    by_backend: dict[str, list[Operation]] = {}
    for op in ops:
        by_backend.setdefault(op.backend, []).append(op)
    relations = Relations()
    for op in ops:
        if is_deprecated(op):
            relations.deprecated[op.tool_name] = _replacements(op, by_backend[op.backend])
    wanted = {op.tool_name: _wanted(op) for op in ops}
    for op in ops:
        following = _followers(op, by_backend[op.backend], relations.deprecated, wanted)
        relations.follows[op.tool_name] = following
        for name in following:
            relations.needs.setdefault(name, []).append(op.tool_name)
    return relations


def uploads(op: Operation) -> bool:
    """Whether the operation sends data the user has (an upload, a file or a set of files)."""
    return op.upload is not None or op.file_set is not None or any(f.file or f.file_set for f in op.fields)
