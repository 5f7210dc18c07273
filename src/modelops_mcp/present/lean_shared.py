"""Text said once per tool list: an argument described word for word alike in several listed tools keeps
its description in one of them; the others say "As in <that tool>." instead.

DataRobot's version tools share most of their arguments (`baseEnvironmentVersionId`, `requiredMetadataValues`,
`keepTrainingHoldoutData`, …), each described at length in every one of them. A model reading the list reads
the text once and the reference points at it. The reference is only ever to a tool in the same list: with
`--tools` or `--toolsets` listing one of them alone, it keeps its whole text. A description is shared when it
sits at the same place in each schema (the same argument, or the same nested field) and is longer than the
reference. The tool that keeps it is, among those not deprecated, the one sharing the most texts (the first
listed on a tie), so references mostly point at one tool a model reads once.

Answers are said once the same way: an output schema listed word for word alike by several tools (a
DataRobot custom model is what its get, create, update and copy tools answer) is kept by one; the others
list `{"type": "object", "description": "As in <that tool>."}`, which accepts every answer the shared one
did. The tool that keeps it is, among the backend's tools not deprecated, a read-only one (the tool a
model calls to see the object), the first listed on a tie.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from typing import Any

Path = tuple[str, ...]
# A reference must save at least this much over the text it replaces to be worth a model's extra look-up.
_MIN_SAVING = 20


def reference(owner: str) -> str:
    return f"As in {owner}."


def share_descriptions(schemas: dict[str, dict[str, Any]], deprecated: Collection[str]) -> dict[str, dict[str, Any]]:
    """`schemas`: each listed tool's input schema, in listing order. Returns them with shared texts replaced."""
    holders: dict[tuple[Path, str], list[str]] = {}
    for name, schema in schemas.items():
        for path, text in _descriptions(schema, ()):
            holders.setdefault((path, text), []).append(name)
    shares: dict[str, int] = {}
    for names in holders.values():
        if len(names) > 1:
            for name in names:
                shares[name] = shares.get(name, 0) + 1
    order = {name: i for i, name in enumerate(schemas)}
    replace: dict[str, dict[Path, str]] = {}
    for (path, text), names in holders.items():
        if len(names) < 2:
            continue
        owner = min(names, key=lambda n: (n in deprecated, -shares[n], order[n]))
        short = reference(owner)
        if len(text.encode()) - len(short.encode()) < _MIN_SAVING:
            continue
        for name in names:
            if name != owner:
                replace.setdefault(name, {})[path] = short
    return {name: _replaced(schema, (), replace.get(name, {})) for name, schema in schemas.items()}


def _descriptions(schema: Any, at: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "description" and isinstance(value, str):
                yield at, value
            else:
                yield from _descriptions(value, (*at, key))
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            yield from _descriptions(value, (*at, str(i)))


def _replaced(schema: Any, at: Path, texts: dict[Path, str]) -> Any:
    if not texts:
        return schema
    if isinstance(schema, dict):
        return {
            key: texts.get(at, value)
            if key == "description" and isinstance(value, str)
            else _replaced(value, (*at, key), texts)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_replaced(value, (*at, str(i)), texts) for i, value in enumerate(schema)]
    return schema


def share_outputs(
    schemas: dict[str, dict[str, Any] | None],
    deprecated: Collection[str],
    read_only: Collection[str],
    backend: Mapping[str, str],
) -> dict[str, dict[str, Any] | None]:
    """`schemas`: each listed tool's output schema, in listing order. Returns them with repeats referred to.
    `backend`: each tool's; a reference stays within one (a training download does not point at DataRobot)."""
    holders: dict[tuple[str, str], list[str]] = {}
    for name, schema in schemas.items():
        if schema is not None:
            text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
            holders.setdefault((backend.get(name, ""), text), []).append(name)
    order = {name: i for i, name in enumerate(schemas)}
    shared = dict(schemas)
    for (_, text), names in holders.items():
        if len(names) < 2:
            continue
        owner = min(names, key=lambda n: (n in deprecated, n not in read_only, order[n]))
        short = {"type": "object", "description": reference(owner)}
        if len(text) - len(json.dumps(short, separators=(",", ":"))) < _MIN_SAVING:
            continue
        for name in names:
            if name != owner:
                shared[name] = dict(short)
    return shared
