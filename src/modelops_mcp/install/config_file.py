"""Reading, merging and writing a host's JSON config without losing anything that was in it.

A file that is not plain JSON is refused whole: a best-effort edit could drop what the parser did not understand.
Writes go to a temporary file in the same folder, then replace the old one in one step, so a crash leaves either
the old file or the new one, never half of each; the old file is copied to `<file>.bak-<timestamp>` first.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelops_mcp.install.hosts import InstallError


@dataclass
class Merged:
    document: dict[str, Any]  # the whole new file
    existed: bool
    replaced: bool  # a server of the same name was there and is overwritten
    other_servers: list[str]
    other_keys: list[str]  # top-level keys besides the servers'


def read_config(path: Path) -> tuple[dict[str, Any], bool]:
    """The file's JSON object and whether the file exists; a missing or empty file is an empty object."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, False
    except OSError as exc:
        raise InstallError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        # utf-8-sig: Windows editors may start the file with a byte-order mark.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InstallError(f"{path} is not UTF-8 text; nothing was written") from None
    if not text.strip():
        return {}, True
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InstallError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); nothing was written. "
            "Comments and trailing commas are not JSON: fix the file, or add the entry by hand (--dry-run prints "
            "it), or pass --config to write another file"
        ) from None
    if not isinstance(document, dict):
        raise InstallError(f"{path} holds a JSON {type(document).__name__}, not an object; nothing was written")
    return document, True


def merge(document: dict[str, Any], servers_key: str, name: str, entry: dict[str, Any], existed: bool) -> Merged:
    """The document with `entry` as server `name`; every other server and top-level key kept, in order."""
    servers = document.get(servers_key, {})
    if not isinstance(servers, dict):
        raise InstallError(
            f'"{servers_key}" in the file is a JSON {type(servers).__name__}, not an object; nothing was written'
        )
    others = [key for key in servers if key != name]
    new_servers = {**servers, name: entry}  # an entry of the same name keeps its place
    new_document = {**document, servers_key: new_servers}
    return Merged(
        document=new_document,
        existed=existed,
        replaced=name in servers,
        other_servers=others,
        other_keys=[key for key in document if key != servers_key],
    )


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_config(path: Path, document: dict[str, Any], *, private: bool) -> Path | None:
    """Write `document` to `path`; returns the backup of the old file, if there was one.

    `private`: the entry holds secrets, so the file is readable by its owner only (the host runs as that user);
    otherwise an existing file keeps its mode.
    """
    # A config linked from a dotfiles repository stays a link: the real file is replaced, not the link.
    target = Path(os.path.realpath(path))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        backup = _backup(target) if target.exists() else None
        mode = stat.S_IMODE(target.stat().st_mode) if backup else _default_mode()
        if private:
            mode &= 0o700
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
                out.write(render(document))
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, mode)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InstallError(f"cannot write {target}: {exc.strerror or exc}; the old file is unchanged") from None
    return backup


def _backup(target: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = target.with_name(f"{target.name}.bak-{stamp}")
    count = 1
    while backup.exists():  # two installs within a second keep both old files
        backup = target.with_name(f"{target.name}.bak-{stamp}-{count}")
        count += 1
    shutil.copy2(target, backup)  # copy2 keeps the mode: the old file may hold secrets too
    return backup


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
