"""The SQLite job store: durable rows, schema versioning, keyset pages, safe id completion."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from modelops_mcp.jobs import Job, JobStore, StoreError
from modelops_mcp.jobs.model import new_job_id
from modelops_mcp.jobs.store import SCHEMA_VERSION


def job(index: int, status: str = "working", backend: str = "caila") -> Job:
    return Job.model_validate(
        {
            "id": f"job{index:04d}",
            "backend": backend,
            "operation": f"{backend}_fit_service",
            "remote": {"jobId": index},
            "status": status,
            "created_at": f"2026-11-22T10:{index // 60:02d}:{index % 60:02d}.000Z",
        }
    )


def test_a_new_store_is_wal_mode_at_the_current_schema_version(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.close()
    db = sqlite3.connect(tmp_path / "jobs.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_store_from_a_newer_version_is_refused_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    JobStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer modelops-mcp"):
        JobStore(path)


def test_rows_are_visible_to_another_connection_as_soon_as_inserted(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.insert(job(1))
    other = JobStore(tmp_path / "jobs.sqlite3")  # as a restarted server would open it
    found = other.get("job0001")
    assert found is not None
    assert found.remote == {"jobId": 1}
    finished = found.model_copy(update={"status": "completed", "result": {"done": True}})
    other.save(finished)
    again = store.get("job0001")
    assert again is not None
    assert again.status == "completed"
    assert again.result == {"done": True}


def test_pages_are_newest_first_and_do_not_shift_when_jobs_are_added(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    for index in range(5):
        store.insert(job(index, status="completed" if index % 2 else "working"))
    first, cursor = store.page(limit=2)
    assert [j.id for j in first] == ["job0004", "job0003"]
    assert cursor is not None
    store.insert(job(9))  # newer than everything: must not push rows into the next page
    second, cursor = store.page(limit=2, cursor=cursor)
    assert [j.id for j in second] == ["job0002", "job0001"]
    last, cursor = store.page(limit=2, cursor=cursor)
    assert [j.id for j in last] == ["job0000"]
    assert cursor is None
    completed, _ = store.page(statuses=["completed"])
    assert [j.id for j in completed] == ["job0003", "job0001"]
    assert store.page(backend="datarobot")[0] == []
    with pytest.raises(StoreError, match="invalid cursor"):
        store.page(cursor="not a cursor")


def test_active_ids_are_the_unfinished_jobs_oldest_first(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    for index, status in enumerate(["working", "completed", "input_required", "failed", "cancelled", "working"]):
        store.insert(job(index, status))
    assert store.active_ids() == ["job0000", "job0002", "job0005"]


def test_id_completion_treats_the_prefix_literally(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    for index in (1, 2, 12):
        store.insert(job(index))
    assert sorted(store.ids_starting("job001")) == ["job0012"]
    assert sorted(store.ids_starting("")) == ["job0001", "job0002", "job0012"]
    assert store.ids_starting("*") == []
    assert store.ids_starting("job[0]") == []
    assert store.ids_starting("%") == []


def test_new_ids_are_short_url_safe_and_distinct() -> None:
    ids = {new_job_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 10 and i.isalnum() and i.islower() for i in ids)
