"""How a job's status is read from its backend: the contract, and the registry of Python adapters.

Most backends are described by an `x-mcp.job` declaration alone (see `declared.py`). A backend whose poll
pattern a declaration cannot express — DataRobot's 202 + Location + 303, Pieces' WebSocket progress —
registers a named adapter here and names it in its declaration's `adapter` key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from modelops_mcp.calls.reply import Reply
from modelops_mcp.jobs.model import Job, JobStatus
from modelops_mcp.spec.catalog import Catalog, Operation
from modelops_mcp.spec.extension import JobDeclaration


class Caller(Protocol):
    """Calls one catalog operation with tool arguments; raises `ToolFailure` on any failure."""

    async def __call__(self, op: Operation, arguments: dict[str, Any]) -> Reply: ...

    async def route(self, backend: str, url: str) -> tuple[Operation, dict[str, Any]]:
        """The documented operation and arguments a URL from the backend's answers names (a Location, a
        next page); `ToolFailure` when it leaves the configured endpoint or matches no documented route."""
        ...


@dataclass(frozen=True, slots=True)
class Observation:
    status: JobStatus
    state: str | None = None
    message: str | None = None
    progress: float | None = None
    result: Any = None
    # A backend's hint of when to look again (Retry-After, an ETA), in seconds.
    retry_after: float | None = None
    # Values the backend reports by name (a training's loss, its evaluation metrics) as name → (step, value),
    # the step an epoch or None; the job's history records each when it changed. Progress is recorded anyway.
    metrics: Mapping[str, tuple[float | None, float]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    requested: bool
    message: str


class StatusAdapter(Protocol):
    def remote_ids(self, arguments: dict[str, Any], reply: Reply) -> dict[str, Any]:
        """The backend's ids for the job just started, from the start call's arguments and answer."""
        ...

    async def poll(self, job: Job, call: Caller) -> Observation: ...

    async def cancel(self, job: Job, call: Caller) -> CancelOutcome: ...


Emit = Callable[[Observation], Awaitable[None]]
Locator = Callable[[str], Awaitable[str]]


class StreamingAdapter(StatusAdapter, Protocol):
    """An adapter whose backend pushes the job's progress (a WebSocket, a server-sent event stream).

    While `stream` runs the tracker does not poll the job; every observation it emits is stored and
    published at once. When it returns or fails without the job having ended (a dropped socket), the
    tracker falls back to `poll`, so a job never hangs on a stream that went away.
    """

    async def stream(self, job: Job, call: Caller, locate: Locator, emit: Emit) -> None: ...


def is_streaming(adapter: StatusAdapter) -> bool:
    return callable(getattr(adapter, "stream", None))


AdapterFactory = Callable[[JobDeclaration, Operation, Catalog], StatusAdapter]
ADAPTERS: dict[str, AdapterFactory] = {}


def register(name: str, factory: AdapterFactory) -> None:
    ADAPTERS[name] = factory
