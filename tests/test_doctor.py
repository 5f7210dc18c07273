"""`modelops-mcp doctor`: one read-only call per backend, a table with the fix for each failure, and --json."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from tempfile import gettempdir

import anyio
import pytest

from modelops_mcp.sandbox import Sandbox, serve_sandbox
from tests.support import server_env

CLI = (sys.executable, "-m", "modelops_mcp", "doctor")
BACKENDS = {"caila", "datarobot", "pieces", "training", "tunethemodel"}


async def doctor(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    # Run beside the event loop, which serves the sandbox the doctor calls.
    # The state dir is unused: doctor keeps no state.
    done = await anyio.run_process([*CLI, *args], env=server_env(env or {}, Path(gettempdir())), check=False)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def pinned() -> AsyncIterator[tuple[Sandbox, str]]:
    """A sandbox that accepts only one key per backend, so a wrong key is refused as a real service would."""
    keys = {"caila": "caila-right", "datarobot": "robot-right", "tunethemodel": "ttm-right"}
    emulators = Sandbox(api_keys=keys)
    async with serve_sandbox(emulators) as url:
        yield emulators, url


@pytest.mark.anyio
async def test_doctor_sandbox_finds_every_backend_ok_and_exits_zero() -> None:
    code, out, err = await doctor("--sandbox", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] is True
    rows = {row["backend"]: row for row in report["backends"]}
    assert set(rows) == BACKENDS
    assert all(row["status"] == "ok" and row["fix"] is None for row in rows.values()), rows
    assert rows["datarobot"]["probe"] == "GET /version/"
    assert "account 'demo'" in rows["caila"]["detail"]  # the name every Caila tool asks for
    code, table, _ = await doctor("--sandbox")
    assert code == 0
    assert "How to fix" not in table
    assert [line.split()[:2] for line in table.splitlines()[1:6]] == [[b, "ok"] for b in sorted(BACKENDS)]


@pytest.mark.anyio
async def test_doctor_names_the_fix_for_each_broken_setting_and_exits_nonzero(pinned: tuple[Sandbox, str]) -> None:
    emulators, url = pinned
    env = emulators.env(url)
    env["CAILA_BASE_URL"] = "caila.io"  # no scheme
    env["DATAROBOT_ENDPOINT"] = env["DATAROBOT_ENDPOINT"].removesuffix("/api/v2")
    env["TTM_API_KEY"] = "ttm-wrong-key"
    env["TRAINING_MODULE_URL"] = f"http://127.0.0.1:{closed_port()}"
    code, out, err = await doctor("--json", env=env)
    assert code == 1, err
    report = json.loads(out)
    assert report["ok"] is False
    rows = {row["backend"]: row for row in report["backends"]}
    assert {b: (r["status"], r["stage"]) for b, r in rows.items()} == {
        "caila": ("failed", "url"),
        "datarobot": ("failed", "url"),
        "pieces": ("ok", None),
        "training": ("failed", "reachable"),
        "tunethemodel": ("failed", "credential"),
    }
    assert "set CAILA_BASE_URL" in rows["caila"]["fix"]
    assert "https://caila.io" in rows["caila"]["fix"]
    assert rows["datarobot"]["fix"].endswith(f"e.g. {url}/datarobot/api/v2")
    assert "TRAINING_MODULE_URL" in rows["training"]["fix"]
    assert "TTM_API_KEY was refused" in rows["tunethemodel"]["fix"]
    assert "ttm-wrong-key" not in out
    # Nothing was sent for a malformed URL; the refused key and the health check were.
    assert emulators.log.entries("caila") == []
    assert emulators.log.entries("datarobot") == []
    assert [e.path for e in emulators.log.entries("tunethemodel")] == ["/tunethemodel/v0/models"]

    code, table, _ = await doctor(env=env)
    assert code == 1
    fixes = table.split("How to fix:\n", 1)[1]
    for backend in ("caila", "datarobot", "training", "tunethemodel"):
        assert f"  {backend}: {rows[backend]['fix']}" in fixes
    assert "pieces:" not in fixes
    assert "ttm-wrong-key" not in table


@pytest.mark.anyio
async def test_doctor_checks_the_credential_with_the_right_key_too(pinned: tuple[Sandbox, str]) -> None:
    emulators, url = pinned
    env = emulators.env(url)
    env["DATAROBOT_API_TOKEN"] = "robot-wrong"
    code, out, _ = await doctor("--json", env=env)
    rows = {row["backend"]: row for row in json.loads(out)["backends"]}
    assert code == 1
    assert (rows["datarobot"]["status"], rows["datarobot"]["stage"]) == ("failed", "credential")
    assert "DATAROBOT_API_TOKEN was refused" in rows["datarobot"]["fix"]
    assert rows["caila"]["status"] == rows["tunethemodel"]["status"] == "ok"


@pytest.mark.anyio
async def test_doctor_skips_backends_nobody_configured_without_failing() -> None:
    # No variable at all: the keyed backends are skipped with what to set; the local ones are looked for.
    env = {"TRAINING_MODULE_URL": f"http://127.0.0.1:{closed_port()}"}
    code, out, _ = await doctor("--json", env=env)
    rows = {row["backend"]: row for row in json.loads(out)["backends"]}
    assert rows["caila"]["status"] == rows["datarobot"]["status"] == rows["tunethemodel"]["status"] == "skipped"
    assert rows["caila"]["fix"] == "to use it, set CAILA_API_KEY and CAILA_BASE_URL"
    # The one configured backend fails, so the exit status says so.
    assert rows["training"]["status"] == "failed"
    assert code == 1
