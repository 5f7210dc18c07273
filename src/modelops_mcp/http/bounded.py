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
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) <= limit and _identity(response):
        # The common case, read in place (the answer of every status poll): h11 delivers no more than the
        # declared length, and with no content coding the decoded body is those bytes. Cheaper than chunking,
        # and `with_content` then hands back this very response.
        return await response.aread()
    chunks = response.aiter_bytes(CHUNK)
    if declared.isdigit() and int(declared) > limit:
        return Overflow(b"", chunks)
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            return Overflow(bytes(body), chunks)
    return bytes(body)


def _identity(response: httpx.Response) -> bool:
    return response.headers.get("content-encoding", "identity").strip().lower() in ("", "identity")


def _read_in_place(response: httpx.Response, content: bytes) -> bool:
    try:
        return response.content is content and _identity(response)
    except httpx.ResponseNotRead:  # read in chunks: a new response carries the body
        return False


def with_content(response: httpx.Response, content: bytes) -> httpx.Response:
    """The streamed `response` as if read whole: its status, headers, request and extensions, body `content`."""
    if _read_in_place(response, content):
        return response  # read in place by read_within: its headers already describe these very bytes
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
