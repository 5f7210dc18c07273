"""`modelops-mcp store migrate`: a SQLite state dir's jobs and session keys, copied into PostgreSQL.

Run once, with the servers of that state dir stopped. Jobs already in the database are kept as they are, so
running it twice copies nothing twice; unfinished jobs arrive unleased and the first replica takes them.
"""

from __future__ import annotations

from pathlib import Path

from modelops_mcp.calls.sessions import SessionKeys, StoredSessionKeys
from modelops_mcp.jobs.pg_store import PgJobStore
from modelops_mcp.jobs.store import JobStore, StoreError
from modelops_mcp.settings.store_url import shown_url
from modelops_mcp.spec.labels import ClassNames, StoredClassNames

_PAGE = 500


def migrate_state(state_dir: Path, url: str) -> str:
    """Copy, and say what was copied in one line."""
    db = state_dir / "jobs.sqlite3"
    sessions_file = state_dir / "sessions.json"
    if not db.exists() and not sessions_file.exists():
        raise StoreError(f"nothing to copy: {state_dir} has neither jobs.sqlite3 nor sessions.json")
    target = PgJobStore(url)
    try:
        seen = added = 0
        if db.exists():
            source = JobStore(db)
            try:
                cursor: str | None = None
                while True:
                    jobs, cursor = source.page(limit=_PAGE, cursor=cursor)
                    seen += len(jobs)
                    added += target.insert_many(jobs)
                    if cursor is None:
                        break
            finally:
                source.close()
        keys = SessionKeys(sessions_file).all()
        shared = StoredSessionKeys(target)
        for backend, key in keys.items():
            shared.remember(backend, key)
        labelled = ClassNames(state_dir / "class_names.json").items()
        shared_names = StoredClassNames(target)
        for record, names in labelled:
            shared_names.put(record, names)
    finally:
        target.close()
    return (
        f"copied {added} of {seen} job(s) from {db} into {shown_url(url)} ({seen - added} already there), "
        f"{len(keys)} session key(s)"
        + ("" if not keys else f" ({', '.join(sorted(keys))})")
        + f", and the class names of {len(labelled)} dataset(s)"
    )
