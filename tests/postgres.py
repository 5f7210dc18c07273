"""A real PostgreSQL for the `postgres` tests: Debian's server, a cluster of our own in a temporary directory.

Started once per session on 127.0.0.1 and an ephemeral port, with a password (so tests can check it never
shows), and stopped at the end. PostgreSQL refuses to run as root, so as root (CI) the cluster belongs to the
`postgres` user. Each test takes a fresh database from `PostgresCluster.database()`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

USER = "modelops"
PASSWORD = "pg-canary-5e1f0c9b2a7d"  # must never appear in any result, log or error


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql (.ci/postgres.sh does)")
    return Path(initdb).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresCluster:
    port: int
    _count: int = field(default=0)

    def url(self, dbname: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{dbname}"

    def database(self) -> str:
        """A new, empty database; its URL."""
        self._count += 1
        name = f"t{os.getpid()}_{self._count}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]  # a name made here
        return self.url(name)

    def query(self, url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(url, autocommit=True) as conn:
            cursor = conn.execute(sql, args)  # type: ignore[arg-type]  # tests' own SQL
            return cursor.fetchall() if cursor.description is not None else []


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="modelops-pg-"))
    as_user: dict[str, Any] = {}
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_user = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD)
    if as_user:
        os.chown(pwfile, as_user["user"], as_user["group"])
    data = root / "data"
    subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(pwfile), "--auth", "scram-sha-256"],
        check=True,
        capture_output=True,
        timeout=120,
        **as_user,
    )
    port = _free_port()
    log = (root / "server.log").open("w")
    server = subprocess.Popen(
        # Durability is no concern of a throwaway cluster; the unix socket lives in our own directory.
        [
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-k",
            str(root),
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        **as_user,
    )
    cluster = PostgresCluster(port)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(cluster.url(), connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start: {(root / 'server.log').read_text()}") from None
                time.sleep(0.1)
        yield cluster
    finally:
        server.send_signal(signal.SIGINT)  # fast shutdown
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
        shutil.rmtree(root, ignore_errors=True)
