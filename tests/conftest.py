"""Shared fixtures: a sandbox on real loopback HTTP, and servers reached through the mcp SDK's Client."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from modelops_mcp.sandbox import Sandbox, serve_sandbox
from tests.postgres import PostgresCluster, postgres_cluster
from tests.support import RunningSandbox

# pytest rewrites the asserts of every test module as it imports it (an AST pass over ~90 files: ~8 s of CPU in
# each xdist worker) and caches the result in tests/__pycache__ (gitignored), unless bytecode writing is off.
# With PYTHONDONTWRITEBYTECODE=1 in the environment it was redone by each worker on every run; the cache is
# pytest's own, so the test modules imported after this conftest keep it. (Server subprocesses keep the setting.)
sys.dont_write_bytecode = False

# A key that must never be seen in any result, log line or error text.
CANARY = "canary-7d1e0b9a4c2f-do-not-leak"

# The files that take longest (server subprocesses, waits on simulated time), longest first. xdist hands whole
# files to its two workers in collection order (addopts: --dist loadfile --no-loadscope-reorder), so running
# these first leaves short files for the end, and neither worker idles while the other finishes a long one.
# (xdist's own reorder puts files with many tests first, which left the one-test SIGKILL and durability files
# for last.) A file missing here only runs later; nothing depends on the order.
LONGEST_FIRST = (
    "test_fuzz.py",
    "test_upload_places.py",
    "test_http_auth.py",
    "test_job_origin.py",
    "test_confirmation.py",
    "test_jobs_durability.py",
    "test_kill_durability.py",
    "test_demo_cli.py",
    "test_tolerant_e2e.py",
    "test_protocol_cancellation.py",
    "test_fault_cli.py",
    "test_caila_e2e.py",
    "test_datarobot_datasets_e2e.py",
    "test_exposure.py",
    "test_secret_sweep.py",
    "test_doctor.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    # A stable sort by file: each file's tests stay together and in their own order.
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One PostgreSQL cluster for the session (`postgres` tests only); a test takes a database of its own."""
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    """Emulators on an ephemeral loopback port, clock frozen: tests move time by hand."""
    emulators = Sandbox(speed=0)
    async with serve_sandbox(emulators) as url:
        yield RunningSandbox(emulators, url)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"
