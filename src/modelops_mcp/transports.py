"""Serving one MCP server over stdio or Streamable HTTP."""

from __future__ import annotations

import socket
import sys

import uvicorn
from mcp.server import Server
from mcp.server.stdio import stdio_server

from modelops_mcp.wire_errors import AnsweringReader


async def run_stdio(server: Server[object]) -> None:
    async with stdio_server() as (read_stream, write_stream):
        # Lines that are not JSON-RPC get their parse / invalid-request error instead of silence.
        reader = AnsweringReader(read_stream, write_stream)
        await server.run(reader, write_stream, server.create_initialization_options())


async def run_http(server: Server[object], host: str, port: int) -> None:
    """Serve Streamable HTTP at /mcp. Port 0 picks a free one; the URL is logged either way."""
    app = server.streamable_http_app(host=host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # Listening before the URL is printed: a client that connects at once queues in the backlog until
    # uvicorn accepts, instead of being refused while uvicorn is still starting.
    sock.listen(128)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    # On stderr, so scripts and tests can find the port when they asked for port 0.
    print(f"modelops-mcp: serving Streamable HTTP at http://{shown_host}:{bound_port}/mcp", file=sys.stderr, flush=True)
    try:
        await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        sock.close()
