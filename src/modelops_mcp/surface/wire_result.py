"""A tool result handed to the MCP SDK as the dict it would dump it to, its structuredContent untouched.

The SDK dumps a returned model (`model_dump`), then validates and dumps that again for the wire's protocol
version, then encodes it: three walks of a 5 MB structuredContent on the event loop, in pydantic's Rust code,
which holds the GIL throughout (about 0.5 s for the first alone). The structured content is already plain
JSON (a parsed answer), so the first walk is skipped: the rest of the result is dumped, and the content is
put back as it is. The SDK's own validation and dump then give the wire exactly what they gave before.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types


def wire_result(result: types.CallToolResult | dict[str, Any]) -> types.CallToolResult | dict[str, Any]:
    """`result` as `result.model_dump(by_alias=True, mode="json", exclude_none=True)` would give it."""
    if not isinstance(result, types.CallToolResult) or result.structured_content is None:
        return result
    dumped = result.model_copy(update={"structured_content": None}).model_dump(
        by_alias=True, mode="json", exclude_none=True
    )
    dumped["structuredContent"] = result.structured_content
    return dumped
