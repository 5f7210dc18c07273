"""One error shape for every failure a tool call can meet."""

from __future__ import annotations

import json
from typing import Literal

import mcp_types as types
from pydantic import BaseModel

ErrorKind = Literal[
    "validation", "auth", "not_found", "conflict", "rate_limited", "backend", "network", "timeout", "config"
]


class Violation(BaseModel):
    """One argument that failed validation, located by a JSON pointer into the arguments."""

    pointer: str
    message: str


class SavedBody(BaseModel):
    """Where an answer too large to return went: the whole body, saved as a file on the server's machine."""

    path: str
    uri: str
    size: int
    sha256: str
    limit: int
    content_type: str | None = None


class ToolError(BaseModel):
    kind: ErrorKind
    message: str
    status: int | None = None
    code: str | None = None
    retryable: bool = False
    retry_after: float | None = None
    backend: str | None = None
    operation: str | None = None
    violations: list[Violation] | None = None
    saved: SavedBody | None = None
    # The next step, for an error an agent can act on: tools to call (`next`) and one sentence (`hint`)
    # saying what for; derived from the catalog (calls/next_step.py).
    hint: str | None = None
    next: list[str] | None = None

    def one_line(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        status = f", HTTP {self.status}" if self.status is not None else ""
        hint = f" Retry after {self.retry_after:g}s." if self.retry_after is not None else ""
        line = f"{where}{self.kind} error{status}: {self.message}{hint}"
        if self.hint:
            line += f"{'' if line.endswith(('.', '!', '?')) else '.'} Next: {self.hint}"
        return line


class ToolFailure(Exception):
    """Raised inside tool execution; turned into an `isError` result at the edge, never a traceback."""

    def __init__(self, error: ToolError) -> None:
        super().__init__(error.message)
        self.error = error


def error_result(error: ToolError) -> types.CallToolResult:
    """An `isError` result every client can read, whatever the tool's `outputSchema`.

    No `structuredContent`: the TypeScript SDK checks it against the tool's outputSchema even when `isError`
    is set, and the specification says structured content conforms to that schema (2025-11-25, 2026-07-28:
    "Servers MUST provide structured results that conform to this schema"), which no error object does. So
    the error travels in `content`: the one-line text an agent reads, then the error object as JSON text
    (`{"error": {...}}`, the serialized-JSON block the specification recommends beside structured data),
    then a link to the saved body, if any.
    """
    lines = [error.one_line()]
    lines += [f"  {v.pointer or '/'}: {v.message}" for v in error.violations or []]
    content: list[types.ContentBlock] = [
        types.TextContent(type="text", text="\n".join(lines)),
        types.TextContent(type="text", text=error_json(error)),
    ]
    if error.saved is not None:
        name = error.saved.path.replace("\\", "/").rsplit("/", 1)[-1]
        link = types.ResourceLink(
            type="resource_link",
            uri=error.saved.uri,
            name=name,
            mime_type=error.saved.content_type,
            size=error.saved.size,
        )
        content.append(link)
    return types.CallToolResult(content=content, is_error=True)


def error_json(error: ToolError) -> str:
    """The error object as the JSON text block of an error result: `{"error": {kind, status, ...}}`."""
    return json.dumps({"error": error.model_dump(mode="json", exclude_none=True)}, ensure_ascii=False)
