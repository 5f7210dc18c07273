"""How jobs are polled: the policy's bounds, and the scheduling state kept in memory per followed job."""

from __future__ import annotations

import math
from dataclasses import dataclass

import anyio

# Longest a reader (jobs_get, jobs_wait) waits for a poll another task already has on its way.
READ_WAIT_S = 1.0

# A progress stream that keeps dropping is reopened at most this often per job; polls carry on after that.
MAX_STREAMS = 3


@dataclass(frozen=True, slots=True)
class PollPolicy:
    min_interval: float = 1.0
    initial: float = 1.0
    max: float = 30.0
    concurrency: int = 8
    # An unfinished job older than this (seconds since it started) ends `failed` instead of being polled.
    max_age: float = 7 * 86400.0


class Entry:
    """Scheduling state of one unfinished job: all the tracker keeps in memory per job."""

    __slots__ = ("delay", "due", "inflight", "job_id", "last_poll", "last_state", "seq", "streaming", "streams")

    def __init__(self, job_id: str, delay: float) -> None:
        self.job_id = job_id
        self.delay = delay
        self.due = 0.0
        self.seq = 0
        self.last_poll = -math.inf
        self.last_state: str | None = None
        self.inflight: anyio.Event | None = None
        # While the backend pushes updates (a stream is open), scheduled polls are skipped.
        self.streaming = False
        self.streams = 0  # streams opened for this job, bounded by MAX_STREAMS
