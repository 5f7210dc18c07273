"""What an emulator module declares, and what the sandbox hands it.

Each backend emulator (``caila.py``, later ``training.py``, ...) exposes one ``EmulatorSpec``; the sandbox
builds it with an ``EmulatorContext`` and mounts the resulting ASGI app under the spec's prefix. Keeping
this in its own module lets emulators and ``app.py`` share it without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Scope

from .clock import SimClock

__all__ = ["SANDBOX_API_KEY", "Emulator", "EmulatorContext", "EmulatorSpec", "route_path"]

# The key `Sandbox.env` hands out when no specific key is configured; any non-empty key works then anyway.
SANDBOX_API_KEY = "sandbox-key"


@dataclass(frozen=True)
class EmulatorContext:
    """The sandbox-wide facilities one emulator may use."""

    name: str
    clock: SimClock
    # The one key this backend accepts; None means sandbox mode, where any non-empty key is accepted.
    api_key: str | None

    def accepts_key(self, key: str | None) -> bool:
        # A missing or empty key is rejected even in sandbox mode, so clients that forget auth are caught.
        if not key:
            return False
        return self.api_key is None or key == self.api_key


@dataclass(frozen=True)
class Emulator:
    """A built emulator: its ASGI app and its mutable state (exposed so tests can inspect or seed it)."""

    app: ASGIApp
    state: object


@dataclass(frozen=True)
class EmulatorSpec:
    name: str  # backend name: the key in ``Sandbox.api_keys`` and ``LoggedRequest.backend``
    prefix: str  # mount path, e.g. "/caila"
    url_env: str  # env var a client reads the backend's base URL from
    key_env: str | None  # env var a client reads the API key from; None for a backend without auth
    build: Callable[[EmulatorContext], Emulator]


def route_path(scope: Scope) -> str:
    """The request path as the real service would see it: the full path minus the mount prefix."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path
