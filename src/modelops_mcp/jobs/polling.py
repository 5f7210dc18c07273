"""How jobs are polled: the policy's bounds, and the scheduling state kept in memory per followed job."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import anyio

from modelops_mcp.jobs.model import Job, PollInfo, now_iso

# Longest a reader (jobs_get, jobs_wait) waits for a poll another task already has on its way.
READ_WAIT_S = 1.0

# A progress stream that keeps dropping is reopened at most this often per job; polls carry on after that.
MAX_STREAMS = 3
# How late a planned poll may start so that several due together share one wake-up of the scheduler (and at
# most a fiftieth of `min_interval`, a second by default): no job is polled noticeably later.
SCHEDULE_TICK_S = 0.02
# A poll that changes nothing a reader sees is not written: its bookkeeping (`polls`: count, last time,
# interval) stays in memory, shown to every reader in this process, and is written with the next visible
# change or once this long after the last write. A crash loses at most that much bookkeeping, never a state.
BOOKKEEPING_WRITE_S = 300.0


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

    __slots__ = (
        *("delay", "due", "inflight", "job_id", "last_poll", "last_state", "seq", "streaming", "streams"),
        *("polls", "queued", "written"),
    )

    def __init__(self, job_id: str, delay: float) -> None:
        self.job_id = job_id
        self.delay = delay
        self.due = 0.0
        self.seq = 0
        self.last_poll = -math.inf
        self.last_state: str | None = None
        self.inflight: anyio.Event | None = None
        # The poll `inflight` stands for waits in the workers' queue, not sent yet: a reader takes it over.
        self.queued = False
        # While the backend pushes updates (a stream is open), scheduled polls are skipped.
        self.streaming = False
        self.streams = 0  # streams opened for this job, bounded by MAX_STREAMS
        self.polls: PollInfo | None = None  # bookkeeping newer than the store's (see BOOKKEEPING_WRITE_S)
        self.written = time.monotonic()  # when this job's row was last written

    def must_write(self, job: Job, changed: bool) -> bool:
        """Whether a poll's outcome is written now; if not, its bookkeeping is kept here (BOOKKEEPING_WRITE_S)."""
        now = time.monotonic()
        if changed or job.terminal or now - self.written >= BOOKKEEPING_WRITE_S:
            self.written, self.polls = now, None
            return True
        self.polls = job.polls  # nothing a reader sees changed
        return False


def one_more_poll(job: Job, entry: Entry | None, error: str | None = None) -> PollInfo:
    """The job's poll bookkeeping after one more status call (`entry`: None once it is no longer followed)."""
    polls = job.polls.model_copy()
    polls.count += 1
    polls.last_at = now_iso()
    polls.interval_s = None if entry is None else round(entry.delay, 3)
    if error is not None:
        polls.errors += 1
        polls.last_error = error[:300]
    return polls
