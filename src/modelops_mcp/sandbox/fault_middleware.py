"""Acting out the faults of a `FaultPlan` at the ASGI level, in front of the emulators.

A connection reset needs the server's transport, which ASGI does not expose: `ConnectionAccess`, the outermost
layer of the sandbox app, takes it from the `send` uvicorn hands in (a bound method of its per-request cycle,
whose `transport` is the connection) and keeps it in the scope. Without it (another server), a reset falls
back to closing mid-body: a response head promising more bytes than ever come.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import WS_METHOD, Fault, FaultPlan
from .recorder import path_is_under

__all__ = ["TRANSPORT_KEY", "ConnectionAccess", "FaultMiddleware"]

TRANSPORT_KEY = "modelops.sandbox.transport"
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>503 Service Temporarily Unavailable</title></head>\n"
    "<body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>\n"
)
MALFORMED = '{"id": 7, "status": "RUNNING", "note": \'single quotes\',, }'
_CHUNK_ITEMS = 256  # filler items per chunk of an oversized body: about 256 KiB a send
_WS_CLOSE_CODE = 1011  # "internal error": what a server that falls over mid-stream sends


class ConnectionAccess:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = getattr(getattr(send, "__self__", None), "transport", None)
        if transport is not None and scope["type"] == "http":
            scope = {**scope, TRANSPORT_KEY: transport}
        await self.app(scope, receive, send)


def _json_headers(length: int | None, extra: dict[str, str], content_type: str = "application/json") -> list[Any]:
    headers = [(b"content-type", content_type.encode())]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return headers + [(k.lower().encode(), v.encode()) for k, v in extra.items()]


async def _answer(send: Send, status: int, payload: bytes, headers: list[Any]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _status(fault: Fault, send: Send) -> None:
    assert fault.status is not None
    if isinstance(fault.body, str):
        payload, content_type = fault.body.encode(), "text/html; charset=utf-8"
    else:
        body = fault.body if fault.body is not None else {"status": fault.status, "message": "injected fault"}
        payload, content_type = json.dumps(body).encode(), "application/json"
    await _answer(send, fault.status, payload, _json_headers(len(payload), fault.headers, content_type))


async def _reset(scope: Scope, receive: Receive, send: Send) -> None:
    transport = scope.get(TRANSPORT_KEY)
    if transport is None:
        # Closing mid-body: the head promises 1 KiB, the app returns after 16 bytes, the server drops the line.
        head = _json_headers(1024, {})
        await send({"type": "http.response.start", "status": 200, "headers": head})
        await send({"type": "http.response.body", "body": b'{"partial": true', "more_body": True})
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Linger 0: close sends RST rather than FIN, so the client reads "connection reset by peer".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Returning before the server has seen the connection go would make it answer a 500 of its own.
    while (await receive())["type"] != "http.disconnect":
        pass


async def _truncated(app: ASGIApp, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
    start: Message | None = None
    body = bytearray()

    async def capture(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await app(scope, receive, capture)
    if start is None:
        return
    cut = bytes(body[: len(body) // 2]) if len(body) > 1 else b'{"'
    headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(cut)).encode()))
    await _answer(send, fault.status or start["status"], cut, headers)


async def _oversized(fault: Fault, send: Send) -> None:
    """Valid JSON of about `fault.size` bytes, sent in chunks as it is made: never whole in memory."""
    head, tail = b'{"items":[', b'"end"]}'
    item = b'"' + b"x" * 1021 + b'",'
    count = max(0, (fault.size - len(head) - len(tail)) // len(item))
    # No Content-Length: the client cannot know the size before it has read past any limit it keeps.
    start = {
        "type": "http.response.start",
        "status": fault.status or 200,
        "headers": _json_headers(None, fault.headers),
    }
    await send(start)
    await send({"type": "http.response.body", "body": head, "more_body": True})
    chunk = item * _CHUNK_ITEMS
    for _ in range(count // _CHUNK_ITEMS):
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": item * (count % _CHUNK_ITEMS) + tail})


async def _ws_close(app: ASGIApp, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
    sent = 0
    closed = False

    async def cutting(message: Message) -> None:
        nonlocal sent, closed
        if closed:
            return  # the emulator does not know its socket is gone; what it sends goes nowhere
        if message["type"] == "websocket.send":
            if sent >= fault.frames:
                closed = True
                await send({"type": "websocket.close", "code": _WS_CLOSE_CODE, "reason": "injected fault"})
                return
            sent += 1
        await send(message)

    await app(scope, receive, cutting)


class FaultMiddleware:
    def __init__(self, app: ASGIApp, *, plan: FaultPlan, mounts: list[tuple[str, str]]) -> None:
        self.app = app
        self.plan = plan
        self.mounts = mounts  # (prefix, backend name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        backend, inner = None, path
        for prefix, name in self.mounts:
            if path_is_under(path, prefix):
                backend, inner = name, path[len(prefix.rstrip("/")) :] or "/"
                break
        method = scope["method"] if scope["type"] == "http" else WS_METHOD
        fault = self.plan.take(backend, method, inner) if backend is not None else None
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.delay_s > 0:
            await anyio.sleep(fault.delay_s)
        await self._act(fault, scope, receive, send)

    async def _act(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        if fault.kind == "latency":
            await self.app(scope, receive, send)
        elif fault.kind == "status":
            await _status(fault, send)
        elif fault.kind == "reset":
            await _reset(scope, receive, send)
        elif fault.kind == "truncated":
            await _truncated(self.app, fault, scope, receive, send)
        elif fault.kind == "malformed":
            payload = (fault.body if isinstance(fault.body, str) else MALFORMED).encode()
            await _answer(send, fault.status or 200, payload, _json_headers(len(payload), fault.headers))
        elif fault.kind == "html":
            payload = (fault.body if isinstance(fault.body, str) else HTML_PAGE).encode()
            headers = _json_headers(len(payload), fault.headers, "text/html; charset=utf-8")
            await _answer(send, fault.status or 200, payload, headers)
        elif fault.kind == "oversized":
            await _oversized(fault, send)
        elif fault.kind == "ws_close":
            await _ws_close(self.app, fault, scope, receive, send)
