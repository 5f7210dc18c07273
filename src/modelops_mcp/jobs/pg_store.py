"""Jobs in PostgreSQL, shared by every replica: the same store as SQLite, plus leases and change notices.

Each unfinished job is followed by one replica at a time, the holder of its lease (`lease_owner` until
`lease_until`). A replica renews its leases three times per lease time and takes its share of the free or
expired ones with `FOR UPDATE SKIP LOCKED` (pg_leases.py), so two replicas never take the same job and
neither waits on the other; one that was SIGKILLed stops renewing, and its jobs are taken within the lease
time and a round. Before each status call the holder stamps `last_poll_at`, on the database's clock, only if
the previous call is at least the minimum interval old: the bound holds whichever replica polls. A visible
change is announced with NOTIFY (pg_listen.py hears it on every other replica).

Calls are synchronous, like the SQLite store's: the tracker reads and writes between awaits, and each call
is one or a few short statements on a pooled connection (the pool replaces a connection the server dropped).
They hold the event loop for a database round trip each: fine on a LAN; an async store would free it.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from modelops_mcp.jobs.model import TERMINAL, Job
from modelops_mcp.jobs.pg_leases import lease_round
from modelops_mcp.jobs.store import StoreError, decode_cursor, encode_cursor
from modelops_mcp.settings.store_url import shown_url

log = logging.getLogger(__name__)

CHANNEL = "modelops_jobs"
SCHEMA_VERSION = 1
# Any constant: serialises the migrations of replicas that start together.
_MIGRATION_LOCK = 0x6D6F6470
_TERMINAL = tuple(sorted(TERMINAL))
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            backend TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            following BOOLEAN NOT NULL DEFAULT TRUE,
            data TEXT NOT NULL,
            lease_owner TEXT,
            lease_until TIMESTAMPTZ,
            last_poll_at TIMESTAMPTZ
        )""",
        "CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC)",
        "CREATE INDEX jobs_status ON jobs (status)",
        # The jobs some replica must follow: what every lease round reads.
        "CREATE INDEX jobs_open ON jobs (lease_owner, lease_until) "
        "WHERE status NOT IN ('cancelled', 'completed', 'failed') AND following",
        # What the server must remember besides jobs (session keys): one value per name.
        "CREATE TABLE state (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        # The replicas alive (seen within one lease time): each takes its share of the open jobs.
        "CREATE TABLE replicas (name TEXT PRIMARY KEY, seen TIMESTAMPTZ NOT NULL)",
    ),
}


def replica_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class PgJobStore:
    def __init__(self, url: str, lease_s: float = 15.0, *, replica: str | None = None, connect_s: float = 10.0) -> None:
        self.url = url
        self.lease_s: float | None = lease_s
        self.replica = replica or replica_name()
        try:  # one plain connection first: the pool's timeout would not say why it could not connect
            psycopg.connect(url, connect_timeout=max(1, int(connect_s))).close()
        except psycopg.Error as exc:
            raise StoreError(f"cannot reach the job store at {shown_url(url)}: {_reason(exc, url)}") from None
        self._pool = ConnectionPool(url, min_size=1, max_size=4, open=False, kwargs={"autocommit": True})
        self._pool.open(wait=True, timeout=connect_s)
        self._migrate()

    def _migrate(self) -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS modelops_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM modelops_schema").fetchone()
            version = 0 if row is None else int(row[0])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{shown_url(self.url)} was written by a newer modelops-mcp (schema {version} > {SCHEMA_VERSION})"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target]:
                    conn.execute(statement)
            if version < SCHEMA_VERSION:
                conn.execute("DELETE FROM modelops_schema")
                conn.execute("INSERT INTO modelops_schema (version) VALUES (%s)", (SCHEMA_VERSION,))

    def close(self) -> None:
        """Let go of this replica's leases first: on a clean stop (a rolling deploy) the others take its jobs
        at their next round instead of after the lease time."""
        try:
            with self._pool.connection(timeout=3.0) as conn, conn.transaction():
                conn.execute(
                    "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = %s", (self.replica,)
                )
                conn.execute("DELETE FROM replicas WHERE name = %s", (self.replica,))
        except Exception as exc:  # the database is away: the leases expire on their own
            log.warning("could not let go of this replica's job leases: %s", type(exc).__name__)
        self._pool.close()

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        values = tuple(args)
        try:
            return self._run(sql, values)
        except psycopg.OperationalError:
            # A connection the server closed (a restart, a failover, an idle timeout): drop every such one
            # and run the statement once more. Each statement here may run twice (stamps, upserts, reads).
            self._pool.check()
            return self._run(sql, values)

    def _run(self, sql: str, values: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._pool.connection() as conn:
            cursor = conn.execute(sql, values)
            return cursor.fetchall() if cursor.description is not None else []

    # ---- the store interface -------------------------------------------------------------------------

    def insert(self, job: Job) -> None:
        """Committed when this returns, with this replica's lease: it polls the job it started."""
        self._rows(
            "INSERT INTO jobs (id, backend, status, created_at, following, data, lease_owner, lease_until) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, now() + make_interval(secs => %s))",
            (
                job.id,
                job.backend,
                job.status,
                job.created_at,
                job.following,
                job.model_dump_json(),
                self.replica,
                self.lease_s,
            ),
        )

    def save(self, job: Job) -> None:
        # A job another replica ended (cancelled, say) stays ended, and one it let go of (`following` false)
        # stays let go of: a late answer of a poll that was on its way must not revive either.
        self._rows(
            "UPDATE jobs SET status = %s, following = %s, data = %s "
            f"WHERE id = %s AND status NOT IN {_in(_TERMINAL)} AND (following OR NOT %s)",
            (job.status, job.following, job.model_dump_json(), job.id, *_TERMINAL, job.following),
        )

    def get(self, job_id: str) -> Job | None:
        rows = self._rows("SELECT data FROM jobs WHERE id = %s", (job_id,))
        return Job.model_validate_json(rows[0][0]) if rows else None

    def exists(self, job_id: str) -> bool:
        return bool(self._rows("SELECT 1 FROM jobs WHERE id = %s", (job_id,)))

    def page(
        self,
        backend: str | None = None,
        statuses: Iterable[str] | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> tuple[list[Job], str | None]:
        where: list[str] = []
        args: list[object] = []
        if backend is not None:
            where.append("backend = %s")
            args.append(backend)
        wanted = list(statuses or ())
        if wanted:
            where.append(f"status IN {_in(wanted)}")
            args.extend(wanted)
        if cursor is not None:
            created_at, job_id = decode_cursor(cursor)
            where.append("(created_at < %s OR (created_at = %s AND id < %s))")
            args.extend([created_at, created_at, job_id])
        sql = "SELECT data FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id DESC LIMIT %s"
        args.append(limit + 1)
        rows = self._rows(sql, args)
        jobs = [Job.model_validate_json(row[0]) for row in rows[:limit]]
        next_cursor = encode_cursor(jobs[-1]) if len(rows) > limit and jobs else None
        return jobs, next_cursor

    def ids_starting(self, prefix: str, limit: int = 100) -> list[str]:
        if prefix and not prefix.isalnum():
            return []
        rows = self._rows(
            "SELECT id FROM jobs WHERE id LIKE %s ORDER BY created_at DESC LIMIT %s", (prefix + "%", limit)
        )
        return [row[0] for row in rows]

    # ---- leases ----------------------------------------------------------------------------------------

    def active_ids(self) -> list[str]:
        """This replica's jobs: its leases renewed, and its fair share of the open jobs taken (pg_leases.py)."""
        assert self.lease_s is not None
        with self._pool.connection() as conn, conn.transaction():
            return lease_round(conn, self.replica, self.lease_s)

    def may_poll(self, job_id: str, min_interval: float) -> bool:
        """Stamp a status call of `job_id` now, if this replica holds it and its last call is old enough."""
        return bool(
            self._rows(
                "UPDATE jobs SET last_poll_at = now(), lease_until = now() + make_interval(secs => %s) "
                "WHERE id = %s AND lease_owner = %s "
                "AND (last_poll_at IS NULL OR last_poll_at <= now() - make_interval(secs => %s)) RETURNING 1",
                (self.lease_s, job_id, self.replica, min_interval),
            )
        )

    def announce(self, job_id: str) -> None:
        try:
            self._rows("SELECT pg_notify(%s, %s)", (CHANNEL, f"{self.replica} {job_id}"))
        except psycopg.Error as exc:  # the change is stored: other replicas' waiters still see it on their reads
            log.warning("job %s: could not tell the other replicas of its change: %s", job_id, _reason(exc, self.url))

    def ping(self) -> None:
        """Raises when the database does not answer within a few seconds (readiness, health.py)."""
        with self._pool.connection(timeout=3.0) as conn:
            conn.execute("SELECT 1 FROM jobs LIMIT 1").fetchall()

    # ---- other state -------------------------------------------------------------------------------------

    def state_get(self, name: str) -> str | None:
        rows = self._rows("SELECT value FROM state WHERE name = %s", (name,))
        return str(rows[0][0]) if rows else None

    def state_put(self, name: str, value: str) -> None:
        self._rows(
            "INSERT INTO state (name, value) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            (name, value),
        )

    def insert_many(self, jobs: Iterable[Job]) -> int:
        """Jobs copied from another store (`store migrate`), unleased; ones already here are kept. Returns how
        many were added."""
        added = 0
        with self._pool.connection() as conn, conn.transaction():
            for job in jobs:
                cursor = conn.execute(
                    "INSERT INTO jobs (id, backend, status, created_at, following, data) "
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                    (job.id, job.backend, job.status, job.created_at, job.following, job.model_dump_json()),
                )
                added += cursor.rowcount
        return added


def _in(values: Iterable[object]) -> str:
    return "(" + ", ".join("%s" for _ in values) + ")"


def _reason(exc: BaseException, url: str) -> str:
    """The driver's reason in one line, without the URL's password (it may quote the connection string)."""
    lines = str(exc).strip().splitlines()
    text = lines[-1].strip() if lines else type(exc).__name__
    password = psycopg.conninfo.conninfo_to_dict(url).get("password")
    return text.replace(str(password), "***") if password else text
