"""A multipart body whose files are read in a worker thread, never on the event loop.

httpx builds a multipart body (its Content-Length from the files' sizes, found without reading them) and,
sending it, reads each file part with blocking `read(64 KiB)` calls on the event loop: a 32 MiB upload was
some 500 blocking reads amid every other session's work, each as slow as the disk. `read_off_loop` hands
httpx the same bytes from the same body, drawn in batches by a worker thread; the size limits are the
upload policy's (checked before a file is opened) and the headers are httpx's own, Content-Length included.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator

import anyio
import httpx

# Bytes one worker-thread hop draws from the body: four of httpx's 64 KiB reads per hop. What is held at once
# is about this much (the chunks are passed on as read, not joined), whatever the file's size.
BATCH = 256 * 1024


class _OffLoop(httpx.AsyncByteStream):
    def __init__(self, body: Iterable[bytes]) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # A fresh pass each time: a retried request sends the body again (httpx seeks each file to its start).
        chunks = iter(self._body)
        while True:
            batch = await anyio.to_thread.run_sync(_draw, chunks)
            if not batch:
                return
            for chunk in batch:
                yield chunk


def _draw(chunks: Iterator[bytes]) -> list[bytes]:
    """The body's next chunks, about BATCH bytes of them ([] at its end). Blocking: runs in a worker thread."""
    batch: list[bytes] = []
    size = 0
    for chunk in chunks:
        batch.append(chunk)
        size += len(chunk)
        if size >= BATCH:
            break
    return batch


def read_off_loop(request: httpx.Request) -> httpx.Request:
    """`request` (a multipart one, as httpx built it) with its body read in a worker thread."""
    body = request.stream
    if isinstance(body, httpx.SyncByteStream):
        request.stream = _OffLoop(body)
    return request
