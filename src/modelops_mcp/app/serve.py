"""`modelops-mcp serve`: assemble the runtime (optionally on an in-process sandbox) and run one transport."""

from __future__ import annotations

import gc
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
# How long a worker thread (a large answer parsed, checked and redacted off the loop) may hold the GIL while
# the event loop waits for it. Each turn of the loop waits up to this long, and a request takes several:
# at Python's 5 ms, another session's ping waited 90-180 ms (p99) during a 5 MB answer, at 1 ms 55-61
# (bench/stall_bench.py, back to back). Only threads running at once switch more often.
GIL_SWITCH_INTERVAL_S = 0.001


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
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
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
        # What is alive now lives as long as the process (modules, the catalog and its schemas: some 160,000
        # objects): left out of every later collection, a full one no longer walks them all. A 5 MB answer's
        # parse makes enough objects to set off full collections, each a pause of every session (GIL held).
        gc.freeze()
        if transport == "stdio":
            await run_stdio(server)
        else:
            await run_http(server, host, port, access or http_access(host), runtime.jobs.store.ping)
