"""Fault injection: make chosen requests fail or slow down, so clients can be tested against a misbehaving API.

A fault matches a backend, a method and a path pattern; it may delay the request, answer it with a given
status and body instead of the emulator, or both; `times` bounds how many requests it hits.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from .recorder import path_is_under

__all__ = ["Fault", "FaultMiddleware", "FaultPlan"]


@dataclass
class Fault:
    backend: str | None = None  # None: any backend
    method: str | None = None  # None: any method
    path: str = ".*"  # a regular expression searched in the path below the backend's mount
    status: int | None = None  # None: pass through to the emulator (a delay-only fault)
    body: Any = None  # JSON body for `status`; a str is sent as text/html
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    times: int | None = None  # None: until cleared
    hits: int = 0

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Fault:
        allowed = {"backend", "method", "path", "status", "body", "headers", "delay_s", "times"}
        unknown = set(raw) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        fault = cls(**raw)
        re.compile(fault.path)
        return fault

    def matches(self, backend: str | None, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.backend is not None and backend != self.backend:
            return False
        if self.method is not None and method.upper() != self.method.upper():
            return False
        return re.search(self.path, path) is not None


class FaultPlan:
    """The active faults; thread-safe, first match wins."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> int:
        with self._lock:
            count = len(self._faults)
            self._faults.clear()
        return count

    def take(self, backend: str | None, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(backend, method, path):
                    fault.hits += 1
                    return fault
        return None

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(vars(f)) for f in self._faults]


class FaultMiddleware:
    def __init__(self, app: ASGIApp, *, plan: FaultPlan, mounts: list[tuple[str, str]]) -> None:
        self.app = app
        self.plan = plan
        self.mounts = mounts  # (prefix, backend name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        backend, inner = None, path
        for prefix, name in self.mounts:
            if path_is_under(path, prefix):
                backend, inner = name, path[len(prefix.rstrip("/")) :] or "/"
                break
        if backend is None:
            await self.app(scope, receive, send)
            return
        fault = self.plan.take(backend, scope["method"], inner)
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.delay_s > 0:
            await anyio.sleep(fault.delay_s)
        if fault.status is None:
            await self.app(scope, receive, send)
            return
        if isinstance(fault.body, str):
            payload, content_type = fault.body.encode(), "text/html; charset=utf-8"
        else:
            body = fault.body if fault.body is not None else {"status": fault.status, "message": "injected fault"}
            payload, content_type = json.dumps(body).encode(), "application/json"
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(payload)).encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in fault.headers.items()]
        await send({"type": "http.response.start", "status": fault.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
