"""Our server as a user installs it: bench/.ours-venv (not committed), `pip install -e .` of this checkout
without the test extras, so a benchmark of our start does not also import the development tools that share
the project's own venv (import-linter brings rich, pytest brings pygments, and httpx imports its command-line
tool's rich and pygments whenever they are installed: about a tenth of a start's CPU that no user pays).

Editable, so the code measured is this checkout's; made again when pyproject.toml changes (its dependencies
may have). Needs the package registry, like the peer's venv, and is made the same way (peer.run_step).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from peer import run_step

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".ours-venv"
STAMP = VENV / ".installed-from"  # the pyproject.toml hash, written last: its presence means a finished install


def _wanted() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def _ready() -> bool:
    return STAMP.exists() and STAMP.read_text() == _wanted()


def ensure_user_install(quiet: bool = True) -> Path:
    """The venv's bin directory (`python`, `modelops-mcp`), made first if missing or out of date."""
    if _ready():
        return VENV / "bin"
    with open(BENCH / ".ours-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _ready():
            # Made in place (a venv's scripts name its path), behind the stamp written last.
            shutil.rmtree(VENV, ignore_errors=True)
            run_step([sys.executable, "-m", "venv", str(VENV)], quiet)
            pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
            run_step([*pip, *(["-q"] if quiet else []), "-e", str(ROOT)], quiet)
            STAMP.write_text(_wanted())
    return VENV / "bin"


@contextlib.contextmanager
def user_install_or_none(skip: bool) -> Iterator[tuple[Path | None, str]]:
    """(bin directory, what it is) or (None, why not: this venv is measured instead). Never raises."""
    if skip:
        yield None, "this venv, with the test extras (offline: --no-peer)"
        return
    try:
        bin_dir = ensure_user_install()
    except Exception as exc:  # no registry: measure this venv, and say so
        yield None, f"this venv, with the test extras (user install failed: {type(exc).__name__}: {exc})"
        return
    yield bin_dir, "bench/.ours-venv: pip install -e . without extras, as a user installs it"
