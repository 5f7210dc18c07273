"""A job's history: its states with their times, and the series its backend reports (progress, loss, metrics).

Kept with the job (stored in its JSON), so it is bounded: the oldest entries go first, and `dropped` says how
many went. Readers get a compact view by default (each series thinned to a few points, first and last kept),
the whole of it on request.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

HistoryView = Literal["compact", "full", "none"]
HISTORY_VIEWS: tuple[HistoryView, ...] = ("compact", "full", "none")
MAX_POINTS = 500  # per series
MAX_STATES = 200
COMPACT_POINTS = 24  # per series (and states) in the compact view
PROGRESS = "progress"
# The key of `dropped` (and of the compact view's counts) that counts state entries rather than a series' points.
STATES = "states"


class StateEntry(BaseModel):
    at: str
    status: str
    state: str | None = None


class Point(BaseModel):
    at: str
    step: int | float | None = None  # an epoch stays an int in the JSON
    value: float


class History(BaseModel):
    states: list[StateEntry] = Field(default_factory=list)
    series: dict[str, list[Point]] = Field(default_factory=dict)
    points: dict[str, int] = Field(default_factory=dict)  # series name → points ever recorded
    dropped: dict[str, int] = Field(default_factory=dict)  # series name (or "states") → oldest entries let go

    def mark(self) -> tuple[int, int]:
        """Changes whenever anything is recorded, bounded or not: what makes a new entry a visible change."""
        return len(self.states) + self.dropped.get(STATES, 0), sum(self.points.values())

    def note_state(self, at: str, status: str, state: str | None) -> bool:
        """Record (status, state) unless it is the last one recorded; True when recorded."""
        if self.states and (self.states[-1].status, self.states[-1].state) == (status, state):
            return False
        self.states.append(StateEntry(at=at, status=status, state=state))
        self._bound(self.states, STATES, MAX_STATES)
        return True

    def add(self, name: str, value: float, at: str, step: float | None = None) -> bool:
        """Record a point unless neither its value nor its step changed since the last one; True when recorded."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return False  # a NaN loss (JSON cannot carry it anyway) or a non-number is no point on a curve
        points = self.series.setdefault(name, [])
        if points and (points[-1].value, points[-1].step) == (value, step):
            return False
        points.append(Point(at=at, step=step, value=float(value)))
        self.points[name] = self.points.get(name, 0) + 1
        self._bound(points, name, MAX_POINTS)
        return True

    def last(self, name: str) -> Point | None:
        points = self.series.get(name)
        return points[-1] if points else None

    def _bound(self, entries: list[Any], name: str, limit: int) -> None:
        excess = len(entries) - limit
        if excess > 0:
            del entries[:excess]
            self.dropped[name] = self.dropped.get(name, 0) + excess

    def view(self, mode: HistoryView = "compact") -> dict[str, Any]:
        """The JSON a reader gets: everything (`full`) or each series thinned to COMPACT_POINTS (`compact`)."""
        data = self.model_dump(mode="json", exclude={"dropped"} if not self.dropped else None)
        if mode == "compact":
            data["states"] = _recent(data["states"], COMPACT_POINTS)
            data["series"] = {name: thin(points, COMPACT_POINTS) for name, points in data["series"].items()}
        data["states_total"] = len(self.states) + self.dropped.get(STATES, 0)
        return data


def thin(points: list[Any], limit: int) -> list[Any]:
    """At most `limit` of `points`, evenly spread, the first and the last always among them."""
    if len(points) <= limit:
        return list(points)
    if limit < 2:
        return points[-limit:] if limit else []
    last = len(points) - 1
    return [points[round(i * last / (limit - 1))] for i in range(limit)]


def _recent(entries: list[Any], limit: int) -> list[Any]:
    # The first state says when the job began; after it, the latest ones matter most.
    if len(entries) <= limit:
        return entries
    return [entries[0], *entries[len(entries) - limit + 1 :]]


def record(
    history: History,
    at: str,
    status: str,
    state: str | None,
    progress: float | None,
    metrics: Mapping[str, tuple[float | None, float]] | None = None,
) -> bool:
    """Everything a job's latest observation adds to its history (`metrics`: name → (step, value)); True when
    anything was recorded."""
    added = history.note_state(at, status, state)
    if progress is not None:
        added = history.add(PROGRESS, progress, at) or added
    for name, (step, value) in (metrics or {}).items():
        added = history.add(name, value, at, step) or added
    return added
