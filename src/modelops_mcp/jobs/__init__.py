"""Long-running backend operations as jobs: model, stores (SQLite, PostgreSQL), tracker, status adapters.

Only the model and the store are re-exported here: what reads jobs without following them (`modelops-mcp
jobs`, the jobs_* tools' shapes) needs no tracker, nor the catalog and HTTP stack it pulls in.
"""

from modelops_mcp.jobs.model import JOB_STATUSES, TERMINAL, Job, JobStatus, job_uri
from modelops_mcp.jobs.store import JobStore, StoreError

__all__ = ["JOB_STATUSES", "TERMINAL", "Job", "JobStatus", "JobStore", "StoreError", "job_uri"]
