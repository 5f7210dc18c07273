"""Following jobs: starting one from a tool call's answer, reading, waiting on and cancelling it.

The polling itself (schedule, backoff, streams, one poll per job however many read) is jobs/poller.py's.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
from anyio.abc import TaskStatus

from modelops_mcp.calls.reply import Reply
from modelops_mcp.core.redact import Redactor
from modelops_mcp.jobs.adapters import Caller, CancelOutcome, Locator
from modelops_mcp.jobs.builtin import build_adapters
from modelops_mcp.jobs.changes import Changes, Listener
from modelops_mcp.jobs.leases import hold_leases
from modelops_mcp.jobs.model import Job, new_job_id, now_iso
from modelops_mcp.jobs.origin import origin_of
from modelops_mcp.jobs.poller import Poller
from modelops_mcp.jobs.polling import PollPolicy
from modelops_mcp.jobs.store import Store
from modelops_mcp.spec.catalog import Catalog, Operation


class UnknownJob(Exception):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job {job_id!r}: list jobs with jobs_list")
        self.job_id = job_id


class Tracker:
    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        call: Caller,
        redactor: Redactor,
        policy: PollPolicy | None = None,
        locate: Locator | None = None,
    ) -> None:
        self.store = store
        self.policy = policy or PollPolicy()
        self._call = call
        self._adapters = build_adapters(catalog)
        self._changes = Changes(store.announce)
        url_variables = {name: spec.base_url_env for name, spec in catalog.backends.items()}
        self._poller = Poller(store, self._adapters, call, redactor, self._changes, self.policy, locate, url_variables)

    # ---- lifecycle -------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """`listener(job)` runs after every visible change (status, progress, message, state) is stored."""
        self._changes.add_listener(listener)

    def resume(self) -> int:
        """Pick up every unfinished job in the store (after a restart); returns how many."""
        return self._poller.resume()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        async with anyio.create_task_group() as tg:
            await tg.start(self._poller.run)
            if self.store.lease_s is not None:  # a shared store: this replica follows the jobs it holds
                tg.start_soon(hold_leases, self.store, self._poller, self.store.lease_s)
            task_status.started()

    async def changed_elsewhere(self, job_id: str) -> None:
        """Another replica stored a visible change of `job_id` (a shared store's notice): wake this replica's
        waiters and listeners as if it had polled the change itself."""
        job = self.store.get(job_id)
        if job is None:
            return
        if job.terminal or not job.following:
            self._poller.drop(job_id)  # cancelled or let go of through another replica
        await self._changes.arrived(job)

    # ---- starting, reading, waiting, cancelling --------------------------------------------------

    def follows(self, op: Operation) -> bool:
        return op.tool_name in self._adapters

    def start(self, op: Operation, arguments: dict[str, Any], reply: Reply, origin: str | None = None) -> Job:
        """`origin`: the base URL the start call went to; the job is polled there and nowhere else."""
        remote = self._adapters[op.tool_name].remote_ids(arguments, reply)
        stored = None if origin is None else origin_of(origin)
        while True:
            job = Job(id=new_job_id(), backend=op.backend, operation=op.tool_name, remote=remote, origin=stored)
            if not self.store.exists(job.id):
                break
        job.note()
        self.store.insert(job)
        self._poller.follow(job)
        return job

    async def first_look(self, job_id: str) -> Job:
        """The job once its first status poll (or pushed update) has answered, waiting READ_WAIT_S at most."""
        await self._poller.first_look(job_id)
        return self.get(job_id)

    def get(self, job_id: str) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise UnknownJob(job_id)
        return job

    async def refresh(self, job_id: str) -> Job:
        """The job, polled first if its state is older than `min_interval` (one poll, however many ask)."""
        await self._poller.refresh(job_id)
        return self.get(job_id)

    async def wait(self, job_id: str, seconds: float, on_update: Listener | None = None) -> Job:
        """Until the job ends or `seconds` pass; `on_update` sees every visible change meanwhile."""
        deadline = time.monotonic() + seconds
        job = await self.refresh(job_id)
        seen = job.visible()
        while not job.terminal and job.following:  # an unfollowed job changes no more
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            changed = self._changes.event(job_id)
            with anyio.move_on_after(min(self.policy.min_interval, remaining)):
                await changed.wait()
            job = await self.refresh(job_id)
            if job.visible() != seen:
                seen = job.visible()
                if on_update is not None:
                    await on_update(job)
        return job

    async def cancel(self, job_id: str, stop_following: bool = False) -> tuple[Job, CancelOutcome]:
        """The backend's cancel when it documents one, and the job then ends `cancelled`. Otherwise nothing is
        sent and the job is never called `cancelled`, since the remote work may still run: it is left as it
        is, or with `stop_following` no longer followed (`following: false`, its status as last seen)."""
        job = self.get(job_id)
        if job.terminal:
            return job, CancelOutcome(requested=False, message=f"the job had already ended ({job.status})")
        if not job.following:
            return job, CancelOutcome(
                requested=False, message="this server had already stopped following it; the remote job may still run"
            )
        adapter = self._adapters.get(job.operation)
        elsewhere = await self._poller.elsewhere(job)
        if adapter is None:
            outcome = CancelOutcome(
                requested=False, message=f"{job.operation} is not in this server's catalog: no cancel was sent"
            )
        elif elsewhere is not None:
            # The cancel would go to a backend that never started this job: nothing is sent.
            outcome = CancelOutcome(requested=False, message=f"no cancel was sent ({elsewhere})")
        else:
            outcome = await adapter.cancel(job, self._call)  # a ToolFailure leaves the job as it was
        job = self.get(job_id)
        if job.terminal:  # it ended while the cancel was on its way
            return job, outcome
        if not outcome.requested:
            return await self._not_cancelled(job, outcome, stop_following)
        before = job.visible()
        job.status = "cancelled"
        job.message = outcome.message
        job.note()
        job.finished_at = job.updated_at = now_iso()
        self.store.save(job)
        self._poller.drop(job_id)
        await self._changes.announce(job, before)
        return job, outcome

    async def _not_cancelled(self, job: Job, outcome: CancelOutcome, stop_following: bool) -> tuple[Job, CancelOutcome]:
        last = f" (last state {job.state})" if job.state else ""
        if not stop_following:
            message = (
                f"{outcome.message}. Nothing was stopped: the job is still {job.status}{last} and still followed. "
                "Stop it with the backend's own tools, or call jobs_cancel with stop_following: true to stop "
                "following it here"
            )
            return job, CancelOutcome(requested=False, message=message)
        before = job.visible()
        job.following = False
        job.message = (
            f"not followed since {now_iso()}, at the user's request ({outcome.message}); the remote job may still "
            f"be running{last}"
        )
        job.updated_at = now_iso()
        self.store.save(job)
        self._poller.drop(job.id)
        await self._changes.announce(job, before)
        return job, CancelOutcome(requested=False, message=job.message)
