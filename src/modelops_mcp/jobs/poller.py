"""Polling jobs: one scheduler polls every unfinished job with backoff; readers share its polls.

Rules that keep the backends' load bounded however many agents watch:
- at most one status call in flight per job, and never two calls closer than `min_interval`;
- idle jobs back off from `initial` doubling to `max` (reset when the backend's state moves on),
  and a backend's Retry-After or hint pushes the next call further out;
- at most `concurrency` status calls at once across all jobs;
- a reader of a job whose last poll is older than `min_interval` triggers one refresh, shared by all.

A job whose adapter streams progress (Pieces' WebSocket) is not polled while its stream is open.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import math
import time
from typing import cast

import anyio
from anyio.abc import TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream

from modelops_mcp.core.errors import ToolError, ToolFailure
from modelops_mcp.core.redact import Redactor
from modelops_mcp.jobs.adapters import (
    Caller,
    Locator,
    Observation,
    StatusAdapter,
    StreamingAdapter,
    is_streaming,
)
from modelops_mcp.jobs.age import age_s, too_old
from modelops_mcp.jobs.changes import Changes
from modelops_mcp.jobs.model import Job, now_iso
from modelops_mcp.jobs.origin import mismatch, origin_of
from modelops_mcp.jobs.polling import MAX_STREAMS, READ_WAIT_S, SCHEDULE_TICK_S, Entry, PollPolicy, one_more_poll
from modelops_mcp.jobs.store import Store

log = logging.getLogger(__name__)


class Poller:
    def __init__(
        self,
        store: Store,
        adapters: dict[str, StatusAdapter],
        call: Caller,
        redactor: Redactor,
        changes: Changes,
        policy: PollPolicy,
        locate: Locator | None = None,
        url_variables: dict[str, str | None] | None = None,
    ) -> None:
        """`url_variables`: each backend's base-URL variable, named when a job's origin no longer matches."""
        self.store = store
        self.policy = policy
        self._call = call
        self._locate = locate
        self._redactor = redactor
        self._adapters = adapters
        self._changes = changes
        self._url_variables = url_variables or {}
        self._entries: dict[str, Entry] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0
        self._wake = anyio.Event()
        self._waking_at = -math.inf  # when the scheduling loop, waiting, wakes by itself (-inf: not started)
        # A poll a reader asks for (jobs_get, jobs_wait) has its own slots: with thousands of jobs due, a
        # read queued behind the background polls waited tens of seconds. Still one poll per job at a time
        # and none closer than min_interval, so the backend sees at most twice `concurrency` at once.
        self._read_limiter = anyio.CapacityLimiter(self.policy.concurrency)
        self._tg: TaskGroup | None = None
        self._tick = min(SCHEDULE_TICK_S, policy.min_interval / 50)

    # ---- lifecycle -------------------------------------------------------------------------------

    def resume(self, job_ids: list[str] | None = None) -> int:
        """Pick up every unfinished job in the store (after a restart), or `job_ids`; returns how many."""
        now = time.monotonic()
        resumed = 0
        for index, job_id in enumerate(self.store.active_ids() if job_ids is None else job_ids):
            if job_id in self._entries:
                continue
            entry = Entry(job_id, self.policy.initial)
            self._entries[job_id] = entry
            # Staggered, so a restart with many jobs does not hit the backends all in the same instant.
            self._schedule(entry, now + min(index * 0.01, self.policy.max))
            job = self.store.get(job_id)
            if job is not None:
                self._open_stream(entry, job)
            resumed += 1
        return resumed

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        async with anyio.create_task_group() as tg:
            self._tg = tg
            count = self.resume()
            if count:
                log.info("resumed %d unfinished job(s)", count)
            task_status.started()
            await self._schedule_loop(tg)

    def follow(self, job: Job) -> None:
        """Poll a job just started (and stored) from now on."""
        entry = Entry(job.id, self.policy.initial)
        self._entries[job.id] = entry
        # The first status poll is due at once (first_look runs it for the tool call that started the job):
        # until it answers, the job has no state to show. A start is one tool call, so this is one status
        # call per start; jobs resumed after a restart stay staggered (see resume).
        self._schedule(entry, time.monotonic())
        self._open_stream(entry, job)

    # ---- reads (with the poll bookkeeping held here but not written yet), some asking for a poll -----

    def current(self, job: Job) -> Job:
        entry = self._entries.get(job.id)
        job.polls = job.polls if entry is None or entry.polls is None else entry.polls
        return job

    def load(self, job_id: str) -> Job | None:
        job = self.store.get(job_id)
        return None if job is None else self.current(job)

    async def first_look(self, job_id: str) -> None:
        """Until the job's first status poll (or pushed update) has answered, READ_WAIT_S at most.

        The poll takes a reader's slot, so a new job is not queued behind thousands of resumed ones; it runs
        in the tracker's task group, so one that outlasts the wait still lands and is stored.
        """
        entry = self._entries.get(job_id)
        if entry is not None and entry.last_poll == -math.inf:
            if entry.streaming:
                changed = self._changes.event(job_id)
                with anyio.move_on_after(READ_WAIT_S):
                    await changed.wait()
            elif entry.inflight is not None and not entry.queued:
                with anyio.move_on_after(READ_WAIT_S):
                    await entry.inflight.wait()
            else:  # not polled yet, or its poll still waits in the workers' queue: made now (see refresh)
                polled = entry.inflight or self._begin(entry)
                entry.queued = False
                if self._tg is None:  # a tracker that is not running: poll here
                    await self._poll(entry, self._read_limiter)
                else:
                    self._tg.start_soon(self._poll, entry, self._read_limiter)
                    with anyio.move_on_after(READ_WAIT_S):
                        await polled.wait()

    async def refresh(self, job_id: str) -> None:
        """Poll the job if its state is older than `min_interval` (one poll, however many ask)."""
        entry = self._entries.get(job_id)
        if entry is not None and not entry.streaming:
            if entry.queued:
                # Its poll waits in the workers' queue (seconds of polls with thousands of jobs due; a reader
                # waited READ_WAIT_S behind them): made now, in a reader's slot. It was due when queued, so
                # min_interval holds, and the worker that reaches it skips it: still one status call.
                entry.queued = False
                await self._poll(entry, self._read_limiter)
            elif entry.inflight is not None:
                # Sent already: the reader waits for its answer, READ_WAIT_S at most (then the stored state).
                with anyio.move_on_after(READ_WAIT_S):
                    await entry.inflight.wait()
            elif time.monotonic() - entry.last_poll >= self.policy.min_interval:
                self._begin(entry)
                await self._poll(entry, self._read_limiter)

    # ---- scheduling ------------------------------------------------------------------------------

    def _schedule(self, entry: Entry, due: float) -> None:
        self._seq += 1
        entry.due, entry.seq = due, self._seq
        heapq.heappush(self._heap, (due, self._seq, entry.job_id))
        # Woken only for a poll due before it would wake anyway (a job rescheduled after its poll rarely is).
        if due < self._waking_at:
            self._wake.set()

    def followed(self) -> list[str]:
        return list(self._entries)

    def drop(self, job_id: str) -> None:
        """Stop polling the job (cancelled, ended, or no longer followed)."""
        self._entries.pop(job_id, None)  # its heap items become stale and are skipped

    async def _schedule_loop(self, tg: TaskGroup) -> None:
        # `concurrency` workers take the due polls in turn: the bound on background polls in flight, without
        # a task and a limiter slot per poll (with 10,000 jobs, that bookkeeping cost a sixth of a poll's CPU).
        due, polls = anyio.create_memory_object_stream[Entry](math.inf)
        for _ in range(self.policy.concurrency):
            tg.start_soon(self._worker, polls)
        while True:
            now = time.monotonic()
            while self._heap and self._heap[0][0] <= now:
                _, seq, job_id = heapq.heappop(self._heap)
                entry = self._entries.get(job_id)
                if entry is None or entry.seq != seq or entry.inflight is not None or entry.streaming:
                    continue  # a streaming job is polled again once its stream ends
                self._begin(entry)
                entry.queued = True
                due.send_nowait(entry)
            # At most one wake-up per SCHEDULE_TICK_S for polls already planned: with thousands of jobs one
            # falls due every few milliseconds, and a wake-up per poll was a twentieth of its CPU. A new job
            # (or a stream that ended) still wakes the loop at once (`_schedule`).
            wait = max(self._heap[0][0] - now, self._tick) if self._heap else math.inf
            self._wake = anyio.Event()
            self._waking_at = now + wait
            with anyio.move_on_after(wait):
                await self._wake.wait()

    async def _worker(self, polls: MemoryObjectReceiveStream[Entry]) -> None:
        async for entry in polls:
            if entry.queued:  # else a reader took this poll over (or a later one of the same job is queued)
                entry.queued = False
                await self._poll(entry)

    def _open_stream(self, entry: Entry, job: Job) -> None:
        adapter = self._adapters.get(job.operation)
        if adapter is None or not is_streaming(adapter) or self._tg is None or self._locate is None:
            return
        if entry.streaming or entry.streams >= MAX_STREAMS:
            return
        entry.streaming = True
        entry.streams += 1
        self._tg.start_soon(self._stream, entry, adapter)

    async def _stream(self, entry: Entry, adapter: StatusAdapter) -> None:
        streaming = cast(StreamingAdapter, adapter)  # _open_stream checked is_streaming

        async def emit(seen: Observation) -> None:
            job = self.load(entry.job_id)
            if entry.job_id not in self._entries or job is None or job.terminal:
                return  # cancelled or ended meanwhile: a late frame must not revive the job
            entry.last_poll = time.monotonic()
            await self._observe(entry, job, seen, polled=False)

        job = self.store.get(entry.job_id)
        try:
            if job is not None and self._locate is not None and await self.elsewhere(job) is None:
                await streaming.stream(job, self._call, self._locate, emit)
        except Exception as exc:  # a broken stream is a reason to poll, not to lose the job
            log.info("job %s: progress stream ended: %s", entry.job_id, self._redactor.text(str(exc))[:200])
        finally:
            entry.streaming = False
            if entry.job_id in self._entries:
                # The stream ended before the job did: find out where it stands by polling, starting now.
                entry.delay = self.policy.initial
                self._schedule(entry, time.monotonic())

    def _begin(self, entry: Entry) -> anyio.Event:
        # Set before any await, so a reader arriving in the same tick waits for this poll instead of starting one.
        entry.inflight = anyio.Event()
        return entry.inflight

    async def _poll(self, entry: Entry, limiter: anyio.CapacityLimiter | None = None) -> None:
        """One poll of `entry`: a reader's under `limiter`; a worker's (no limiter) is bounded by their number."""
        assert entry.inflight is not None
        retry_after: float | None = None
        try:
            async with limiter or contextlib.nullcontext():
                retry_after = await self._poll_once(entry)
        except Exception as exc:  # the store failed (a shared database restarting): poll again after backoff
            log.warning("job %s: poll not recorded: %s", entry.job_id, self._redactor.text(str(exc))[:200])
            entry.delay = min(entry.delay * 2, self.policy.max)
        finally:
            entry.last_poll = time.monotonic()
            entry.inflight.set()
            entry.inflight = None
        if entry.job_id in self._entries:
            delay = max(entry.delay, self.policy.min_interval, retry_after or 0.0)
            self._schedule(entry, entry.last_poll + delay)
            # A job that streamed before and is still running after this poll: try the push channel again.
            # (`streams` is 0 for every job whose adapter cannot stream, so they pay no extra read.)
            job = self.load(entry.job_id) if 0 < entry.streams < MAX_STREAMS else None
            if job is not None and not job.terminal:
                self._open_stream(entry, job)

    async def _poll_once(self, entry: Entry) -> float | None:
        job = self.load(entry.job_id)
        if job is None or job.terminal or not job.following:
            self.drop(entry.job_id)
            return None
        adapter = self._adapters.get(job.operation)
        if adapter is None:
            self.drop(entry.job_id)
            log.warning("job %s: %s is no longer in the catalog; not followed", job.id, job.operation)
            return None
        if not self.store.may_poll(job.id, self.policy.min_interval):
            return None  # a shared store: polled by another replica within the interval, or held by one now
        age = age_s(job)
        if age > self.policy.max_age:
            await self._expire(job, too_old(job, age, self.policy.max_age))
            return None
        try:
            elsewhere = await self.elsewhere(job)
            if elsewhere is not None:
                await self._unfollow(job, elsewhere)
                return None
            observation = await adapter.poll(job, self._call)
        except ToolFailure as failure:
            error = failure.error
        except Exception as exc:  # one job's odd answer must not stop the others being followed
            log.exception("job %s: status check failed", job.id)
            error = ToolError(kind="backend", message=self._redactor.text(f"{type(exc).__name__}: {exc}")[:300])
        else:
            if entry.job_id not in self._entries:
                return None  # cancelled while the call was out: its answer must not revive the job
            await self._observe(entry, job, observation)
            return observation.retry_after
        if entry.job_id not in self._entries:
            return None
        return await self._poll_failed(entry, job, error)

    async def _poll_failed(self, entry: Entry, job: Job, error: ToolError) -> float | None:
        before = job.visible()
        job.polls = one_more_poll(job, self._entries.get(job.id), error.one_line())
        # The backend no longer knows the job, or we refused the status request ourselves (a Location off the
        # configured endpoint, say) and will refuse it every time: no end will ever be reported, so say so now.
        refused = error.kind == "validation" and error.status is None
        if error.kind == "not_found" or refused:
            why = "the status of this job cannot be checked" if refused else "the backend no longer knows this job"
            job.end_failed(f"{why}: {error.message}", error.model_dump(exclude_none=True))
            self.drop(job.id)
        else:
            entry.delay = min(entry.delay * 2, self.policy.max)
        self.store.save(job)
        await self._changes.announce(job, before)
        return error.retry_after

    async def _expire(self, job: Job, error: ToolError) -> None:
        """End a job past the age limit: `failed`, saying so, and no longer polled (nothing is sent)."""
        before = job.visible()
        job.end_failed(error.message, error.model_dump(exclude_none=True))
        self.drop(job.id)
        log.warning("job %s: %s", job.id, error.message)
        self.store.save(job)
        await self._changes.announce(job, before)

    async def elsewhere(self, job: Job) -> str | None:
        """Why `job` must not be polled (or cancelled) against the backend configured now; None when it may.

        Raises `ToolFailure` when the backend's URL cannot be known (a local service not running): a poll
        failure like any other, retried with backoff.
        """
        if self._locate is None:
            return None
        current = origin_of(await self._locate(job.backend))
        return mismatch(job.origin, current, self._url_variables.get(job.backend))

    async def _unfollow(self, job: Job, reason: str) -> None:
        """Stop following `job` in this process, its status left as it was, and say why in its message."""
        self.drop(job.id)
        reason = self._redactor.text(reason)
        log.warning("job %s: %s", job.id, reason)
        if job.message == reason:
            return
        before = job.visible()
        job.message = reason
        job.updated_at = now_iso()
        self.store.save(job)
        await self._changes.announce(job, before)

    async def _observe(self, entry: Entry, job: Job, seen: Observation, *, polled: bool = True) -> None:
        before = job.visible()
        if seen.state != entry.last_state:
            entry.delay = self.policy.initial  # the backend moved: look again soon
            entry.last_state = seen.state
        else:
            entry.delay = min(entry.delay * 2, self.policy.max)
        # Redacted once: bodies came redacted from the executor, so only what an adapter adds beside them (a
        # Location header in the message or at the result's top level) is masked here, not a 5 MB body again.
        message = None if seen.message is None else self._redactor.text(seen.message)
        job.status, job.state, job.message = seen.status, seen.state, message
        if seen.progress is not None or seen.status == "completed":
            job.progress = 1.0 if seen.status == "completed" else seen.progress
        job.note(seen.metrics)  # a new point or state is a visible change (see Job.visible)
        if polled:  # a pushed update is not a poll: the count measures what we cost the backend
            job.polls = one_more_poll(job, self._entries.get(job.id))
        if job.terminal:
            job.result = self._redactor.top_level(seen.result)
            job.finished_at = now_iso()
            if job.status == "failed":
                job.error = ToolError(
                    kind="backend",
                    code="job_failed",
                    message=seen.message or f"the backend reports the job failed (state {seen.state})",
                    backend=job.backend,
                    operation=job.operation,
                ).model_dump(exclude_none=True)
            self.drop(job.id)
        changed = job.visible() != before
        if changed:
            job.updated_at = now_iso()
        if entry.must_write(job, changed):
            self.store.save(job)
        await self._changes.announce(job, before)
