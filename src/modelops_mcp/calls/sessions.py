"""Remembered session keys: the key a backend's start-session call returned, so later calls may omit it.

Kept in a small JSON file in the state dir, so a restarted server (and the jobs it resumes) still knows the
session it started. Written atomically by state_file.write_json, whose file is the owner's only (a session key
grants the session).
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Protocol

from modelops_mcp.core.state_file import write_json
from modelops_mcp.core.state_table import StateTable

log = logging.getLogger(__name__)


class SessionKeyStore(Protocol):
    def get(self, backend: str) -> str | None: ...
    def remember(self, backend: str, key: str) -> None: ...


class StoredSessionKeys:
    """Session keys in the shared store, so every replica continues the session any one of them started.
    Read on each use: another replica may have started a newer session."""

    def __init__(self, table: StateTable) -> None:
        self._table = table

    def get(self, backend: str) -> str | None:
        return self._table.state_get(f"session:{backend}")

    def remember(self, backend: str, key: str) -> None:
        if self.get(backend) != key:
            self._table.state_put(f"session:{backend}", key)


class SessionKeys:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._keys: dict[str, str] = self._load()

    def _load(self) -> dict[str, str]:
        try:
            raw = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable session file %s: %s", self._path, exc)
            return {}
        if not isinstance(raw, dict):
            return {}
        return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}

    def get(self, backend: str) -> str | None:
        with self._lock:
            return self._keys.get(backend)

    def all(self) -> dict[str, str]:
        with self._lock:
            return dict(self._keys)

    def remember(self, backend: str, key: str) -> None:
        with self._lock:
            if self._keys.get(backend) == key:
                return
            self._keys[backend] = key
            self._write()

    def _write(self) -> None:
        write_json(self._path, self._keys, prefix=".sessions-")
