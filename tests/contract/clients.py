"""Where the official clients are installed (by .ci/clients/*.sh), and a clear failure when one is not."""

from __future__ import annotations

from pathlib import Path

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
