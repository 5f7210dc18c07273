"""A record of every request the emulators received, so tests can assert on what a client really sent."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, TypeAlias

__all__ = ["BODY_LIMIT", "JsonValue", "LoggedRequest", "RequestLog", "decode_body"]

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None

# Uploads can be large; the log is for assertions on shape, so it keeps only the head of a body.
BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class LoggedRequest:
    seq: int
    backend: str | None  # None for a path outside every emulator's mount (a client with a wrong base URL)
    method: str
    path: str  # as received, including the mount prefix
    query: dict[str, str | list[str]]  # a repeated parameter keeps every value, in order
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "
    body: JsonValue  # parsed JSON when the body is JSON, else text; None when empty
    body_truncated: bool
    status: int  # 0: no response was sent (the connection was dropped)
    time: float  # wall-clock seconds since the epoch

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def decode_body(raw: bytes, content_type: str) -> tuple[JsonValue, bool]:
    """The loggable form of a request body and whether it was cut at ``BODY_LIMIT``."""
    if not raw:
        return None, False
    truncated = len(raw) > BODY_LIMIT
    head = raw[:BODY_LIMIT]
    text = head.decode("utf-8", errors="replace")
    # A truncated JSON document no longer parses, so it is kept as text.
    if not truncated and "json" in content_type.lower():
        try:
            parsed: JsonValue = json.loads(text)
        except ValueError:
            return text, False
        return parsed, False
    return text, truncated


class RequestLog:
    """Append-only, thread-safe list of ``LoggedRequest`` with a monotonically increasing sequence number."""

    def __init__(self) -> None:
        self._entries: list[LoggedRequest] = []
        self._next_seq = 1
        self._lock = threading.Lock()

    def record(
        self,
        *,
        backend: str | None,
        method: str,
        path: str,
        query: dict[str, str | list[str]],
        headers: dict[str, str],
        body: JsonValue,
        body_truncated: bool,
        status: int,
    ) -> LoggedRequest:
        with self._lock:
            entry = LoggedRequest(
                seq=self._next_seq,
                backend=backend,
                method=method,
                path=path,
                query=query,
                headers=headers,
                body=body,
                body_truncated=body_truncated,
                status=status,
                time=time.time(),
            )
            # Sequence numbers keep counting across clear() so an entry is never confused with an older one.
            self._next_seq += 1
            self._entries.append(entry)
            return entry

    def entries(
        self, backend: str | None = None, *, method: str | None = None, path_suffix: str | None = None
    ) -> list[LoggedRequest]:
        """Entries in arrival order, optionally only those matching every given filter."""
        with self._lock:
            snapshot = list(self._entries)
        return [
            e
            for e in snapshot
            if (backend is None or e.backend == backend)
            and (method is None or e.method == method.upper())
            and (path_suffix is None or e.path.endswith(path_suffix))
        ]

    def count(self, backend: str | None = None, *, method: str | None = None, path_suffix: str | None = None) -> int:
        return len(self.entries(backend, method=method, path_suffix=path_suffix))

    def clear(self) -> int:
        """Forget every entry; returns how many there were."""
        with self._lock:
            n = len(self._entries)
            self._entries.clear()
            return n
