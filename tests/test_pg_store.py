"""The PostgreSQL job store on a real server: the SQLite store's behaviour, plus leases between replicas."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelops_mcp.calls.sessions import SessionKeys, StoredSessionKeys
from modelops_mcp.jobs import Job, JobStore, StoreError
from modelops_mcp.jobs.pg_store import PgJobStore
from modelops_mcp.spec.labels import ClassNames, StoredClassNames
from tests.postgres import PASSWORD, PostgresCluster

pytestmark = pytest.mark.postgres


def a_job(n: int, **fields: object) -> Job:
    return Job(
        id=f"job{n:04d}",
        backend="caila",
        operation="caila_fit_service",
        remote={"jobId": n},
        created_at=f"2026-12-02T10:00:{n % 60:02d}.000Z",
        **fields,  # type: ignore[arg-type]
    )


def test_the_store_keeps_whole_jobs_pages_them_and_finds_ids_like_sqlite(postgres: PostgresCluster) -> None:
    store = PgJobStore(postgres.database(), lease_s=5)
    try:
        jobs = [a_job(n) for n in range(5)]
        for job in jobs:
            store.insert(job)
        done = jobs[1].model_copy(update={"status": "completed", "progress": 1.0, "result": {"ok": [1, 2]}})
        store.save(done)
        assert store.get("job0001") == done  # every field, the result included
        assert store.get("nope") is None
        assert store.exists("job0000")
        assert not store.exists("nope")
        first, cursor = store.page(limit=2)
        rest, end = store.page(limit=10, cursor=cursor)
        assert [j.id for j in first + rest] == ["job0004", "job0003", "job0002", "job0001", "job0000"]
        assert end is None
        assert [j.id for j in store.page(statuses=["completed"])[0]] == ["job0001"]
        assert store.page(backend="datarobot")[0] == []
        assert sorted(store.ids_starting("job000")) == [f"job000{n}" for n in range(5)]
        assert store.ids_starting("job%") == []  # not a LIKE pattern
        with pytest.raises(StoreError):
            store.page(cursor="!!")
        # An ended job stays ended, and a let-go one let go: a late save from a replica that had not heard
        # (its poll was on its way) does not revive either.
        store.save(jobs[1])
        assert store.get("job0001") == done
        let_go = jobs[0].model_copy(update={"following": False, "message": "not followed"})
        store.save(let_go)
        store.save(jobs[0].model_copy(update={"state": "RUNNING"}))
        assert store.get("job0000") == let_go
        assert store.active_ids() == ["job0002", "job0003", "job0004"]
    finally:
        store.close()


def test_each_open_job_has_one_holder_and_a_dead_holders_jobs_are_taken_over(postgres: PostgresCluster) -> None:
    url = postgres.database()
    a, b = PgJobStore(url, lease_s=1, replica="a"), PgJobStore(url, lease_s=1, replica="b")
    try:
        for n in range(4):
            a.insert(a_job(n))
        b.insert(a_job(9))
        assert a.active_ids() == [f"job{n:04d}" for n in range(4)]
        assert b.active_ids() == ["job0009"]  # a's leases are a's while a renews them
        # The minimum interval holds across replicas: only the holder may poll, and not twice within it.
        assert a.may_poll("job0000", 0.5)
        assert not a.may_poll("job0000", 0.5)
        assert not b.may_poll("job0000", 0.0)
        # a stops renewing (as a SIGKILLed replica does): within the lease time b takes every one of them.
        deadline = time.monotonic() + 10
        while len(held := b.active_ids()) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert held == [f"job{n:04d}" for n in range(4)] + ["job0009"]
        assert not a.may_poll("job0001", 0.0)  # a, back from the dead, polls nothing it no longer holds
        assert b.may_poll("job0001", 0.0)
        assert a.active_ids() == []
    finally:
        a.close()
        b.close()


def test_a_replica_that_stops_cleanly_hands_its_jobs_over_at_once(postgres: PostgresCluster) -> None:
    url = postgres.database()
    a, b = PgJobStore(url, lease_s=600, replica="a"), PgJobStore(url, lease_s=600, replica="b")
    try:
        for n in range(6):
            a.insert(a_job(n))
        assert len(a.active_ids()) == 6
        assert b.active_ids() == []
        a.close()  # with a lease of ten minutes, only letting go makes b take them now
        assert b.active_ids() == [f"job{n:04d}" for n in range(6)]
    finally:
        b.close()


def test_two_replicas_taking_over_at_once_never_take_the_same_job(postgres: PostgresCluster) -> None:
    url = postgres.database()
    dead = PgJobStore(url, lease_s=1, replica="dead")
    for n in range(60):
        dead.insert(a_job(n))
    dead.close()
    stores = [PgJobStore(url, lease_s=1, replica=name) for name in ("x", "y")]
    try:
        deadline = time.monotonic() + 10
        taken: list[list[str]] = [[], []]
        while sum(map(len, taken)) < 60 and time.monotonic() < deadline:
            taken = [store.active_ids() for store in stores]
        assert sorted(taken[0] + taken[1]) == [f"job{n:04d}" for n in range(60)]
        assert not set(taken[0]) & set(taken[1])
    finally:
        for store in stores:
            store.close()


def test_a_replica_that_joins_gets_its_share_and_the_first_lets_the_excess_go(postgres: PostgresCluster) -> None:
    url = postgres.database()
    a, b = PgJobStore(url, lease_s=30, replica="a"), PgJobStore(url, lease_s=30, replica="b")
    try:
        for n in range(20):
            a.insert(a_job(n))
        assert len(a.active_ids()) == 20  # alone: every open job is a's
        assert b.active_ids() == []  # all leased; b is now seen alive, so a's share is half
        kept = a.active_ids()
        assert kept == [f"job{n:04d}" for n in range(10)]  # the newest ten let go
        taken = b.active_ids()
        assert taken == [f"job{n:04d}" for n in range(10, 20)]
        assert (len(a.active_ids()), len(b.active_ids())) == (10, 10)  # and it stays so
    finally:
        a.close()
        b.close()


def test_session_keys_and_class_names_live_in_the_store_and_every_replica_reads_them(
    postgres: PostgresCluster,
) -> None:
    url = postgres.database()
    a, b = PgJobStore(url, replica="a"), PgJobStore(url, replica="b")
    try:
        StoredSessionKeys(a).remember("training", "sess-1")
        assert StoredSessionKeys(b).get("training") == "sess-1"
        StoredSessionKeys(b).remember("training", "sess-2")
        assert StoredSessionKeys(a).get("training") == "sess-2"
        assert StoredSessionKeys(a).get("caila") is None
        StoredClassNames(a).remember("http://ttm", "dataset", 7, ["negative", "positive"])
        assert StoredClassNames(b).get("http://ttm", "dataset", 7) == ["negative", "positive"]
        assert StoredClassNames(b).get("http://ttm", "dataset", 8) is None
    finally:
        a.close()
        b.close()


def test_store_migrate_copies_a_state_dirs_jobs_and_session_keys_once(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    sqlite = JobStore(tmp_path / "jobs.sqlite3")
    for n in range(3):
        sqlite.insert(a_job(n))
    sqlite.save(a_job(2, status="failed", message="it broke"))
    sqlite.close()
    SessionKeys(tmp_path / "sessions.json").remember("training", "sess-9")
    ClassNames(tmp_path / "class_names.json").remember("http://ttm", "dataset", 7, ["spam", "ham"])
    url = postgres.database()
    command = [sys.executable, "-m", "modelops_mcp", "store", "migrate", "--state-dir", str(tmp_path)]
    first = subprocess.run([*command, "--store", url], capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "copied 3 of 3 job(s)" in first.stdout
    assert "1 session key(s) (training), and the class names of 1 dataset(s)" in first.stdout
    assert PASSWORD not in first.stdout + first.stderr
    again = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env={"MODELOPS_STORE_URL": url, "PATH": ""}
    )
    assert again.returncode == 0, again.stderr
    assert "copied 0 of 3 job(s)" in again.stdout
    listed = subprocess.run(
        [sys.executable, "-m", "modelops_mcp", "jobs", "--store", url, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert sorted(job["id"] for job in json.loads(listed.stdout)) == ["job0000", "job0001", "job0002"]
    missing = subprocess.run(
        [sys.executable, "-m", "modelops_mcp", "jobs", "--store", url, "show", "nosuchjob"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1
    assert "no job 'nosuchjob' in postgresql://modelops:***@127.0.0.1" in missing.stderr
    assert PASSWORD not in missing.stderr
    store = PgJobStore(url, replica="new")
    try:
        failed = store.get("job0002")
        assert failed is not None
        assert failed.status == "failed"
        assert failed.message == "it broke"
        assert store.active_ids() == ["job0000", "job0001"]  # unleased on arrival: the first replica takes them
        assert StoredSessionKeys(store).get("training") == "sess-9"
        assert StoredClassNames(store).get("http://ttm", "dataset", 7) == ["spam", "ham"]
    finally:
        store.close()


def test_a_wrong_password_is_refused_in_one_line_that_does_not_show_it(postgres: PostgresCluster) -> None:
    wrong = "not-the-password-3f9a"
    with pytest.raises(StoreError) as refused:
        PgJobStore(postgres.url(password=wrong))
    message = str(refused.value)
    assert "cannot reach the job store at" in message
    assert "password authentication failed" in message
    assert wrong not in message
    assert PASSWORD not in message
    assert "\n" not in message
