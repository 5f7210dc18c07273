"""A job: one long-running backend operation as the agent sees it, whatever the backend calls its states."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from modelops_mcp.jobs.history import History, HistoryView, record

JobStatus = Literal["working", "input_required", "completed", "failed", "cancelled"]
JOB_STATUSES: tuple[JobStatus, ...] = ("working", "input_required", "completed", "failed", "cancelled")
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
JOB_SCHEME = "job://"
# Lowercase letters and digits only: safe in a URI, a file name and a shell, and easy to read back aloud.
_ALPHABET = "abcdefghijkmnopqrstuvwxyz23456789"
_ID_LENGTH = 10


def new_job_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(_ID_LENGTH))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def job_uri(job_id: str) -> str:
    return JOB_SCHEME + job_id


class PollInfo(BaseModel):
    """Bookkeeping of the tracker's status calls, kept so an agent can see why a job looks stale."""

    count: int = 0
    last_at: str | None = None
    errors: int = 0
    last_error: str | None = None
    interval_s: float | None = None


class Job(BaseModel):
    id: str
    backend: str
    operation: str
    remote: dict[str, Any]
    # The backend's base URL when the job started (no credential in it): the only place it is polled.
    # None on jobs stored before it was recorded; those are never polled (see jobs/origin.py).
    origin: str | None = None
    status: JobStatus = "working"
    progress: float | None = Field(default=None, ge=0.0, le=1.0)
    message: str | None = None
    state: str | None = None
    result: Any = None
    error: dict[str, Any] | None = None
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)
    finished_at: str | None = None
    # False once a user stopped following a job that could not be cancelled (no cancel documented, or it
    # belongs to another backend URL): its status stays as last seen, since the remote work may still run,
    # and it is never polled again. Never `cancelled` for that: nothing was cancelled.
    following: bool = True
    polls: PollInfo = Field(default_factory=PollInfo)
    # States with their times and the series the backend reported (progress, loss, metrics); see history.py.
    history: History = Field(default_factory=History)

    @property
    def uri(self) -> str:
        return job_uri(self.id)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def handle(self) -> dict[str, Any]:
        """What a job-starting tool adds to its result: enough to follow the job and nothing more."""
        return {"id": self.id, "uri": self.uri, "status": self.status}

    def visible(self) -> tuple[Any, ...]:
        """The fields whose change is worth a notification (poll bookkeeping is not)."""
        return (self.status, self.progress, self.message, self.state, self.following, self.history.mark())

    def note(self, metrics: Mapping[str, tuple[float | None, float]] | None = None) -> bool:
        """Add the job's current state and progress, and `metrics` (name → (step, value)), to its history."""
        if not self.history.states:
            # The first entry is the job's creation (for a job stored before histories, as far as we know it).
            self.history.note_state(self.created_at, "working", None)
        return record(self.history, now_iso(), self.status, self.state, self.progress, metrics)

    def end_failed(self, message: str, error: dict[str, Any]) -> None:
        """End the job `failed` from our side (its backend cannot be asked, or it is too old), saying why."""
        self.status, self.message, self.error = "failed", message, error
        self.finished_at = self.updated_at = now_iso()
        self.note()

    def public(self, history: HistoryView = "compact", *, with_result: bool = True) -> dict[str, Any]:
        """The job as readers get it; `history` says how much of its history comes along (none: no key);
        `with_result=False` leaves the result out without serialising it."""
        data = self.model_dump(mode="json", exclude={"history"} if with_result else {"history", "result"})
        data["uri"] = self.uri
        if history != "none":
            data["history"] = self.history.view(history)
        return data


# Four jobs_* tools return this shape, in every tool list, so the field meanings are said once, in
# jobs_get's description; bookkeeping (polls), `following` (search mode's list has a byte budget: README's
# Jobs section explains it), `origin` (the same budget; `jobs show` prints it) and the result, which may be any
# value, go unlisted.
JOB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "uri": {"type": "string"},
        "backend": {"type": "string"},
        "operation": {"type": "string"},
        "remote": {"type": "object"},
        "status": {"type": "string", "enum": list(JOB_STATUSES)},
        "progress": {"type": ["number", "null"]},
        "message": {"type": ["string", "null"]},
        "state": {"type": ["string", "null"]},
        "error": {"type": ["object", "null"]},
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "finished_at": {"type": ["string", "null"]},
    },
    "required": ["id", "uri", "backend", "operation", "status", "created_at", "updated_at"],
}
# jobs_get and jobs_wait add the job's history (see history.py), which jobs_list leaves out.
JOB_WITH_HISTORY_SCHEMA: dict[str, Any] = {
    **JOB_SCHEMA,
    "properties": {**JOB_SCHEMA["properties"], "history": {"type": "object"}},
}
