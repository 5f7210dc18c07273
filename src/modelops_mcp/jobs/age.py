"""How old a job is, and the error that ends one still unfinished past the age limit.

Without a limit a job the backend never finishes (or forgets without saying so) is polled forever, and
again after every restart; its age counts from when it started, as stored, so a restart does not reset it.
"""

from __future__ import annotations

import time
from datetime import datetime

from modelops_mcp.core.errors import ToolError
from modelops_mcp.jobs.model import Job

# How a user changes the limit, named in the message a job ended by it carries.
MAX_AGE_FLAG = "--job-max-age"
MAX_AGE_ENV = "MODELOPS_JOB_MAX_AGE"


def age_s(job: Job, now: float | None = None) -> float:
    """Seconds since the job started (0 when its start time cannot be read: such a job is not ended for it)."""
    try:
        started = datetime.fromisoformat(job.created_at).timestamp()
    except ValueError:
        return 0.0
    return (time.time() if now is None else now) - started


def span(seconds: float) -> str:
    """A duration as a user reads it: 7d, 1.5h, 40s."""
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g}{unit}"
    return f"{seconds:.3g}s"


def too_old(job: Job, age: float, limit: float) -> ToolError:
    return ToolError(
        kind="timeout",
        code="job_max_age",
        message=f"the job was still unfinished {span(age)} after it started, past the {span(limit)} age limit on "
        "following a job: it is no longer polled, and the backend may still be running it (check it with the "
        f"backend's own tools). To follow longer jobs, start the server with a larger {MAX_AGE_FLAG} "
        f"(env {MAX_AGE_ENV}), e.g. {MAX_AGE_FLAG} 30d",
        backend=job.backend,
        operation=job.operation,
    )
