"""Local files an agent asks to upload: only from allowed directories, only regular files, only up to a size cap.

The allowed directories are the MCP client's roots (when it declares them) plus the server's `--allow-dir`
list, and nothing else: no implicit current directory, and never the filesystem root, whoever names it.
A path is checked after resolving symlinks, so a link inside a root cannot reach a file outside it.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio

from modelops_mcp.core.errors import ToolError, ToolFailure, Violation
from modelops_mcp.settings.config import is_filesystem_root

RootsProvider = Callable[[], Awaitable[list[Path]]]

# What a user does to allow a folder, said wherever an upload is refused for want of one.
HOW_TO_ALLOW = (
    "share the folder as a root in your MCP client, or add the server argument `--allow-dir /path/to/folder` "
    "(or the environment variable MODELOPS_ALLOW_DIRS) to this server's entry in the client's config and "
    "restart it"
)


@dataclass(frozen=True, slots=True)
class UploadPolicy:
    allow_dirs: tuple[Path, ...]
    max_bytes: int


def _size(value: int) -> str:
    if value < 1024:
        return f"{value} bytes"
    amount = float(value)
    for unit in ("KiB", "MiB", "GiB"):
        amount /= 1024
        if amount < 1024 or unit == "GiB":
            break
    return f"{amount:.1f} {unit}"


class PathRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_path(raw: str, roots: Sequence[Path], max_bytes: int, *, folders: bool = False) -> Path:
    """The resolved file (or, with `folders`, folder) for `raw`, or `PathRefused` saying why not.

    Blocking: run it in a worker thread.
    """
    if not roots:
        raise PathRefused("no_upload_dir", f"no folder is allowed for uploads: to allow one, {HOW_TO_ALLOW}")
    # No file can have either name: a NUL byte (the OS refuses it) or "~name" of no known user.
    if "\x00" in raw:
        raise PathRefused("file_not_found", f"{raw!r} holds a NUL byte, which no file name can")
    try:
        given = Path(raw).expanduser()
    except RuntimeError:
        raise PathRefused("file_not_found", f"{raw} does not exist (no home directory for its ~user)") from None
    candidates = [given] if given.is_absolute() else [root / given for root in roots]
    resolved_roots = [root.resolve() for root in roots]
    for candidate in candidates:
        try:
            real = candidate.resolve(strict=True)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            raise PathRefused("file_unreadable", f"{raw}: {exc.strerror or exc}") from None
        if not any(real == root or real.is_relative_to(root) for root in resolved_roots):
            shown = ", ".join(str(r) for r in resolved_roots)
            raise PathRefused(
                "path_not_allowed",
                f"{raw} is outside the allowed directories ({shown}); to allow its folder, {HOW_TO_ALLOW}",
            )
        if folders and real.is_dir():
            return real
        if not real.is_file():
            raise PathRefused("not_a_file", f"{raw} is not a regular file")
        if not os.access(real, os.R_OK):
            raise PathRefused("file_unreadable", f"{raw} is not readable")
        size = real.stat().st_size
        if size > max_bytes:
            raise PathRefused("file_too_large", f"{raw} is {_size(size)}, over the {_size(max_bytes)} upload limit")
        return real
    where = "" if given.is_absolute() else f" (looked under {', '.join(str(r) for r in roots)})"
    raise PathRefused("file_not_found", f"{raw} does not exist{where}")


# Never part of an upload: version-control and cache folders, and dotfiles (which often hold secrets).
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})


def _skipped(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_DIRS


def expand_files(raws: Sequence[str], roots: Sequence[Path], max_bytes: int, max_files: int) -> list[tuple[str, Path]]:
    """Files and folders → `(relative path, resolved file)` pairs, each checked like a single upload.

    A file is sent under its name; a folder contributes every regular file under it (dot-names and caches
    skipped, symlinks resolved and re-checked), under its path relative to the folder. Blocking.
    """
    out: list[tuple[str, Path]] = []
    for raw in raws:
        real = check_path(raw, roots, max_bytes, folders=True)
        if not real.is_dir():
            out.append((real.name, real))
            continue
        for directory, dirs, names in os.walk(real):
            dirs[:] = sorted(d for d in dirs if not _skipped(d))
            for name in sorted(n for n in names if not _skipped(n)):
                full = Path(directory) / name
                out.append((full.relative_to(real).as_posix(), check_path(str(full), roots, max_bytes)))
                if len(out) > max_files:
                    raise PathRefused("too_many_files", f"more than {max_files} files to upload")
    if not out:
        raise PathRefused("file_not_found", f"no file to upload in {', '.join(raws)}")
    total = sum(path.stat().st_size for _, path in out)
    if total > max_bytes:
        raise PathRefused("file_too_large", f"the files total {_size(total)}, over the {_size(max_bytes)} upload limit")
    return out


def _no_folder(refused: PathRefused, backend: str, operation: str) -> ToolFailure:
    # Not the agent's input but the server's configuration: only the user can fix it, in the client's config.
    return ToolFailure(
        ToolError(
            kind="config",
            code=refused.code,
            message=f"{refused}; nothing was sent",
            backend=backend,
            operation=operation,
        )
    )


def _invalid(refused: list[tuple[str, PathRefused]], backend: str, operation: str) -> ToolFailure:
    """One `validation` failure naming every refused path, each under its argument."""
    return ToolFailure(
        ToolError(
            kind="validation",
            code=refused[0][1].code,
            message=f"{'; '.join(str(exc) for _, exc in refused)}; nothing was sent",
            backend=backend,
            operation=operation,
            violations=[Violation(pointer=f"/{arg}", message=str(exc)) for arg, exc in refused],
        )
    )


class LocalFiles:
    """Resolves the file arguments of one call against the policy and the client's roots."""

    def __init__(self, policy: UploadPolicy) -> None:
        self.policy = policy

    async def allowed(self, roots: RootsProvider | None) -> list[Path]:
        """The client's roots and the --allow-dir list, less any filesystem root (a client may share `/`)."""
        given = [*(await roots() if roots is not None else []), *self.policy.allow_dirs]
        return [path for path in given if not is_filesystem_root(path)]

    async def resolve(
        self,
        paths: dict[str, str],
        roots: RootsProvider | None,
        *,
        backend: str,
        operation: str,
    ) -> dict[str, Path]:
        """`{argument: path}` → `{argument: resolved file}`; one `validation` failure naming every refused path."""
        allowed = await self.allowed(roots)
        resolved: dict[str, Path] = {}
        refused: list[tuple[str, PathRefused]] = []
        for arg, raw in paths.items():
            try:
                resolved[arg] = await anyio.to_thread.run_sync(check_path, raw, allowed, self.policy.max_bytes)
            except PathRefused as exc:
                if exc.code == "no_upload_dir":
                    raise _no_folder(exc, backend, operation) from None
                refused.append((arg, exc))
        if refused:
            raise _invalid(refused, backend, operation)
        return resolved

    async def expand(
        self,
        raws: list[str],
        roots: RootsProvider | None,
        max_files: int,
        *,
        argument: str,
        backend: str,
        operation: str,
    ) -> list[tuple[str, Path]]:
        """A file-set argument's files, or one `validation` failure saying which path was refused and why."""
        allowed = await self.allowed(roots)
        try:
            return await anyio.to_thread.run_sync(expand_files, raws, allowed, self.policy.max_bytes, max_files)
        except PathRefused as exc:
            if exc.code == "no_upload_dir":
                raise _no_folder(exc, backend, operation) from None
            raise _invalid([(argument, exc)], backend, operation) from None
