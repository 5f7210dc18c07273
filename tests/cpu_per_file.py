"""A pytest plugin that measures where the suite's time goes, per test file: CPU seconds of this process and of
the subprocesses it waited for (server starts, CLI runs), and wall seconds.

    .venv/bin/python -m pytest -n 0 -p tests.cpu_per_file [files]
    MODELOPS_CPU_REPORT=cpu.json .venv/bin/python -m pytest -n 0 -p tests.cpu_per_file

Run it with `-n 0`: under xdist each worker would only see its own files. CPU time, unlike wall time, holds on a
machine other work is loading, so it ranks the files that cost the most; tests/conftest.py's LONGEST_FIRST is
ranked by wall share. It prints the top files at the end, and writes every file and test as JSON when
MODELOPS_CPU_REPORT names a file.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections import defaultdict
from collections.abc import Generator
from typing import Any

import pytest

# Per file: [CPU of this process, CPU of waited-for children, wall, tests].
_files: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
_tests: dict[str, list[float]] = {}
_start: list[float] = []


def _now() -> tuple[float, float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime, time.monotonic()


def pytest_sessionstart(session: pytest.Session) -> None:
    own, children, _ = _now()
    _start.append(own + children)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
    # Setup, call and teardown: a module-scoped server is paid by the test that starts it.
    before = _now()
    result = yield
    own, children, wall = (after - earlier for after, earlier in zip(_now(), before, strict=True))
    tally = _files[item.path.name]
    for i, value in enumerate((own, children, wall, 1.0)):
        tally[i] += value
    _tests[item.nodeid] = [round(own + children, 3), round(wall, 3)]
    return result


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _start:
        return
    own, children, _ = _now()
    total = own + children - _start[0]
    ranked = sorted(_files.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))
    terminalreporter.section("CPU per test file (seconds, this process + its children)")
    terminalreporter.write_line(f"total CPU {total:.1f} s over {len(_tests)} tests in {len(_files)} files")
    for name, (mine, theirs, wall, count) in ranked[:20]:
        terminalreporter.write_line(
            f"{mine + theirs:7.1f} = {mine:5.1f} + {theirs:5.1f}  wall {wall:6.1f}  {int(count):4d}  {name}"
        )
    path = os.environ.get("MODELOPS_CPU_REPORT")
    if path:
        files = {name: dict(zip(("cpu_self", "cpu_children", "wall", "tests"), v, strict=True)) for name, v in ranked}
        with open(path, "w") as out:
            json.dump({"total_cpu": total, "files": files, "tests": _tests}, out, indent=1)
