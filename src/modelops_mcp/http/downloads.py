"""Binary responses saved to disk, never into the context: a file name made safe, sha256 and size on the way.

Every operation whose 2xx response is a file (`format: binary` or `contentMediaType`) answers with where the
file went instead of its bytes, plus a `resource_link` the client can open.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
import mcp_types as types

CHUNK = 256 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120


@dataclass(frozen=True, slots=True)
class SavedFile:
    path: Path
    size: int
    sha256: str
    content_type: str | None

    def structured(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "file_name": self.path.name,
            "size": self.size,
            "sha256": self.sha256,
            "content_type": self.content_type,
            "uri": self.path.as_uri(),
        }

    def link(self) -> types.ResourceLink:
        return types.ResourceLink(
            type="resource_link",
            uri=self.path.as_uri(),
            name=self.path.name,
            mime_type=self.content_type,
            size=self.size,
        )


def safe_file_name(raw: str | None, fallback: str) -> str:
    """A name that cannot leave the download directory or confuse a shell: last path segment, ASCII, no dotfile."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    # NFKD then ASCII keeps "modèle.zip" readable as "modele.zip" instead of dropping the letter.
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("_", name).strip("._-")
    if not name:
        name = fallback
    if len(name) > _MAX_NAME:
        _, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 10 else ""
        name = name[: _MAX_NAME - len(keep) - 1].rstrip("._-") + ("." + keep if keep else "")
    return name


def disposition_name(response: httpx.Response) -> str | None:
    """The file name a `Content-Disposition` header proposes (RFC 6266: `filename*` wins over `filename`)."""
    header = response.headers.get("content-disposition")
    if not header:
        return None
    # Imported here: the email package is a start's cost (15 ms) for the few answers that name a file.
    import email.utils
    from email.message import Message

    message = Message()
    message["content-disposition"] = header
    plain: str | None = None
    for key, value in message.get_params(header="content-disposition", failobj=[]):
        if key.lower() != "filename":
            continue
        if isinstance(value, tuple):  # the RFC 2231 `filename*` form, charset and all
            return email.utils.collapse_rfc2231_value(value) or None
        plain = plain or value or None
    return plain


def _fallback_name(operation: str, content_type: str | None) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    extension = mimetypes.guess_extension(content_type or "") or ".bin"
    return f"{operation}-{stamp}{extension}"


def _claim(directory: Path, name: str) -> tuple[Path, int]:
    """Create the file exclusively, so two downloads of the same name never overwrite each other."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    for attempt in range(1000):
        candidate = name if attempt == 0 else f"{stem}-{attempt}{'.' + ext if ext else ''}"
        path = directory / candidate
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        return path, fd
    raise FileExistsError(f"no free file name for {name!r} in {directory}")


async def save_response(
    response: httpx.Response,
    directory: Path,
    operation: str,
    *,
    head: bytes = b"",
    rest: AsyncIterator[bytes] | None = None,
) -> SavedFile:
    """Stream a (not yet read) response body into `directory`; the partial file is removed on any failure.

    `head` and `rest`: a body whose first bytes were already read from the iterator `rest` (an answer found
    too large to read inline on the way), saved whole all the same.
    """
    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip() or None
    name = safe_file_name(disposition_name(response), _fallback_name(operation, content_type))
    await anyio.Path(directory).mkdir(parents=True, exist_ok=True)
    path, fd = await anyio.to_thread.run_sync(_claim, directory, name)
    digest = hashlib.sha256(head)
    size = len(head)
    try:
        with os.fdopen(fd, "wb") as out:
            if head:
                await anyio.to_thread.run_sync(out.write, head)
            async for chunk in rest if rest is not None else response.aiter_bytes(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                await anyio.to_thread.run_sync(out.write, chunk)
    except BaseException:
        await anyio.Path(path).unlink(missing_ok=True)
        raise
    return SavedFile(path=path.resolve(), size=size, sha256=digest.hexdigest(), content_type=content_type)


class NotReadable(Exception):
    """A file:// URI this server will not serve: outside its download directory, missing, or too large."""


def read_saved(path: Path, root: Path, limit: int) -> tuple[bytes, str | None]:
    """A saved download's bytes and guessed type, for resources/read of its `resource_link`. Blocking."""
    real = path.resolve()
    if not real.is_relative_to(root.resolve()) or not real.is_file():
        raise NotReadable(f"{path} is not a file this server downloaded")
    size = real.stat().st_size
    if size > limit:
        raise NotReadable(f"{path} is {size} bytes, more than the {limit} a resource read returns; open the file")
    return real.read_bytes(), mimetypes.guess_type(real.name)[0]
