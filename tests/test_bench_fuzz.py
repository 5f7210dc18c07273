"""The fuzz run at the volume the reliability figures quote (docs/RELIABILITY.md): 2,000 calls in memory.

The README's run fuzzes every tool with four examples per mode (tests/test_fuzz.py's default); this runs the
same module, same checks, with MODELOPS_FUZZ_CALLS=2000 (nine examples per tool and mode) and two examples per
tool and mode over stdio, in its own pytest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Opt-in (pyproject deselects it; .ci/run runs `-m "bench or network"`).
pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parent.parent
# In one process, without the default run's `-m` (it would deselect nothing here anyway) or xdist.
PYTEST = (sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:randomly", "-p", "no:cacheprovider")


def test_the_fuzz_module_passes_with_2000_calls_in_memory(tmp_path: Path) -> None:
    report = tmp_path / "fuzz.json"
    volume = {"MODELOPS_FUZZ_CALLS": "2000", "MODELOPS_FUZZ_STDIO_PER_TOOL": "2"}
    env = {**os.environ, **volume, "MODELOPS_FUZZ_REPORT": str(report)}
    done = subprocess.run(
        [*PYTEST, "-m", "not contract", "tests/test_fuzz.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    figures = json.loads(report.read_text())
    assert figures["per_tool_and_mode"] == 9
    assert figures["crashes"] == 0
    assert figures["calls"] >= 2000
