"""Jobs on disk: one SQLite file in the state dir, so a restarted server still knows every job.

WAL mode with synchronous=NORMAL survives a killed process (every committed row is in the WAL); only a
power cut can lose the last transactions. Each call is a short statement on a local file, so it runs
inline on the event loop: handing it to a thread would cost more than the write.
"""

from __future__ import annotations

import base64
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from modelops_mcp.jobs.model import TERMINAL, Job

SCHEMA_VERSION = 1
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            backend TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            data TEXT NOT NULL
        )""",
        "CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC)",
        "CREATE INDEX jobs_status ON jobs (status)",
    ),
}
_TERMINAL = tuple(sorted(TERMINAL))


class StoreError(ValueError):
    """A store that cannot be used as asked (a bad cursor, an unreachable or newer database): said in one line."""


def encode_cursor(job: Job) -> str:
    return base64.urlsafe_b64encode(f"{job.created_at}|{job.id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, job_id = raw.split("|", 1)
    except (ValueError, UnicodeDecodeError):
        raise StoreError(f"invalid cursor {cursor!r}") from None
    return created_at, job_id


class Store(Protocol):
    """What the tracker, the tools and the CLI need of a job store: SQLite (one process) or PostgreSQL (replicas).

    `lease_s` is None for a store one process owns; a shared store gives each replica leases on the jobs it
    follows (`active_ids` renews and takes them, `may_poll` keeps the minimum interval across replicas) and
    `announce` tells the other replicas of a visible change.
    """

    lease_s: float | None

    def close(self) -> None: ...
    def insert(self, job: Job) -> None: ...
    def save(self, job: Job) -> None: ...
    def get(self, job_id: str) -> Job | None: ...
    def exists(self, job_id: str) -> bool: ...
    def page(
        self,
        backend: str | None = None,
        statuses: Iterable[str] | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> tuple[list[Job], str | None]: ...
    def active_ids(self) -> list[str]: ...
    def ids_starting(self, prefix: str, limit: int = 100) -> list[str]: ...
    def may_poll(self, job_id: str, min_interval: float) -> bool: ...
    def announce(self, job_id: str) -> None: ...
    def ping(self) -> None: ...


class JobStore:
    # One process owns the file: no leases, every unfinished job is this process's to poll.
    lease_s: float | None = None

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the event loop and the CLI; the lock keeps a stray thread honest.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} was written by a newer modelops-mcp (schema {version} > {SCHEMA_VERSION})"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _MIGRATIONS[target]:
                        self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version={target}")
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def insert(self, job: Job) -> None:
        """Committed when this returns: the handle a tool gives out always resolves, even after a crash."""
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs (id, backend, status, created_at, data) VALUES (?, ?, ?, ?, ?)",
                (job.id, job.backend, job.status, job.created_at, job.model_dump_json()),
            )

    def save(self, job: Job) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET status = ?, data = ? WHERE id = ?", (job.status, job.model_dump_json(), job.id)
            )

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else Job.model_validate_json(row[0])

    def exists(self, job_id: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone() is not None

    def page(
        self,
        backend: str | None = None,
        statuses: Iterable[str] | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> tuple[list[Job], str | None]:
        """Newest first; the cursor is where the previous page stopped (keyset, so pages never shift)."""
        where: list[str] = []
        args: list[object] = []
        if backend is not None:
            where.append("backend = ?")
            args.append(backend)
        wanted = list(statuses or ())
        if wanted:
            where.append(f"status IN ({','.join('?' * len(wanted))})")
            args.extend(wanted)
        if cursor is not None:
            created_at, job_id = decode_cursor(cursor)
            where.append("(created_at < ? OR (created_at = ? AND id < ?))")
            args.extend([created_at, created_at, job_id])
        sql = "SELECT data FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        args.append(limit + 1)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        jobs = [Job.model_validate_json(row[0]) for row in rows[:limit]]
        next_cursor = encode_cursor(jobs[-1]) if len(rows) > limit and jobs else None
        return jobs, next_cursor

    def active_ids(self) -> list[str]:
        """The jobs to follow: unfinished, and not let go of by a user (`following` false)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT id FROM jobs WHERE status NOT IN ({','.join('?' * len(_TERMINAL))}) "
                "AND COALESCE(json_extract(data, '$.following'), 1) != 0 ORDER BY created_at",
                _TERMINAL,
            ).fetchall()
        return [row[0] for row in rows]

    def may_poll(self, job_id: str, min_interval: float) -> bool:
        return True  # the tracker's own schedule keeps the interval: no other process polls

    def announce(self, job_id: str) -> None:
        return None  # no other process to tell

    def ping(self) -> None:
        """Raises when the store cannot be read (readiness, health.py)."""
        with self._lock:
            self._db.execute("SELECT 1 FROM jobs LIMIT 1").fetchall()

    def ids_starting(self, prefix: str, limit: int = 100) -> list[str]:
        # Ids are alphanumeric, so a prefix that is not cannot match; this also keeps GLOB's `*?[` out.
        if prefix and not prefix.isalnum():
            return []
        pattern = prefix + "*"
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM jobs WHERE id GLOB ? ORDER BY created_at DESC LIMIT ?", (pattern, limit)
            ).fetchall()
        return [row[0] for row in rows]
