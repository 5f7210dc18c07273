"""JSON parsed and encoded a piece at a time, with the very results of `json.loads` and `json.dumps`.

A large answer is handled in a worker thread so that the event loop keeps serving, but one C call of the
json module holds the GIL for its whole run: `json.loads` of 5 MB stops every other thread for about 0.15 s.
Here the outer containers (the answer and its members) are walked in Python and every value below them is
parsed or encoded by one C call of its own (a list's row), so the GIL changes hands between rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

# Containers at a depth under this are walked here; deeper values go to the json module whole.
_WALKED_DEPTH = 2
_DECODER = json.JSONDecoder()  # what `json.loads` uses without arguments
_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, as the json module skips it


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Malformed(ValueError):
    pass


def loads(content: bytes) -> Any:
    """`json.loads(content)` (which is what `httpx.Response.json()` is), read a row at a time.

    Any problem raises ValueError; the caller then asks `json.loads` itself, which raises its own error,
    so a malformed body is reported exactly as before.
    """
    text = content.decode(json.detect_encoding(content), "surrogatepass")
    if text.startswith("\ufeff"):
        raise _Malformed("a BOM")
    value, end = _parse(text, _SPACE.match(text, 0).end(), 0)  # type: ignore[union-attr]
    if _SPACE.match(text, end).end() != len(text):  # type: ignore[union-attr]
        raise _Malformed("extra data")
    return value


def _skip(text: str, index: int) -> int:
    return _SPACE.match(text, index).end()  # type: ignore[union-attr]


def _parse(text: str, index: int, depth: int) -> tuple[Any, int]:
    opening = text[index : index + 1]
    if depth >= _WALKED_DEPTH or opening not in ("{", "["):
        return _DECODER.raw_decode(text, index)
    index = _skip(text, index + 1)
    if opening == "[":
        items: list[Any] = []
        if text[index : index + 1] == "]":
            return items, index + 1
        while True:
            item, index = _parse(text, index, depth + 1)
            items.append(item)
            index = _skip(text, index)
            mark = text[index : index + 1]
            if mark == "]":
                return items, index + 1
            if mark != ",":
                raise _Malformed("a list without a comma")
            index = _skip(text, index + 1)
    members: dict[str, Any] = {}
    if text[index : index + 1] == "}":
        return members, index + 1
    while True:
        if text[index : index + 1] != '"':
            raise _Malformed("a key that is not a string")
        key, index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        if text[index : index + 1] != ":":
            raise _Malformed("a key without a colon")
        value, index = _parse(text, _skip(text, index + 1), depth + 1)
        members[key] = value
        index = _skip(text, index)
        mark = text[index : index + 1]
        if mark == "}":
            return members, index + 1
        if mark != ",":
            raise _Malformed("an object without a comma")
        index = _skip(text, index + 1)


def compact_pieces(value: Any, depth: int = 0) -> Iterator[str]:
    """`json.dumps(value, ensure_ascii=False, separators=(",", ":"))` as pieces that join to it exactly."""
    if depth < _WALKED_DEPTH and isinstance(value, list):
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ","
            yield from compact_pieces(item, depth + 1)
        yield "]"
    elif depth < _WALKED_DEPTH and isinstance(value, dict) and all(isinstance(k, str) for k in value):
        # (json.dumps turns other keys into strings its own way: such a dict goes to it whole, below.)
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield f"{',' if index else ''}{_dumps(key)}:"
            yield from compact_pieces(item, depth + 1)
        yield "}"
    else:
        yield _dumps(value)
