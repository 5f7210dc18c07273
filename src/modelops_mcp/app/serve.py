"""`modelops-mcp serve`: assemble the runtime (optionally on an in-process sandbox) and run one transport."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import Literal

from modelops_mcp.app.runtime import open_runtime
from modelops_mcp.settings.config import Settings
from modelops_mcp.settings.store_url import shown_url
from modelops_mcp.surface.http_auth import HttpAccess, http_access
from modelops_mcp.surface.server import build_server
from modelops_mcp.surface.transports import run_http, run_stdio

Transport = Literal["stdio", "http"]


async def serve(
    settings: Settings,
    env: Mapping[str, str],
    *,
    transport: Transport = "stdio",
    host: str = "127.0.0.1",
    port: int = 8770,
    sandbox: bool = False,
    access: HttpAccess | None = None,
) -> None:
    """`access`: who may use the HTTP transport; None generates a token (printed once at start)."""
    async with AsyncExitStack() as stack:
        if sandbox:
            # Imported here: the sandbox is a separate concern that a production server never loads.
            from modelops_mcp.sandbox import Sandbox, serve_sandbox

            emulators = Sandbox.from_env(env)
            url = await stack.enter_async_context(serve_sandbox(emulators))
            env = {**env, **emulators.env(url)}
            settings = settings.for_sandbox()
        runtime = await stack.enter_async_context(open_runtime(settings, env, sandbox=sandbox))
        if settings.store_url is not None:
            # On stderr, like the URL: which replica this is, to match the database's lease_owner column.
            shown = shown_url(settings.store_url.get_secret_value())
            replica = getattr(runtime.jobs.store, "replica", "?")
            print(f"modelops-mcp: jobs in the shared store {shown}; this is replica {replica}", file=sys.stderr)
        server = build_server(runtime)
        if transport == "stdio":
            await run_stdio(server)
        else:
            await run_http(server, host, port, access or http_access(host), runtime.jobs.store.ping)
