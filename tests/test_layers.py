"""The layering of docs/DESIGN.md ("The flow of a call") holds: `lint-imports` keeps every contract of
pyproject.toml's [tool.importlinter] (one-way layers, the sandbox and the demo apart, no import cycles).

CI runs the same check (.ci/run); here it fails a local run too, naming the import that breaks the flow.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Dropping one of these from pyproject.toml would not fail `lint-imports` by itself.
REQUIRED = {"layers", "sandbox-apart", "demo-apart", "no-cycles"}


def test_every_import_follows_the_layers() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    ids = [contract["id"] for contract in config["tool"]["importlinter"]["contracts"]]
    assert set(ids) >= REQUIRED, ids
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert f"Contracts: {len(ids)} kept, 0 broken." in out, out
