"""Serving one MCP server over stdio or Streamable HTTP."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable

import uvicorn
from mcp.server import Server
from mcp.server.stdio import stdio_server
from starlette.types import ASGIApp

from modelops_mcp.surface.health import HealthRoutes
from modelops_mcp.surface.http_auth import AUTH_TOKEN_ENV, BearerAuth, HttpAccess
from modelops_mcp.surface.wire_errors import AnsweringReader


async def run_stdio(server: Server[object]) -> None:
    async with stdio_server() as (read_stream, write_stream):
        # Lines that are not JSON-RPC get their parse / invalid-request error instead of silence.
        reader = AnsweringReader(read_stream, write_stream)
        await server.run(reader, write_stream, server.create_initialization_options())


async def run_http(
    server: Server[object], host: str, port: int, access: HttpAccess, ping: Callable[[], None] | None = None
) -> None:
    """Serve Streamable HTTP at /mcp. Port 0 picks a free one; the URL is logged either way.

    `ping`: checks the job store, for /readyz (health.py); /healthz and /readyz are served when it is given.
    """
    app: ASGIApp = server.streamable_http_app(host=host, transport_security=access.security)
    if access.token is not None:
        # Outermost: a request without the token reaches neither the session manager nor any handler.
        app = BearerAuth(app, access.token)
    if ping is not None:
        app = HealthRoutes(app, ping)  # outside the bearer check: a probe carries no token
    sock = listening_socket(host, port)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    # On stderr, so scripts and tests can find the port when they asked for port 0.
    print(f"modelops-mcp: serving Streamable HTTP at http://{shown_host}:{bound_port}/mcp", file=sys.stderr, flush=True)
    print(f"modelops-mcp: {_access_line(access)}", file=sys.stderr, flush=True)
    try:
        await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        sock.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound and listening: before the URL is printed, so a client that connects at once queues in
    the backlog until uvicorn accepts, instead of being refused while uvicorn is still starting."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not left 0: asyncio sets TCP_NODELAY only on accepted sockets whose proto says TCP.
    # With proto 0 Nagle stayed on, and an answer written as head then body waited for the client's delayed
    # ACK: 40 ms on every 2026-07-28 call (each its own connection) and on every plain-JSON answer.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def _access_line(access: HttpAccess) -> str:
    if access.token is None:
        return "no authentication (--no-auth): any local process may call the tools"
    if access.generated:
        # The one place the token is ever written: the user needs it to configure a client.
        return (
            f"generated a bearer token for this run (set {AUTH_TOKEN_ENV} or --auth-token to choose one); "
            f"clients send the header  Authorization: Bearer {access.token}"
        )
    return f"clients must send Authorization: Bearer <the token from --auth-token or {AUTH_TOKEN_ENV}>"
