"""What a start derives from the bundled documents (each backend's catalog, the lean tool list), kept on disk.

Building them is half of a start's own CPU (0.1 s of 0.2 above importing the SDK); reading them back is a few
milliseconds. Entries are pickles of our own objects, named by a hash of everything they are derived from:
the documents' bytes (the caller's key), in a subfolder named by this package's version and its source files
(path, size, mtime), so an edited checkout or an upgrade never reads an entry built by other code; other code's
subfolders are deleted a day after they were last written. The folder is the user's cache
folder (`platformdirs.user_cache_dir`), or `MODELOPS_CACHE_DIR`; `MODELOPS_CACHE_DIR=off` turns it off. It
holds only what the bundled documents say (no settings, no credential), written by this user, like the
package's own `.pyc` files. Anything unreadable is a miss; a failed write is ignored.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelops_mcp import __version__

CACHE_DIR_ENV = "MODELOPS_CACHE_DIR"
_PACKAGE = Path(__file__).resolve().parent.parent  # modelops_mcp/, every layer's sources
# Entries of other code (an older version, an edited checkout) are deleted once their folder is this old.
PRUNE_AFTER_S = 86_400.0
# Off within `no_writes()`: a command that promises to write nothing (`install --dry-run`) still reads the catalog.
_WRITES = contextvars.ContextVar("start_cache_writes", default=True)


@contextlib.contextmanager
def no_writes() -> Iterator[None]:
    """Entries are still read within this block, but none is written (not even the folder)."""
    token = _WRITES.set(False)
    try:
        yield
    finally:
        _WRITES.reset(token)


@functools.cache
def _code_stamp() -> bytes:
    """This code, as far as a cache entry is concerned: the version and every source file's size and mtime."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(_PACKAGE.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(_PACKAGE)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.digest()


def _folder() -> Path | None:
    configured = os.environ.get(CACHE_DIR_ENV, "")
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("modelops-mcp", appauthor=False))


def _entry(kind: str, key: object) -> Path | None:
    """`<folder>/<code stamp>/<kind>-<key hash>.pickle`: one subfolder per code, so other code's go whole."""
    folder = _folder()
    if folder is None:
        return None
    name = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    return folder / _code_stamp().hex()[:24] / f"{kind}-{name}.pickle"


def _prune(folder: Path, keep: Path) -> None:
    """Without this every upgrade, and every edit of a checkout, would leave its entries behind for good."""
    cutoff = time.time() - PRUNE_AFTER_S
    with contextlib.suppress(OSError):
        for other in folder.iterdir():
            if other != keep and other.is_dir() and other.stat().st_mtime < cutoff:
                shutil.rmtree(other, ignore_errors=True)


def load(kind: str, key: object) -> tuple[bytes, Any] | None:
    """The pickle stored under (`kind`, `key`) by this very code and what it holds, or None."""
    entry = _entry(kind, key)
    if entry is None:
        return None
    try:
        data = entry.read_bytes()
        return data, pickle.loads(data)
    except Exception:  # unreadable, cut short, or from objects that no longer load: built anew
        return None


def store(kind: str, key: object, data: bytes) -> None:
    """Written whole or not at all (a temporary file renamed into place), so a reader never sees half."""
    entry = _entry(kind, key) if _WRITES.get() else None
    if entry is None:
        return
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, entry)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return
    _prune(entry.parent.parent, entry.parent)
