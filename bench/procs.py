"""A server subprocess's CPU time, read from /proc: what a server spends per call, whatever the machine's noise
does to wall time. The benchmarks spawn servers through the SDK's stdio client or `common.http_server`, which
do not hand out a pid, so the server is found among this process's children by a word of its command line.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # the fields after the command name, which may hold spaces


def children(parent: int | None = None) -> dict[int, str]:
    """pid → command line of the direct children of `parent` (this process by default)."""
    parent = os.getpid() if parent is None else parent
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int(_stat(int(entry.name))[1]) == parent:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return found


def new_child(before: set[int]) -> int:
    """The one child of this process started since `before` (a `set(children())` taken before starting it)."""
    pids = [pid for pid in children() if pid not in before]
    if len(pids) != 1:
        raise RuntimeError(f"expected one new child process, found {len(pids)}")
    return pids[0]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds `pid` has used (its own threads; no children)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / _TICKS
