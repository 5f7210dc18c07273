"""The server entry a host's config gets, and the same entry as shown on screen, with its secrets masked."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from modelops_mcp.install.hosts import Host, InstallError
from modelops_mcp.install.launcher import Launcher

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SERVER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# Shown in full: where a backend is and how the server behaves. Anything else may be a credential.
_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH", "COOKIE", "SESSION")
_PLAIN_SUFFIXES = ("_URL", "_ENDPOINT", "_HOST", "_PORT")


def parse_env(items: Sequence[str], environ: Mapping[str, str]) -> dict[str, str]:
    """`NAME=VALUE` pairs; a bare `NAME` takes its value from `environ` (so a key need not be typed on the line)."""
    env: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not _ENV_NAME.fullmatch(name):
            raise InstallError(f"--env {_shown_item(item)}: {name!r} is not a variable name (expected NAME=VALUE)")
        if not sep:
            if name not in environ:
                raise InstallError(f"--env {name}: {name} is not set here; pass --env {name}=VALUE")
            value = environ[name]
        env[name] = value  # the last one wins, as with repeated shell assignments
    return env


def parse_server_name(name: str) -> str:
    if not _SERVER_NAME.fullmatch(name):
        raise InstallError(f"--name {name!r}: use letters, digits, '_', '-' or '.', starting with a letter or digit")
    return name


def allowed_dirs(items: Sequence[str]) -> list[str]:
    """Absolute paths of existing directories: the host starts the server in a folder of its choosing."""
    dirs = []
    for item in items:
        path = Path(item).expanduser().absolute()
        if not path.is_dir():
            raise InstallError(f"--allow-dir {item}: no such directory ({path})")
        dirs.append(os.path.normpath(path))
    return dirs


def server_entry(
    host: Host, launcher: Launcher, *, sandbox: bool, allow_dirs: Sequence[str], env: Mapping[str, str]
) -> dict[str, Any]:
    args = [*launcher.args, "serve"]
    if sandbox:
        args.append("--sandbox")
    for folder in allow_dirs:
        args += ["--allow-dir", folder]
    entry: dict[str, Any] = {"type": "stdio"} if host.stdio_type else {}
    entry |= {"command": launcher.command, "args": args}
    if env:
        entry["env"] = dict(env)
    return entry


def masked_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    shown = dict(entry)
    if "env" in shown:
        shown["env"] = {name: masked_value(name, value) for name, value in shown["env"].items()}
    return shown


def masked_value(name: str, value: str) -> str:
    upper = name.upper()
    if not any(word in upper for word in _SECRET_WORDS) and (
        upper.endswith(_PLAIN_SUFFIXES) or upper.startswith("MODELOPS_")
    ):
        return _without_userinfo(value)
    # The last four characters tell two keys apart; the rest stays hidden.
    return f"***{value[-4:]}" if len(value) >= 16 else "***"


def _without_userinfo(value: str) -> str:
    """A URL's password (https://user:pass@host) is a secret even in a variable that names a URL."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if parts.password is None:
        return value
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _shown_item(item: str) -> str:
    name, sep, _ = item.partition("=")
    return f"{name}=***" if sep else name
