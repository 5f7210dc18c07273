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
list `{"type": "object", "description": "As <that tool> answers."}`, which accepts every answer the shared
one did; so do a list tool's rows that are exactly another tool's whole answer. The tool that keeps it
is, among the backend's tools not deprecated, a read-only one (the tool a model calls to see the object),
the first listed on a tie.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from modelops_mcp.present.lean import map_items

Path = tuple[str, ...]
# A reference must save at least this much over the text it replaces to be worth a model's extra look-up.
_MIN_SAVING = 20


def reference(owner: str) -> str:
    return f"As in {owner}."


def answers_as(owner: str) -> str:
    """What a shared output schema says in place of its fields: the tool whose answer has them."""
    return f"As {owner} answers."


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
    owners: dict[tuple[str, str], str] = {}
    for (group, text), names in holders.items():
        owner = owners[group, text] = min(names, key=lambda n: (n in deprecated, n not in read_only, order[n]))
        if _saving(text, owner) < _MIN_SAVING:
            continue
        for name in names:
            if name != owner:
                shared[name] = _referring(owner)
    # A list tool's rows shaped as another tool's whole answer (datarobot_list_custom_models' rows are what
    # datarobot_get_custom_model answers) refer to it the same way.
    for name, schema in shared.items():
        if schema is not None and "properties" in schema and shared[name] is schemas[name]:
            owner_of = functools.partial(_owner, owners, backend.get(name, ""), name=name)
            shared[name] = _rows_referred(schema, owner_of)
    return shared


def _referring(owner: str) -> dict[str, Any]:
    return {"type": "object", "description": answers_as(owner)}


def _saving(text: str, owner: str) -> int:
    return len(text) - len(json.dumps(_referring(owner), separators=(",", ":")))


def _owner(owners: dict[tuple[str, str], str], group: str, text: str, *, name: str) -> str | None:
    """The tool whose whole answer `text` is, when referring to it is worth it (and it is not `name`)."""
    owner = owners.get((group, text))
    return owner if owner not in (None, name) and _saving(text, owner or "") >= _MIN_SAVING else None


def _rows_referred(schema: dict[str, Any], owner_of: Callable[[str], str | None]) -> dict[str, Any]:
    def referred(items: dict[str, Any]) -> dict[str, Any]:
        owner = owner_of(json.dumps(items, sort_keys=True, separators=(",", ":"))) if "properties" in items else None
        return items if owner is None else _referring(owner)

    fields = schema["properties"].items()
    return {**schema, "properties": {k: map_items(f, referred) if isinstance(f, dict) else f for k, f in fields}}
