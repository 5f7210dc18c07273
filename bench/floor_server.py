"""The floor: the mcp SDK's bare low-level `Server` whose tools each make the benchmark's HTTP request with httpx
and return its JSON — nothing else (no validation, no catalog, no redaction, no output check, no jobs).

    python bench/floor_server.py [--transport stdio|http] [--port 0] [--json-response]

What this server costs per call is what the SDK's transport and dispatch alone cost; what ours costs above it
is our own layer. It serves the two calls of `common.CALLS` under our tool names (GET status, POST classify)
against Tune the Model at `TTM_API_URL` with `TTM_API_KEY`, the sandbox's exports, with one `httpx.AsyncClient`
for the process, and stall_bench.py's list call against `DATAROBOT_ENDPOINT` when that is set. Over HTTP it
prints `... serving Streamable HTTP at http://127.0.0.1:PORT/mcp` on stderr, as ours and the peer's do, and
runs uvicorn as ours does (log level warning, no auth). `--json-response` answers each POST with plain JSON
instead of an SSE stream (the SDK's `json_response=True`): what the SDK's HTTP transport costs less its
per-request stream, a server that never sends a request or notification mid-call.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from typing import Any

import anyio
import httpx
import mcp_types as types
import uvicorn
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.server.stdio import stdio_server

# tool name → (method, path template): the benchmark's calls (bench/common.py CALLS), stated here so the floor
# imports nothing but the SDK and httpx.
ROUTES = {
    "tunethemodel_get_model": ("GET", "/v0/models/{model_id}/status"),
    "tunethemodel_classify": ("POST", "/v0/models/{model_id}/classify"),
}
OBJECT = {"type": "object", "properties": {"model_id": {"type": "string"}}, "required": ["model_id"]}
# stall_bench.py's big list, served when DATAROBOT_ENDPOINT is set: the same GET as ours, the JSON as
# structuredContent and the answer's first TEXT_CHARS characters as text (ours keeps its text to that budget).
LIST_TOOL, LIST_PATH = "datarobot_list_custom_models", "/customModels/"
TEXT_CHARS = 8000


def build_server(http: httpx.AsyncClient) -> Server[Any]:
    routes = dict(ROUTES)
    if os.environ.get("DATAROBOT_ENDPOINT"):
        routes[LIST_TOOL] = ("GET", os.environ["DATAROBOT_ENDPOINT"].rstrip("/") + LIST_PATH)
    tools = [types.Tool(name=name, input_schema=OBJECT) for name in routes]

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        method, path = routes[params.name]
        arguments = dict(params.arguments or {})
        url = path.format(model_id=arguments.pop("model_id")) if "{model_id}" in path else path
        response = await http.request(method, url, json=arguments if method == "POST" else None)
        body = response.json()
        text = json.dumps(body) if len(response.content) <= TEXT_CHARS else response.text[:TEXT_CHARS]
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)],
            structured_content=body if isinstance(body, dict) else {"result": body},
            is_error=not response.is_success,
        )

    return Server("bench-floor", on_list_tools=list_tools, on_call_tool=call_tool)


async def serve(transport: str, host: str, port: int, json_response: bool = False) -> None:
    headers = {"Authorization": os.environ["TTM_API_KEY"]}
    async with httpx.AsyncClient(base_url=os.environ["TTM_API_URL"], headers=headers, timeout=30) as http:
        server = build_server(http)
        if transport == "stdio":
            async with stdio_server() as (read_stream, write_stream):
                await server.run(read_stream, write_stream, server.create_initialization_options())
            return
        app = server.streamable_http_app(host=host, json_response=json_response)
        # proto named: asyncio turns TCP_NODELAY on for accepted sockets only then (as when uvicorn binds).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        bound = sock.getsockname()[1]
        print(f"bench-floor: serving Streamable HTTP at http://{host}:{bound}/mcp", file=sys.stderr, flush=True)
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
        try:
            await uvicorn.Server(config).serve(sockets=[sock])
        finally:
            sock.close()


def command(transport: str = "stdio", json_response: bool = False) -> list[str]:
    """argv serving the floor with this Python; pass the sandbox env as env=."""
    cmd = [sys.executable, os.path.abspath(__file__), "--transport", transport]
    return cmd + (["--port", "0"] if transport == "http" else []) + (["--json-response"] if json_response else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--json-response", action="store_true", help="HTTP: plain JSON answers, no SSE stream")
    args = parser.parse_args()
    anyio.run(serve, args.transport, args.host, args.port, args.json_response)


if __name__ == "__main__":
    main()
