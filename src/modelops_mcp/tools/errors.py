"""One error shape for every failure a tool call can meet."""

from __future__ import annotations

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

    def one_line(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        status = f", HTTP {self.status}" if self.status is not None else ""
        hint = f" Retry after {self.retry_after:g}s." if self.retry_after is not None else ""
        return f"{where}{self.kind} error{status}: {self.message}{hint}"


class ToolFailure(Exception):
    """Raised inside tool execution; turned into an `isError` result at the edge, never a traceback."""

    def __init__(self, error: ToolError) -> None:
        super().__init__(error.message)
        self.error = error


def error_result(error: ToolError) -> types.CallToolResult:
    lines = [error.one_line()]
    lines += [f"  {v.pointer or '/'}: {v.message}" for v in error.violations or []]
    return types.CallToolResult(
        content=[types.TextContent(type="text", text="\n".join(lines))],
        structured_content={"error": error.model_dump(exclude_none=True)},
        is_error=True,
    )
