"""Fault injection: make chosen requests fail or slow down, so clients can be tested against a misbehaving API.

A fault matches a backend, a method and a path pattern and has a `kind`: what goes wrong. `times` bounds how
many requests it hits. Faults come from tests (`Sandbox.faults.add`), the control API (`POST /_sandbox/faults`)
or the command line (`modelops-mcp sandbox --fault JSON`); the middleware that acts them out is in
`fault_middleware.py`.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

__all__ = ["DEFAULT_OVERSIZED_BYTES", "FAULT_KINDS", "Fault", "FaultKind", "FaultPlan", "faults_from_cli"]

FaultKind = Literal["latency", "status", "reset", "truncated", "malformed", "html", "oversized", "ws_close"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
DEFAULT_OVERSIZED_BYTES = 32 * 1024 * 1024
# WebSocket connections are logged, and matched, with this method (a handshake has no other).
WS_METHOD = "WS"

_FIELDS = ("backend", "method", "path", "kind", "status", "body", "headers", "delay_s", "size", "frames", "times")


@dataclass
class Fault:
    """What goes wrong, per `kind`:

    - latency: wait `delay_s`, then the emulator answers as usual;
    - status: answer `status` with `body` (JSON; a str is sent as text/html) and `headers` (e.g. Retry-After);
    - reset: drop the connection (TCP RST) without a byte of response;
    - truncated: the emulator's own answer, its body cut in half (Content-Length matching the cut);
    - malformed: `status` (200) with a JSON content type and a body that is not JSON (`body` if a str);
    - html: `status` (200) with an HTML page (`body` if a str), as a proxy in front of an API sends;
    - oversized: `status` (200) with a valid JSON body of `size` bytes, generated as it is sent;
    - ws_close: a WebSocket closes (1011) after `frames` frames, without the stream's end.

    `delay_s` applies before any kind; a kind left out is `status` when `status` is given, else `latency`.
    """

    backend: str | None = None  # None: any backend
    method: str | None = None  # None: any method; "WS" for WebSocket connections
    path: str = ".*"  # a regular expression searched in the path below the backend's mount
    kind: FaultKind | None = None
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    size: int = DEFAULT_OVERSIZED_BYTES
    frames: int = 1
    times: int | None = None  # None: until cleared
    hits: int = 0

    def __post_init__(self) -> None:
        if self.kind is None:
            self.kind = "status" if self.status is not None else "latency"
        _check(self)

    @classmethod
    def from_json(cls, raw: Any) -> Fault:
        """A fault from its JSON form; ValueError names what is wrong (an unknown field, a bad value)."""
        if not isinstance(raw, dict):
            raise ValueError(f"a fault is a JSON object, not {type(raw).__name__}")
        unknown = set(raw) - set(_FIELDS)
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)} (known: {', '.join(_FIELDS)})")
        return cls(**raw)

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (*_FIELDS, "hits")}

    def matches(self, backend: str | None, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.backend is not None and backend != self.backend:
            return False
        # A WebSocket fault only ever meets WebSocket connections, and the others only HTTP requests.
        if (self.kind == "ws_close") != (method == WS_METHOD):
            return False
        if self.method is not None and method.upper() != self.method.upper():
            return False
        return re.search(self.path, path) is not None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(fault: Fault) -> None:
    """Strict, because a fault plan that silently does nothing makes a test pass for the wrong reason."""
    if fault.kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {fault.kind!r} (kinds: {', '.join(FAULT_KINDS)})")
    for name in ("backend", "method"):
        if getattr(fault, name) is not None and not isinstance(getattr(fault, name), str):
            raise ValueError(f"fault {name} must be a string")
    if not isinstance(fault.path, str):
        raise ValueError("fault path must be a regular expression string")
    try:
        re.compile(fault.path)
    except re.error as exc:
        raise ValueError(f"fault path {fault.path!r} is not a regular expression: {exc}") from None
    if fault.status is not None and not (_is_int(fault.status) and 100 <= fault.status <= 599):
        raise ValueError(f"fault status must be an HTTP status 100..599, not {fault.status!r}")
    if fault.kind == "status" and fault.status is None:
        raise ValueError("a status fault needs a status")
    if fault.kind in ("latency", "reset", "ws_close") and fault.status is not None:
        raise ValueError(f"a {fault.kind} fault sends no status of its own")
    if not isinstance(fault.headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in fault.headers.items()
    ):
        raise ValueError("fault headers must be an object of strings")
    if isinstance(fault.delay_s, bool) or not isinstance(fault.delay_s, int | float) or not 0 <= fault.delay_s <= 3600:
        raise ValueError("fault delay_s must be a number of seconds, 0..3600")
    if not _is_int(fault.size) or not 0 < fault.size <= 4 * 1024**3:
        raise ValueError("fault size must be a number of bytes, 1..4 GiB")
    if not _is_int(fault.frames) or fault.frames < 0:
        raise ValueError("fault frames must be a count >= 0")
    if fault.times is not None and not (_is_int(fault.times) and fault.times >= 0):
        raise ValueError("fault times must be a count >= 0, or null for until cleared")


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
            return [f.to_json() for f in self._faults]


def faults_from_cli(items: list[str], files: list[str]) -> list[Fault]:
    """Faults from `--fault JSON` (one object each) and `--faults FILE` (a list); ValueError says which is bad."""
    faults: list[Fault] = []
    for item in items:
        try:
            faults.append(Fault.from_json(json.loads(item)))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"--fault {item!r}: {exc}") from None
    for name in files:
        try:
            raw = json.loads(Path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"--faults {name}: {exc}") from None
        if not isinstance(raw, list):
            raise ValueError(f"--faults {name}: the file must hold a JSON list of faults")
        for index, entry in enumerate(raw):
            try:
                faults.append(Fault.from_json(entry))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"--faults {name}, fault {index}: {exc}") from None
    return faults
