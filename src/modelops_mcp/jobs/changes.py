"""Who hears of a job's visible changes: readers waiting on that job, and listeners (subscriptions, tasks)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from modelops_mcp.jobs.model import Job

log = logging.getLogger(__name__)

Listener = Callable[[Job], Awaitable[None]]


class Changes:
    def __init__(self, publish: Callable[[str], None] | None = None) -> None:
        """`publish(job_id)`: tell other replicas of a change this one made (a shared store's NOTIFY)."""
        self._changed: dict[str, anyio.Event] = {}
        self._listeners: list[Listener] = []
        self._publish = publish

    def add_listener(self, listener: Listener) -> None:
        """`listener(job)` runs after every visible change (status, progress, message, state) is stored."""
        self._listeners.append(listener)

    def event(self, job_id: str) -> anyio.Event:
        """Set at the job's next visible change."""
        return self._changed.setdefault(job_id, anyio.Event())

    async def announce(self, job: Job, before: tuple[Any, ...]) -> None:
        """Wake the job's readers and tell every listener, when the job looks different than `before`."""
        if job.visible() == before:
            return
        if self._publish is not None:
            self._publish(job.id)
        await self.arrived(job)

    async def arrived(self, job: Job) -> None:
        """Wake the job's readers and tell every listener of its change (made here, or heard of)."""
        event = self._changed.pop(job.id, None)
        if event is not None:
            event.set()
        for listener in list(self._listeners):
            try:
                await listener(job)
            except Exception:  # a subscriber that went away must not break polling
                log.exception("job listener failed")
