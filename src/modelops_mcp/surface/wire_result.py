"""A tool result handed to the MCP SDK without its structuredContent being walked on the event loop.

The SDK dumps a returned model (`model_dump`), then validates and dumps that again for the wire's protocol
version (`serialize_server_result`, the "sieve"), then encodes it: three walks of a 5 MB structuredContent on
the event loop, in pydantic's Rust code, which holds the GIL throughout (the sieve alone about 0.15 s of a 5 MB
answer, during which no other session is answered). The structured content is already plain JSON (a parsed
answer), so neither walk can change it:
- `wire_result` dumps the rest of the result and, inside a tools/call that `SieveBypass` wraps, hands the SDK
  an empty object in its place (validated and dumped in no time), keeping the real one aside;
- `SieveBypass`, a server middleware (`Server.middleware`, the SDK's public hook around each request), puts
  it back into the wire dict the sieve returned, where that dict has the field at all (a protocol version
  without structuredContent drops it, and then so do we).
The wire is what the SDK's own walks gave before (tests/test_large_answers.py); only the transport's encoding
of the JSON-RPC message still walks the content on the loop.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import mcp_types as types
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

# Where the content is, in the wire dict of a tools/call result.
FIELD = "structuredContent"


class _Held:
    """The structured content of the tools/call being answered, set aside while the SDK sieves the rest."""

    __slots__ = ("content", "set")

    def __init__(self) -> None:
        self.set = False
        self.content: Any = None


# Set by SieveBypass for the duration of one tools/call; unset anywhere else (a task's stored result, say).
_HELD: ContextVar[_Held | None] = ContextVar("modelops_held_structured_content", default=None)


def wire_result(result: types.CallToolResult | dict[str, Any]) -> types.CallToolResult | dict[str, Any]:
    """`result` as the SDK would dump it (`model_dump(by_alias=True, mode="json", exclude_none=True)`).

    Inside `SieveBypass`, its structuredContent is an empty object and the real one waits aside.
    """
    if not isinstance(result, types.CallToolResult) or result.structured_content is None:
        return result
    dumped = result.model_copy(update={"structured_content": None}).model_dump(
        by_alias=True, mode="json", exclude_none=True
    )
    held = _HELD.get()
    if held is not None and not held.set:
        held.set, held.content = True, result.structured_content
        dumped[FIELD] = {}
    else:
        dumped[FIELD] = result.structured_content
    return dumped


class SieveBypass:
    """Server middleware: a tools/call result's structuredContent skips the SDK's sieve (see the module doc)."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        held = _Held()
        token = _HELD.set(held)
        try:
            result = await call_next(ctx)
        finally:
            _HELD.reset(token)
        if held.set and isinstance(result, dict) and FIELD in result:
            result[FIELD] = held.content
        return result
