"""Class names for a backend that answers classes by number only, kept by the server (`x-mcp.labels`).

Tune the Model takes a classifier dataset as class numbers and answers `classify` with bare scores, one per
class number; the names exist only where the data came from (the labels of the user's CSV, numbered by the
upload's payload builder, or names given beside inline numbers). The official client keeps none either
(tune-the-model 0.1.33 `tune_the_model/cli.py:456`: `classify` returns `r["answer"]["scores"]`). So the
server remembers them: an upload records its names under the file's id, a bind copies the train file's names
to the model, and a classify answer gets `classes` (name → score) beside `scores`, its schema unchanged
otherwise. Kept in a small JSON file in the state dir, by backend origin, so a restart still knows them and
two endpoints' ids never mix.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any, Protocol

from modelops_mcp.core.state_file import write_json
from modelops_mcp.core.state_table import StateTable
from modelops_mcp.spec.openapi import MISSING, resolve_pointer

log = logging.getLogger(__name__)

CLASSES = "classes"
# Oldest names are forgotten past this many records: the file stays small however many uploads there were.
MAX_RECORDS = 10_000
_SEP = "\x00"


def with_classes_output(schema: dict[str, Any] | None, scores: str) -> dict[str, Any] | None:
    """`schema` with a `classes` object beside the scores at `scores` (a JSON pointer), when that path is
    described; the rest of the schema, and every answer it accepted, unchanged."""
    if schema is None:
        return None
    parts = [p for p in scores.split("/")[1:]]
    if not parts:
        return schema

    def add(node: dict[str, Any], path: list[str]) -> dict[str, Any]:
        properties = node.get("properties")
        if not isinstance(properties, dict):
            return node
        if len(path) == 1:
            classes = {
                "type": "object",
                "additionalProperties": {"type": "number"},
                "description": "Each class's name and its score, where the server knows the names (from the "
                "dataset's labels at upload): the same figures as `scores`, in class-number order.",
            }
            return {**node, "properties": {**properties, CLASSES: classes}}
        child = properties.get(path[0])
        if not isinstance(child, dict):
            return node
        return {**node, "properties": {**properties, path[0]: add(child, path[1:])}}

    return add(schema, parts)


def with_classes(body: Any, scores: str, names: list[str]) -> Any:
    """`body` with `classes` beside the list at `scores`, when it has one score per name; else `body` as is."""
    parts = scores.split("/")[1:]
    values = resolve_pointer(body, scores)
    if values is MISSING or not isinstance(values, list) or len(values) != len(names) or not parts:
        return body
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return body

    def add(node: Any, path: list[str]) -> Any:
        if not isinstance(node, dict):
            return node
        if len(path) == 1:
            return {**node, CLASSES: dict(zip(names, values, strict=True))}
        return {**node, path[0]: add(node.get(path[0]), path[1:])}

    return add(body, parts)


class ClassNameStore(Protocol):
    def get(self, origin: str, record: str, record_id: Any) -> list[str] | None: ...
    def remember(self, origin: str, record: str, record_id: Any, names: list[str]) -> None: ...


def _key(origin: str, record: str, record_id: Any) -> str:
    return _SEP.join((origin, record, str(record_id)))


class StoredClassNames:
    """Class names in the replicas' shared store, so a dataset uploaded through one replica is labelled by all."""

    def __init__(self, table: StateTable) -> None:
        self._table = table

    def get(self, origin: str, record: str, record_id: Any) -> list[str] | None:
        raw = self._table.state_get(self._row(_key(origin, record, record_id)))
        names = json.loads(raw) if raw is not None else None
        return [str(n) for n in names] if isinstance(names, list) else None

    def remember(self, origin: str, record: str, record_id: Any, names: list[str]) -> None:
        self.put(_key(origin, record, record_id), names)

    def put(self, key: str, names: list[str]) -> None:
        self._table.state_put(self._row(key), json.dumps(list(names)))

    @staticmethod
    def _row(key: str) -> str:
        # The key's parts as JSON: a database text value may not hold the file's NUL separator.
        return "class_names:" + json.dumps(key.split(_SEP))


class ClassNames:
    """Class names by (origin, record kind, record id), written atomically to a JSON file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._names: dict[str, list[str]] = self._load()

    _key = staticmethod(_key)

    def items(self) -> list[tuple[str, list[str]]]:
        """Every remembered record (its key) and its names, oldest first (`store migrate` copies them)."""
        with self._lock:
            return [(key, list(names)) for key, names in self._names.items()]

    def _load(self) -> dict[str, list[str]]:
        try:
            raw = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable class-name file %s: %s", self._path, exc)
            return {}
        if not isinstance(raw, dict):
            return {}
        return {
            k: v
            for k, v in raw.items()
            if isinstance(k, str) and isinstance(v, list) and all(isinstance(n, str) for n in v)
        }

    def get(self, origin: str, record: str, record_id: Any) -> list[str] | None:
        with self._lock:
            names = self._names.get(self._key(origin, record, record_id))
            return list(names) if names is not None else None

    def remember(self, origin: str, record: str, record_id: Any, names: list[str]) -> None:
        key = self._key(origin, record, record_id)
        with self._lock:
            if self._names.get(key) == names:
                return
            self._names.pop(key, None)  # re-inserted last: the newest is forgotten last
            self._names[key] = list(names)
            while len(self._names) > MAX_RECORDS:
                del self._names[next(iter(self._names))]
            self._write()

    def _write(self) -> None:
        write_json(self._path, self._names, prefix=".class-names-")
