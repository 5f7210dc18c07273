"""Payload builders for `x-mcp.upload`: rows from a local CSV/JSONL file or inline lists, checked before any request.

Tune the Model takes a dataset as JSON PUT to a presigned URL: `{"inputs": [...], "classes": [...]}` for a
classifier, `{"inputs": [...], "outputs": [...]}` for a generator, at least 32 rows. Agents hold data as a
file far more often than as JSON lists, so a CSV or JSONL path is accepted too; string labels are mapped
to class numbers (sorted), and the mapping is returned so predictions can be read back.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIN_ROWS = 32
MAX_ROWS = 1_000_000
INPUT_COLUMNS = ("input", "inputs", "text", "prompt")
TARGET_COLUMNS = {
    "classifier": ("class", "classes", "label", "target"),
    "generator": ("output", "outputs", "completion", "response", "target"),
}


class PayloadError(ValueError):
    """Arguments that cannot make a payload; the message says how to fix them."""


@dataclass(frozen=True, slots=True)
class Payload:
    body: Any
    # Shown to the agent with the result (row count, the label → class mapping).
    summary: dict[str, Any] = field(default_factory=dict)


def _read_rows(path: Path) -> list[dict[str, Any]]:
    """Blocking: a CSV with a header row, or JSON Lines of objects."""
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    raise PayloadError(f"{path.name} line {number} is not JSON") from None
                if not isinstance(row, dict):
                    raise PayloadError(f"{path.name} line {number} is not a JSON object")
                rows.append(row)
                if len(rows) > MAX_ROWS:
                    raise PayloadError(f"{path.name} has more than {MAX_ROWS} rows")
        else:
            for row in csv.DictReader(handle):
                rows.append(dict(row))
                if len(rows) > MAX_ROWS:
                    raise PayloadError(f"{path.name} has more than {MAX_ROWS} rows")
    return rows


def _column(rows: list[dict[str, Any]], names: tuple[str, ...], what: str, source: str) -> list[Any]:
    keys = {k.strip().lower(): k for k in rows[0]} if rows else {}
    found = next((keys[n] for n in names if n in keys), None)
    if found is None:
        shown = ", ".join(sorted(keys)) or "none"
        raise PayloadError(f"{source} has no {what} column (one of {', '.join(names)}; it has: {shown})")
    return [row.get(found) for row in rows]


def _classes(labels: list[Any], given: list[str] | None = None) -> tuple[list[int], list[str] | None]:
    """Class numbers and their names where known: string labels are numbered in the order of `given` (the
    `class_names` argument) or else sorted; number labels keep their numbers and take `given` as names."""
    if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in labels):
        numbers: list[int] | None = list(labels)
    else:
        texts = [str(v).strip() for v in labels]
        numbers = [int(t) for t in texts] if all(t.isdigit() for t in texts) else None
    if numbers is not None:
        if given is not None and max(numbers) >= len(given):
            raise PayloadError(
                f"class {max(numbers)} has no name: class_names names {len(given)} classes (0 to {len(given) - 1})"
            )
        return numbers, given
    names = given if given is not None else sorted(set(texts))
    index = {name: number for number, name in enumerate(names)}
    unknown = sorted(set(texts) - set(index))
    if unknown:
        raise PayloadError(f"label {unknown[0]!r} is not in class_names ({', '.join(names)})")
    return [index[t] for t in texts], names


def tunethemodel_rows(arguments: dict[str, Any], path: Path | None) -> Payload:
    """Blocking when `path` is given (reads it)."""
    task = str(arguments.get("task_type", ""))
    if task not in TARGET_COLUMNS:
        raise PayloadError(f"task_type must be one of {', '.join(TARGET_COLUMNS)}")
    target_key = "classes" if task == "classifier" else "outputs"
    inline = "inputs" in arguments
    if inline == (path is not None):
        raise PayloadError(f"give either `path` (a CSV or JSONL file) or `inputs` with `{target_key}`, not both")
    if path is not None:
        rows = _read_rows(path)
        if not rows:
            raise PayloadError(f"{path.name} has no rows")
        inputs = _column(rows, INPUT_COLUMNS, "input", path.name)
        targets = _column(rows, TARGET_COLUMNS[task], "class" if task == "classifier" else "output", path.name)
    else:
        if target_key not in arguments:
            raise PayloadError(f"`inputs` needs `{target_key}` beside it for a {task} dataset")
        inputs, targets = list(arguments["inputs"]), list(arguments[target_key])
    if len(inputs) != len(targets):
        raise PayloadError(f"{len(inputs)} inputs but {len(targets)} {target_key}: every row needs both")
    if len(inputs) < MIN_ROWS:
        raise PayloadError(f"{len(inputs)} rows: Tune the Model needs at least {MIN_ROWS} rows per dataset")
    if any(v is None or str(v) == "" for v in (*inputs, *targets)):
        raise PayloadError("a row has an empty input or target")
    summary: dict[str, Any] = {"rows": len(inputs)}
    given = arguments.get("class_names")
    if given is not None and task != "classifier":
        raise PayloadError("class_names is only for a classifier dataset")
    if task == "classifier":
        classes, names = _classes(targets, [str(n) for n in given] if given is not None else None)
        summary["class_names"] = names
        return Payload({"inputs": [str(v) for v in inputs], "classes": classes}, summary)
    return Payload({"inputs": [str(v) for v in inputs], "outputs": [str(v) for v in targets]}, summary)


PayloadBuilder = Callable[[dict[str, Any], Path | None], Payload]
PAYLOADS: dict[str, PayloadBuilder] = {"tunethemodel_rows": tunethemodel_rows}
