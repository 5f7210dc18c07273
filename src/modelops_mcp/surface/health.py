"""`/healthz` and `/readyz` for a load balancer, beside the MCP endpoint.

`/healthz`: the process serves HTTP (always 200). `/readyz`: its job store answers too (200, else 503), so a
replica that lost its database is taken out of rotation instead of failing every job call. Both are answered
before the bearer check and the Host check: a probe carries neither a token nor the public host name, and
the answers say nothing but `ok` or `not ready` (no version, no store address, no error text).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)
PATHS = ("/healthz", "/readyz")
# A probe's budget: a store that takes longer than this to answer `SELECT 1` is not ready.
READY_TIMEOUT_S = 3.0


class HealthRoutes:
    def __init__(self, app: ASGIApp, ping: Callable[[], None]) -> None:
        """`ping` raises when the job store does not answer; it runs in a worker thread."""
        self.app = app
        self._ping = ping

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in PATHS:
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            response = PlainTextResponse("method not allowed\n", status_code=405, headers={"Allow": "GET, HEAD"})
        elif scope["path"] == "/healthz" or await self._ready():
            response = PlainTextResponse("ok\n", headers={"Cache-Control": "no-store"})
        else:
            response = PlainTextResponse("not ready\n", status_code=503, headers={"Cache-Control": "no-store"})
        await response(scope, receive, send)

    async def _ready(self) -> bool:
        try:
            with anyio.fail_after(READY_TIMEOUT_S):
                await anyio.to_thread.run_sync(self._ping, abandon_on_cancel=True)
        except Exception as exc:
            log.warning("not ready: the job store does not answer (%s)", type(exc).__name__)
            return False
        return True
