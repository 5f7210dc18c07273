"""Adjustments: the recorded, explained hand edits between a generated schema document and the committed one.

A generator writes what its sources say; everything a person then changed by hand (curated texts, `x-mcp`
declarations, fixes to the seed) is a list of JSON Patch-style operations, each with a required `why`:

    {"op": "replace", "path": "/paths/~1customModels~1/post/summary", "value": "...", "why": "..."}

`op` is `add`, `replace` or `remove` (RFC 6902 semantics and JSON Pointer paths). JSON objects keep their key
order in the committed documents, so an `add` into an object may name `after`: the sibling key the new key
follows (`null`: first); without it the key goes last, as in RFC 6902.

`record` computes the operations that turn one document into another, so that a hand edit of the committed
document can be turned into entries (with one reason) instead of being written out by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tag_toolsets import dumps

Json = Any
Entry = dict[str, Any]

OPS = ("add", "replace", "remove")


class AdjustmentError(ValueError):
    """An adjustment that does not apply (its path does not exist, or it is malformed)."""


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def pointer(tokens: list[str]) -> str:
    return "".join("/" + escape(t) for t in tokens)


def split_pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise AdjustmentError(f"{path!r} is not a JSON Pointer")
    return [unescape(t) for t in path[1:].split("/")]


def load(path: Path) -> list[Entry]:
    """Read an adjustments file and check every entry's shape (a `why` is required)."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise AdjustmentError(f"{path}: expected a list of adjustments")
    for index, entry in enumerate(entries):
        where = f"{path.name}[{index}]"
        if not isinstance(entry, dict) or entry.get("op") not in OPS or not isinstance(entry.get("path"), str):
            raise AdjustmentError(f"{where}: needs op (one of {', '.join(OPS)}) and path")
        if not isinstance(entry.get("why"), str) or not entry["why"].strip():
            raise AdjustmentError(f"{where}: every adjustment says why")
        if entry["op"] != "remove" and "value" not in entry:
            raise AdjustmentError(f"{where}: {entry['op']} needs a value")
    return entries


def save(path: Path, entries: list[Entry]) -> None:
    path.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _parent(doc: Json, tokens: list[str], where: str) -> Json:
    node = doc
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise AdjustmentError(f"{where}: no {token!r} there")
    return node


def _insert_after(obj: dict[str, Json], key: str, value: Json, after: str | None) -> None:
    items = [(k, v) for k, v in obj.items() if k != key]
    if after is not None and after not in obj:
        raise AdjustmentError(f"no key {after!r} to add {key!r} after")
    position = 0 if after is None else next(i for i, (k, _) in enumerate(items) if k == after) + 1
    items.insert(position, (key, value))
    obj.clear()
    obj.update(items)


def apply_one(doc: Json, entry: Entry) -> Json:
    """Apply one entry in place (returns the document: replacing the root returns the new root)."""
    tokens = split_pointer(entry["path"])
    op, where = entry["op"], entry["path"]
    value = json.loads(json.dumps(entry.get("value")))
    if not tokens:
        if op != "replace":
            raise AdjustmentError(f"{where}: only replace applies to the whole document")
        return value
    parent = _parent(doc, tokens[:-1], where)
    last = tokens[-1]
    if isinstance(parent, dict):
        if op == "add":
            if "after" in entry:
                _insert_after(parent, last, value, entry["after"])
            else:
                parent.pop(last, None)
                parent[last] = value
        elif last not in parent:
            raise AdjustmentError(f"{where}: nothing to {op}")
        elif op == "replace":
            parent[last] = value
        else:
            del parent[last]
    elif isinstance(parent, list):
        if op == "add":
            index = len(parent) if last == "-" else int(last)
            if index > len(parent):
                raise AdjustmentError(f"{where}: index out of range")
            parent.insert(index, value)
        else:
            if not last.isdigit() or int(last) >= len(parent):
                raise AdjustmentError(f"{where}: index out of range")
            if op == "replace":
                parent[int(last)] = value
            else:
                del parent[int(last)]
    else:
        raise AdjustmentError(f"{where}: the parent is neither an object nor an array")
    return doc


def apply(doc: Json, entries: list[Entry]) -> Json:
    for entry in entries:
        doc = apply_one(doc, entry)
    return doc


def _same(a: Json, b: Json) -> bool:
    """Equal as JSON *and* in key order (the documents are compared as text)."""
    return json.dumps(a) == json.dumps(b)


def record(generated: Json, target: Json, why: str, tokens: list[str] | None = None) -> list[Entry]:
    """The entries that turn `generated` into `target` (key order included), each carrying `why`."""
    tokens = tokens or []
    if _same(generated, target):
        return []
    if isinstance(generated, dict) and isinstance(target, dict):
        return _record_object(generated, target, why, tokens)
    if isinstance(generated, list) and isinstance(target, list):
        return _record_array(generated, target, why, tokens)
    return [{"op": "replace", "path": pointer(tokens), "value": target, "why": why}]


def _record_object(generated: dict[str, Json], target: dict[str, Json], why: str, tokens: list[str]) -> list[Entry]:
    kept = [k for k in generated if k in target]
    if kept != [k for k in target if k in generated] or (generated and target and not kept):
        # The kept keys changed order (a patch cannot move keys), or nothing is kept (say, a schema wrapped in
        # anyOf): the object is replaced whole, one readable entry.
        return [{"op": "replace", "path": pointer(tokens), "value": target, "why": why}]
    entries: list[Entry] = [
        {"op": "remove", "path": pointer([*tokens, k]), "why": why} for k in generated if k not in target
    ]
    order = list(kept)
    previous: str | None = None
    for key in target:
        if key in generated:
            entries.extend(record(generated[key], target[key], why, [*tokens, key]))
        else:
            entry: Entry = {"op": "add", "path": pointer([*tokens, key]), "value": target[key], "why": why}
            position = 0 if previous is None else order.index(previous) + 1
            if position != len(order):
                entry["after"] = previous
            order.insert(position, key)
            entries.append(entry)
        previous = key
    return entries


def _record_array(generated: list[Json], target: list[Json], why: str, tokens: list[str]) -> list[Entry]:
    if len(target) >= len(generated) and all(_same(a, b) for a, b in zip(generated, target, strict=False)):
        return [
            {"op": "add", "path": pointer([*tokens, "-"]), "value": item, "why": why}
            for item in target[len(generated) :]
        ]
    if len(target) == len(generated):
        entries: list[Entry] = []
        for index, (a, b) in enumerate(zip(generated, target, strict=True)):
            entries.extend(record(a, b, why, [*tokens, str(index)]))
        return entries
    return [{"op": "replace", "path": pointer(tokens), "value": target, "why": why}]


def summary(generated: Json, target: Json, limit: int = 40) -> list[str]:
    """Readable lines naming where two documents differ (for --check)."""
    lines: list[str] = []
    for entry in record(generated, target, ""):
        where = entry["path"] or "(the whole document)"
        if entry["op"] == "remove":
            lines.append(f"  committed lacks {where} (generated: {_short(_get(generated, entry['path']))})")
        elif entry["op"] == "add":
            lines.append(f"  committed adds {where}: {_short(entry['value'])}")
        else:
            before = _get(generated, entry["path"])
            lines.append(f"  {where}: generated {_short(before)}, committed {_short(entry['value'])}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"  ... and {len(lines) - limit} more"]
    return lines


def _get(doc: Json, path: str) -> Json:
    try:
        return _parent(doc, split_pointer(path), path)
    except AdjustmentError:
        return None


def _short(value: Json, width: int = 100) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 3] + "..."


def run_mode(
    backend: str, expected: Json, document: Path, path: Path, entries: list[Entry], *, check: bool, why: str | None
) -> int:
    """A generator's three modes: write `expected` to `document`; --check it against the committed one;
    --record WHY: append the entries that turn `expected` into the committed (hand-edited) document."""
    script = f"scripts/gen_{backend}.py"
    if why is not None:
        if not why.strip():
            print("--record needs a reason", file=sys.stderr)
            return 2
        new = record(expected, json.loads(document.read_text(encoding="utf-8")), why)
        if not new:
            print(f"nothing to record: {document.name} is the generation")
            return 0
        save(path, entries + new)
        print(f"recorded {len(new)} adjustment(s) in {path.name}:")
        for entry in new:
            print(f"  {entry['op']} {entry['path']}")
        return 0
    if not check:
        document.write_text(dumps(backend, expected), encoding="utf-8")
        print(f"wrote {document}")
        return 0
    text = document.read_text(encoding="utf-8")
    if dumps(backend, expected) == text:
        print(f"{document.name}: {script} and {len(entries)} adjustments give the committed document")
        return 0
    print(f"{document.name} differs from {script} + {len(entries)} recorded adjustments:", file=sys.stderr)
    for line in summary(expected, json.loads(text)):
        print(line, file=sys.stderr)
    if dumps(backend, json.loads(text)) == text:
        print(f"record deliberate hand edits with: python {script} --record 'why'", file=sys.stderr)
    else:
        print(
            "(and its formatting differs from the generator's: json.dumps as in tag_toolsets.FORMATS)", file=sys.stderr
        )
    return 1
