"""The benchmarks still run (tiny sizes): a benchmark that rots is found here, not on the day it is needed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_bench(script: str, out: Path, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    results: dict[str, Any] = json.loads(out.read_text())
    return results


def test_the_jobs_benchmark_runs_and_writes_its_figures(tmp_path: Path) -> None:
    args = ("--scale", "60", "--jobs", "3", "--tracked", "200", "--rounds", "5")
    results = run_bench("jobs_bench.py", tmp_path / "jobs.json", *args)
    assert results["memory"]["tracked_jobs"] == 200
    assert results["memory"]["bytes_per_job"] > 0
    assert results["polls"]["polls_per_job_per_minute_at_rest"]["max"] <= 4  # about 2 (one call per 30 s) at rest
    assert results["read"]["rounds"] == 5


def test_the_files_benchmark_runs_and_writes_its_figures(tmp_path: Path) -> None:
    results = run_bench("files_bench.py", tmp_path / "files.json", "--mib", "1", "--rounds", "2")
    assert results["upload"]["ratio_tool_to_direct"] > 0
    # Streamed, not read into memory: far less Python allocation than the file's size.
    assert results["upload"]["peak_alloc_to_file_size"] < 0.9
    assert results["download"]["file_bytes"] > 0
