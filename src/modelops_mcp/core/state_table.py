"""What the server remembers besides jobs (session keys, class names), kept in a shared store's table of named
values when replicas share one (jobs/pg_store.py implements it), instead of in the state dir's files."""

from __future__ import annotations

from typing import Protocol


class StateTable(Protocol):
    def state_get(self, name: str) -> str | None: ...
    def state_put(self, name: str, value: str) -> None: ...
