"""ASGI middleware that writes one ``LoggedRequest`` per HTTP request or WebSocket connection into the sandbox's
``RequestLog``."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .log import BODY_LIMIT, RequestLog, decode_body

__all__ = ["RequestLogMiddleware", "path_is_under"]


# The HTTP status the server answers a WebSocket handshake with, per ASGI message; closing before accepting is
# a 403. A denial response (websocket.http.response.start) carries its own status.
_HANDSHAKE_STATUS = {"websocket.accept": 101, "websocket.close": 403}


def path_is_under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def _query(raw: bytes) -> dict[str, str | list[str]]:
    query: dict[str, str | list[str]] = {}
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        seen = query.get(name)
        if seen is None:
            query[name] = value
        elif isinstance(seen, list):
            seen.append(value)
        else:
            query[name] = [seen, value]
    return query


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name_b, value_b in raw:
        name, value = name_b.decode("latin-1").lower(), value_b.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


class RequestLogMiddleware:
    """Logs requests under the emulators' mounts (and stray paths); never the sandbox's own control paths.

    The request body is read ahead only up to ``BODY_LIMIT`` (+1 byte, to know it was cut) and replayed to
    the app, so even a request rejected before the app reads its body is logged with it, while a large
    upload still streams through. The entry is written just before the last response chunk goes out:
    the status is known by then, streaming responses are not held back, and a client that has its
    response can rely on finding the entry in the log.
    """

    def __init__(
        self, app: ASGIApp, *, log: RequestLog, mounts: Sequence[tuple[str, str]], control_prefix: str
    ) -> None:
        self.app = app
        self.log = log
        self.mounts = list(mounts)  # (prefix, backend name)
        self.control_prefix = control_prefix

    def backend_for(self, path: str) -> str | None:
        for prefix, name in self.mounts:
            if path_is_under(path, prefix):
                return name
        return None

    def _record(self, scope: Scope, method: str, headers: dict[str, str], raw: bytes, status: int) -> None:
        body, truncated = decode_body(raw, headers.get("content-type", ""))
        self.log.record(
            backend=self.backend_for(scope["path"]),
            method=method,
            path=scope["path"],
            query=_query(scope.get("query_string", b"")),
            headers=headers,
            body=body,
            body_truncated=truncated,
            status=status,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or path_is_under(scope["path"], self.control_prefix):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return

        pending: list[Message] = []
        raw = bytearray()
        while len(raw) <= BODY_LIMIT:
            message = await receive()
            pending.append(message)
            if message["type"] != "http.request":
                break
            raw += message.get("body", b"")
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        headers = _headers(scope["headers"])
        status = 500  # what the outer error middleware answers if the app raises before starting a response
        logged = False

        def write() -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            self._record(scope, scope["method"], headers, bytes(raw), status)

        async def send_and_log(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                write()
            await send(message)

        started = False

        async def send_and_watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_and_log(message)

        try:
            await self.app(scope, replay, send_and_watch)
            if not started:
                status = 0  # the app dropped the connection (an injected reset): no response at all
        finally:
            write()

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Logs a WebSocket connection as method ``WS`` once its handshake is answered, not when it closes,
        so a test can find the entry while the socket is still open."""
        headers = _headers(scope["headers"])
        status = 500  # what the server answers a handshake the app crashed on
        logged = False

        def write() -> None:
            nonlocal logged
            if not logged:
                logged = True
                self._record(scope, "WS", headers, b"", status)

        async def send_and_log(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if not logged and kind == "websocket.http.response.start":
                status = message["status"]
                write()
            elif not logged and kind in _HANDSHAKE_STATUS:
                status = _HANDSHAKE_STATUS[kind]
                write()
            await send(message)

        try:
            await self.app(scope, receive, send_and_log)
        finally:
            write()
