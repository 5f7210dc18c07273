"""The peer: FastMCP's OpenAPI provider serving the same OpenAPI documents as modelops-mcp.

Runs inside the peer virtualenv (bench/.peer-venv, made by bench/peer.py) and imports only fastmcp and
the standard library, so nothing of ours is on its import path or in its start-up time.

    python bench/peer_server.py [--transport stdio|http] [--port 0] DOC.json...

One process serves every document: one `FastMCP` with one `OpenAPIProvider` per document, added with
`add_provider(provider, namespace=<backend>)`, so tool names are `<backend>_<operationId>` (the same
backend prefix as ours) and a call costs one provider lookup, not a mounted server's extra layer.
Each provider gets its own `httpx2.AsyncClient` (kept for the process, so connections are reused, as
ours does) pointed at the URL and carrying the credential header that the document's own `x-mcp`
keys name: the same environment variables `modelops-mcp serve` reads, so one sandbox env serves both.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Before fastmcp reads its settings: no banner or update check (a network call) at start, and the
# same log level as ours (`--log-level warning`), so neither side pays for log lines the other skips.
os.environ.setdefault("FASTMCP_SHOW_SERVER_BANNER", "false")
os.environ.setdefault("FASTMCP_CHECK_FOR_UPDATES", "off")
os.environ.setdefault("FASTMCP_LOG_LEVEL", "WARNING")

import anyio
import httpx2
from fastmcp import FastMCP
from fastmcp.server.providers.openapi import OpenAPIProvider

TIMEOUT_S = 30.0  # FastMCP's own default for the client it would create


def backend_of(doc: Mapping[str, Any]) -> str:
    return str(doc.get("x-mcp", {}).get("backend") or doc["info"]["title"]).lower()


def base_url(doc: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """The URL ours would use: the document's `base_url_env` variable, else its first server."""
    name = doc.get("x-mcp", {}).get("base_url_env")
    return (env.get(name) if name else None) or doc["servers"][0]["url"]


def auth_headers(doc: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """The credential headers the document's security schemes declare, with ours' values.

    FastMCP does not apply `securitySchemes` itself, so they go on the client as default headers,
    which is how its documentation says to authenticate an OpenAPI server.
    """
    schemes = doc.get("components", {}).get("securitySchemes", {})
    headers: dict[str, str] = {}
    for requirement in (doc.get("security") or [{}])[:1]:  # ours uses the first alternative too
        for name in requirement:
            scheme = schemes[name]
            credential = env.get(scheme.get("x-mcp-credential-env", ""), "")
            if not credential:
                continue
            if scheme["type"] == "apiKey" and scheme.get("in") == "header":
                headers[scheme["name"]] = credential
            elif scheme["type"] == "http" and scheme.get("scheme", "").lower() == "bearer":
                word = env.get(scheme.get("x-mcp-scheme-env", ""), "") or "Bearer"
                headers["Authorization"] = f"{word} {credential}"
    return headers


def build_server(docs: list[Path], env: Mapping[str, str] | None = None) -> FastMCP:
    env = os.environ if env is None else env
    server = FastMCP("modelops-peer")
    for path in docs:
        doc = json.loads(path.read_text())
        client = httpx2.AsyncClient(base_url=base_url(doc, env), headers=auth_headers(doc, env), timeout=TIMEOUT_S)
        server.add_provider(OpenAPIProvider(openapi_spec=doc, client=client), namespace=backend_of(doc))
    return server


async def serve_http(server: FastMCP, host: str, port: int) -> None:
    # Bound here, as ours does, so port 0 works and the URL can be printed before serving.
    # proto named: asyncio turns TCP_NODELAY on for accepted sockets only then (as when uvicorn binds).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    print(f"modelops-peer: serving Streamable HTTP at http://{host}:{bound}/mcp", file=sys.stderr, flush=True)
    try:
        await server.run_http_async(
            show_banner=False, host=host, port=bound, log_level="warning", path="/mcp", sockets=[sock]
        )
    finally:
        sock.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("docs", nargs="+", type=Path)
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = build_server(args.docs)
    if args.transport == "stdio":
        anyio.run(lambda: server.run_stdio_async(show_banner=False, log_level="warning"))
    else:
        anyio.run(serve_http, server, args.host, args.port)


if __name__ == "__main__":
    main()
