"""bench/replica_bench.py still runs (tiny sizes), against the real PostgreSQL the `postgres` tests use."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_bench_smoke import run_bench

# Needs Debian's postgresql: run by .ci/postgres.sh with the other postgres tests (about 20 s).
pytestmark = pytest.mark.postgres


def test_the_replica_benchmark_measures_both_setups_and_the_shared_jobs(tmp_path: Path) -> None:
    results = run_bench("replica_bench.py", tmp_path / "replicas.json", "--quick")
    for mode in ("legacy", "auto"):
        http = results["http"][mode]
        assert http["one_replica"]["calls"] > 0
        assert http["two_replicas"]["calls"] > 0
        assert http["one_replica"]["errors"] == http["two_replicas"]["errors"] == 0
    jobs = results["jobs"]
    assert jobs["jobs_polled"] == jobs["jobs"] == 200
    assert jobs["polls_closer_than_interval"] == 0
    assert sum(jobs["jobs_held_per_replica"]) == 200
    assert 0 < jobs["polls_per_s"] <= jobs["bound_polls_per_s"]
    assert "***@127.0.0.1" in jobs["store_migrate"]  # the URL shown with its password masked
