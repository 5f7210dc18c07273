"""Long-running backend operations as jobs: model, stores (SQLite, PostgreSQL), tracker, status adapters.

Only the model and the store are re-exported here: the tool catalog imports the model, and the tracker
imports the catalog, so re-exporting the tracker would make the two packages import each other.
"""

from modelops_mcp.jobs.model import JOB_STATUSES, TERMINAL, Job, JobStatus, job_uri
from modelops_mcp.jobs.store import JobStore, StoreError

__all__ = ["JOB_STATUSES", "TERMINAL", "Job", "JobStatus", "JobStore", "StoreError", "job_uri"]
