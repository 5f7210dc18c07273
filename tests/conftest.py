"""Shared fixtures: a sandbox on real loopback HTTP, and servers reached through the mcp SDK's Client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from modelops_mcp.sandbox import Sandbox, serve_sandbox
from tests.support import RunningSandbox

# A key that must never be seen in any result, log line or error text.
CANARY = "canary-7d1e0b9a4c2f-do-not-leak"


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
