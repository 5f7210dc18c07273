"""The simulated clock every emulator measures job progress against.

Real fine-tuning takes minutes to hours; the sandbox compresses that by a speed factor so the demo takes
seconds, and tests freeze it (speed 0) and move it by hand so they never depend on wall time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["SimClock"]


class SimClock:
    """Simulated seconds since creation: real monotonic elapsed * ``speed`` + whatever was advanced by hand."""

    def __init__(self, speed: float, *, time_source: Callable[[], float] = time.monotonic) -> None:
        if not math.isfinite(speed) or speed < 0:
            raise ValueError(f"clock speed must be a finite number >= 0, got {speed!r}")
        self.speed = float(speed)
        self._time_source = time_source
        self._start = time_source()
        self._offset = 0.0
        # advance() may come from a control request while a handler reads now() in another thread
        # (uvicorn runs sync endpoints in a worker thread), so the offset is guarded.
        self._lock = threading.Lock()

    def now(self) -> float:
        """Simulated seconds elapsed since the clock was created."""
        with self._lock:
            offset = self._offset
        return (self._time_source() - self._start) * self.speed + offset

    def advance(self, seconds: float) -> float:
        """Jump the simulated clock forward; returns the new ``now()``. Time never runs backwards."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"can only advance the clock by a finite number of seconds >= 0, got {seconds!r}")
        with self._lock:
            self._offset += seconds
        return self.now()
