"""The absolute command a host runs to start this very installation of the server.

Hosts start servers with their own PATH (Claude Desktop on macOS gets launchd's, without a virtualenv's bin), so a
bare `modelops-mcp` fails with `spawn modelops-mcp ENOENT`. The command is therefore an absolute path, chosen so
that it starts the installation that is running now, activated or not:

1. `sys.argv[0]` when it is the `modelops-mcp` script: what the user just ran, and it worked. Made absolute but not
   resolved: pipx links `~/.local/bin/modelops-mcp` into its venv, and the link survives an upgrade.
2. Else (`python -m modelops_mcp install`) the `modelops-mcp` script in the running interpreter's scripts folder
   (sysconfig), then in the user scheme's (`pip install --user`). sysconfig follows `sys.prefix`, which a venv's
   interpreter sets to the venv whether or not it is activated.
3. Else the running interpreter itself with `-m modelops_mcp`: it can import this package, so it always works.

Never `shutil.which`: it searches PATH, which outside an activated venv finds another installation or none.
"""

from __future__ import annotations

import contextlib
import os
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SCRIPT = "modelops-mcp"


@dataclass(frozen=True)
class Launcher:
    command: str  # an absolute path
    args: list[str]  # what precedes `serve`
    how: str  # how it was found, for the user


def find_launcher(
    argv0: str | None = None, scripts_dirs: Iterable[str] | None = None, interpreter: str | None = None
) -> Launcher:
    """Parameters default to this process's; tests pass others."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    if _is_script(Path(argv0)):
        return Launcher(os.path.abspath(argv0), [], "the modelops-mcp you ran")
    for folder in _scripts_dirs() if scripts_dirs is None else scripts_dirs:
        for name in _script_names():
            candidate = Path(folder) / name
            if candidate.is_file():
                return Launcher(os.path.abspath(candidate), [], "the modelops-mcp script of this Python")
    # Not resolved: a venv's python is a link to the base interpreter, and resolving it would leave the venv.
    python = os.path.abspath(sys.executable if interpreter is None else interpreter)
    return Launcher(python, ["-m", "modelops_mcp"], "this Python, as no modelops-mcp script was found")


def _is_script(path: Path) -> bool:
    return path.name in _script_names() and path.is_file()


def _script_names() -> tuple[str, ...]:
    # On Windows pip makes modelops-mcp.exe; sys.argv[0] may name it with or without the suffix.
    return (f"{SCRIPT}.exe", SCRIPT) if os.name == "nt" else (SCRIPT,)


def _scripts_dirs() -> list[str]:
    folders = [sysconfig.get_path("scripts")]
    with contextlib.suppress(KeyError):  # an interpreter built without a user scheme
        folders.append(sysconfig.get_path("scripts", sysconfig.get_preferred_scheme("user")))
    return [folder for folder in folders if folder]
