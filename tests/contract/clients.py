"""Where the official clients are installed (by .ci/clients/*.sh), and a clear failure when one is not."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / ".ci" / ".clients"


def client_dir(name: str) -> Path:
    """`.ci/.clients/<name>`, made by `.ci/clients/<name>.sh`; a missing one fails the test, never skips it."""
    where = CLIENTS / name
    if not where.is_dir():
        raise AssertionError(f"the {name!r} client is not installed: run  bash .ci/clients/{name}.sh")
    return where


def client_python(name: str) -> Path:
    """The Python of a client's own virtualenv (its dependencies never meet ours)."""
    python = client_dir(name) / "bin" / "python"
    if not python.exists():
        raise AssertionError(f"{python} is missing: run  bash .ci/clients/{name}.sh")
    return python


def run_flow(command: list[str], env: dict[str, str], timeout: float = 180) -> dict[str, Any]:
    """Run a client's flow script; its last stdout line is its JSON report (`client`, `version`, `steps`)."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(report, dict), report
    return report


def steps_of(report: dict[str, Any], client: str, version: str) -> dict[str, dict[str, Any]]:
    """The report's steps by name, once it is shown to come from the pinned client."""
    assert (report["client"], report["version"]) == (client, version)
    return {s["step"]: s for s in report["steps"]}


def step(steps: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    """What the client saw in step ``name``; a step that raised, or never ran, fails the test with why."""
    assert name in steps, f"step {name} never ran: an earlier one failed: {[s for s in steps.values() if not s['ok']]}"
    seen = steps[name]
    assert seen["ok"], f"step {name}: {seen['error']}"
    return seen
