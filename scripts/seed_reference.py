"""Read the text scraped from DataRobot's API reference (seed 003) into operations.

The scrape lost all formatting: an operation is a header line `METHOD /api/v2/path/¶`, its prose, then
sections named by lines such as `Body parameter¶`, `Parameters`, `Example responses¶`, `Responses¶` and
`Response Headers¶`; tables are `a | b | c |` rows; JSON Schemas are pretty-printed without indentation. The
`Schemas¶` part at the end holds the named schemas (a name line, then the JSON). Multipart bodies appear as
YAML whose indentation was lost, so they are read from the named schema the parameters table names.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

HEADER = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) /api/v2(/\S*)¶$")
# Section titles inside an operation; anything else is prose or table or JSON.
SECTIONS = ("Body parameter¶", "Parameters", "Enumerated Values¶", "Example responses¶", "Responses¶")
RESPONSE_EXAMPLE = re.compile(r"^(\d{3}) Response$")
AUTH_LINE = "To perform this operation, you must be authenticated by means of one of the following methods:"


@dataclass
class Operation:
    method: str
    path: str
    prose: list[str]
    body: Any = None
    body_is_json: bool = True
    parameters: list[list[str]] = field(default_factory=list)
    enums: dict[str, list[str]] = field(default_factory=dict)
    examples: dict[str, Any] = field(default_factory=dict)
    responses: list[list[str]] = field(default_factory=list)
    headers: list[list[str]] = field(default_factory=list)


def cells(row: str) -> list[str]:
    """`a | b | c |` -> ['a', 'b', 'c', ...] (the trailing empty cell dropped)."""
    parts = [part.strip() for part in row.split(" | ")]
    if parts and parts[-1].endswith("|"):
        parts[-1] = parts[-1][:-1].strip()
    return parts


def _json_block(lines: list[str], start: int) -> tuple[Any, int]:
    """Parse the JSON value starting at lines[start]; return it and the index after it."""
    depth = 0
    for end in range(start, len(lines)):
        for char in _outside_strings(lines[end]):
            depth += {"{": 1, "[": 1, "}": -1, "]": -1}.get(char, 0)
        if depth == 0:
            return json.loads("\n".join(lines[start : end + 1])), end + 1
    raise ValueError(f"unterminated JSON from line {start}")


def _outside_strings(line: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', "", line)


def _table(lines: list[str], start: int) -> tuple[list[list[str]], int]:
    """Rows of the table whose header is lines[start]. The table ends at the first line that is not a row.

    A row the scrape wrapped (its last cell alone on the next line) is kept and ends the table, as in the
    first generation: the two featureImpact POSTs thereby lose their 422 (an error answer; no tool reads it).
    """
    index = start + 2  # the header and the `---|---|` line
    rows: list[list[str]] = []
    while index < len(lines) and " | " in lines[index]:
        rows.append(cells(lines[index]))
        index += 1
    return rows, index


def parse(text: str) -> tuple[list[Operation], dict[str, Any]]:
    lines = text.split("\n")
    schemas_at = lines.index("Schemas¶")
    starts = [i for i, line in enumerate(lines[:schemas_at]) if HEADER.match(line)]
    operations = [_operation(lines[a:b]) for a, b in zip(starts, [*starts[1:], schemas_at], strict=True)]
    return operations, _named_schemas(lines[schemas_at + 1 :])


def _named_schemas(lines: list[str]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    index = 0
    while index < len(lines) - 1:
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", lines[index]) and lines[index + 1] == "{":
            schemas[lines[index]], index = _json_block(lines, index + 1)
        else:
            index += 1
    return schemas


def _operation(lines: list[str]) -> Operation:
    match = HEADER.match(lines[0])
    assert match is not None
    op = Operation(method=match.group(1).lower(), path=match.group(2), prose=[])
    index = 1
    while index < len(lines) and lines[index] not in SECTIONS and lines[index] != AUTH_LINE:
        op.prose.append(lines[index])
        index += 1
    while index < len(lines):
        line = lines[index]
        if line == "Body parameter¶":
            if lines[index + 1] == "{":
                op.body, index = _json_block(lines, index + 1)
            else:  # YAML without its indentation: the named schema stands in (see _body_schema)
                op.body_is_json = False
                while lines[index] != "Parameters":
                    index += 1
        elif line == "Parameters":
            op.parameters, index = _table(lines, index + 1)
        elif line == "Enumerated Values¶":
            rows, index = _table(lines, index + 1)
            for name, values in rows:
                op.enums[name] = [v.strip() for v in values.strip("[] ").split(" , ")]
        elif RESPONSE_EXAMPLE.match(line) and index + 1 < len(lines) and lines[index + 1] == "{":
            op.examples[line[:3]], index = _json_block(lines, index + 1)
        elif line == "Responses¶":
            op.responses, index = _table(lines, index + 1)
        elif line == "Response Headers¶":
            op.headers, index = _table(lines, index + 1)
        else:
            index += 1
    return op
