"""The layering of docs/DESIGN.md ("The flow of a call") holds: `lint-imports` keeps every contract of
pyproject.toml's [tool.importlinter] (one-way layers, the sandbox and the demo apart, no import cycles).

CI runs the same check (.ci/run); here it fails a local run too, naming the import that breaks the flow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Dropping one of these from pyproject.toml would not fail `lint-imports` by itself.
REQUIRED = {"layers", "sandbox-apart", "demo-apart", "no-cycles"}
LINT = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path, src: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first: the graph is built from the `modelops_mcp` that `src` holds, not the installed one.
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_every_import_follows_the_layers() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    ids = [contract["id"] for contract in config["tool"]["importlinter"]["contracts"]]
    assert set(ids) >= REQUIRED, ids
    done = lint_imports(ROOT, ROOT / "src")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert f"Contracts: {len(ids)} kept, 0 broken." in out, out


def test_a_call_that_imports_the_jobs_breaks_the_layers(tmp_path: Path) -> None:
    # The cycle issue 18 removed: executing a call must know nothing of jobs.
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.json"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    executor = tmp_path / "src" / "modelops_mcp" / "calls" / "executor.py"
    executor.write_text(executor.read_text(encoding="utf-8") + "\nfrom modelops_mcp.jobs import tracker\n")
    done = lint_imports(tmp_path, tmp_path / "src")
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "modelops_mcp.calls is not allowed to import modelops_mcp.jobs" in out, out
    assert "modelops_mcp.calls.executor -> modelops_mcp.jobs.tracker" in out, out
