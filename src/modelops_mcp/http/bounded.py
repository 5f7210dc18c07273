"""Reading a backend's answer within a size limit: an answer over it goes to a file, never whole into memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from modelops_mcp.http.downloads import CHUNK

# An error answer is read this far: enough for any message an agent can use (it is shown cut to 500 characters).
ERROR_BODY_BYTES = 64 * 1024
# Headers that describe the bytes on the wire, not the decoded body a read response holds.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


@dataclass(frozen=True, slots=True)
class Overflow:
    """A body found larger than the limit: the bytes read so far and the iterator that yields the rest."""

    head: bytes
    rest: AsyncIterator[bytes]


async def read_within(response: httpx.Response, limit: int) -> bytes | Overflow:
    """The (streamed, unread) body if it is at most `limit` bytes; else where reading stopped.

    Memory stays under `limit` plus one chunk whatever the backend sends; a Content-Length over the limit is
    believed at once, so such a body is never buffered at all.
    """
    chunks = response.aiter_bytes(CHUNK)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return Overflow(b"", chunks)
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            return Overflow(bytes(body), chunks)
    return bytes(body)


def with_content(response: httpx.Response, content: bytes) -> httpx.Response:
    """The streamed `response` as if read whole: its status, headers, request and extensions, body `content`."""
    # The raw bytes: decoded values re-encode as ASCII, so one non-ASCII header (a Retry-After of "²", a
    # Latin-1 file name) failed the whole call with UnicodeEncodeError.
    headers = [(k, v) for k, v in response.headers.raw if k.decode("latin-1").lower() not in _WIRE_HEADERS]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=content,
        request=response.request,
        extensions=response.extensions,
    )
