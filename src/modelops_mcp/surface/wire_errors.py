"""Answers for stdio lines that are not JSON-RPC messages.

The SDK's stdio transport turns such a line into an exception on the read stream, and its dispatcher
drops it with a debug log: the client then waits forever for an answer that never comes. JSON-RPC 2.0
says a server answers invalid JSON with -32700 (parse error) and a message that is not a valid request
with -32600 (invalid request), with the request's id when one can be read and null otherwise. Streamable
HTTP already answers both itself (with HTTP 400), so only stdio needs this.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from types import TracebackType
from typing import Any, Self

import anyio
import mcp_types as types
from mcp.shared._stream_protocols import ReadStream, WriteStream
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600


def _whole_input(exc: ValidationError) -> Any:
    """The parsed message the failed validation saw, if pydantic kept it (it does for a non-object or a
    missing field); None when it cannot be told apart from a field's own value."""
    for error in exc.errors():
        if len(error["loc"]) <= 1 or (error["type"] == "missing" and len(error["loc"]) == 2):
            return error.get("input")
    return None


def answer_for(exc: Exception) -> types.JSONRPCError | None:
    """The error a client is owed for a line that failed to parse, or None when it is owed nothing."""
    if not isinstance(exc, ValidationError):
        return None
    if any(error["type"] == "json_invalid" for error in exc.errors()):
        raw = next((e.get("input") for e in exc.errors()), "")
        if isinstance(raw, str | bytes) and not raw.strip():
            return None  # a blank line carries no message at all
        return types.JSONRPCError(
            jsonrpc="2.0", id=None, error=types.ErrorData(code=PARSE_ERROR, message="Parse error: not valid JSON")
        )
    message = _whole_input(exc)
    if isinstance(message, dict) and "method" not in message and ("result" in message or "error" in message):
        return None  # a malformed response: JSON-RPC never answers a response
    request_id = message.get("id") if isinstance(message, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, str | int):
        request_id = None
    if isinstance(message, list):
        detail = "batches are not supported; send one JSON-RPC object per line"
    elif not isinstance(message, dict):
        detail = "a message must be a JSON-RPC 2.0 object"
    else:
        detail = 'a request needs "jsonrpc": "2.0", a "method" string, a string or integer "id" and object "params"'
    return types.JSONRPCError(
        jsonrpc="2.0",
        id=request_id,
        error=types.ErrorData(code=INVALID_REQUEST, message=f"Invalid request: {detail}"),
    )


class AnsweringReader:
    """The server's read stream, minus the lines that fail to parse, which are answered on `write`."""

    def __init__(self, read: ReadStream[SessionMessage | Exception], write: WriteStream[SessionMessage]) -> None:
        self._read = read
        self._write = write

    def __getattr__(self, name: str) -> Any:
        # `last_context` and anything else a dispatcher looks up on the stream it was given.
        return getattr(self._read, name)

    async def receive(self) -> SessionMessage | Exception:
        while True:
            item = await self._read.receive()
            if not isinstance(item, Exception):
                return item
            answer = answer_for(item)
            log.info("stdio: dropped a line that is not a JSON-RPC message (%s)", type(item).__name__)
            if answer is not None:
                # Closed: the connection is ending and nobody is left to tell.
                with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                    await self._write.send(SessionMessage(answer))

    async def aclose(self) -> None:
        await self._read.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        await self.aclose()
        return None
