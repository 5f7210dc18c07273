"""`backends_setup`: the one tool a backend nobody configured costs, so an agent can tell its user what to set.

Listed only while some backend is left out for want of settings. Hosts differ in what they pass the model
(many ignore the server's instructions and never read resources), but every host passes the tool list; so
the description names the missing backends, and the answer spells out, as text too, each variable to set and
the two ways to set it. Variable names only: no value, set or not, is ever shown.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types

from modelops_mcp.surface.exposure import INSTALL_HOSTS, SETUP_TOOL, Exposure
from modelops_mcp.surface.job_tools import READ_ONLY, object_tool

_BACKEND = {
    "type": "object",
    "properties": {
        "backend": {"type": "string"},
        "title": {"type": "string"},
        "configured": {"type": "boolean"},
        "listed": {"type": "boolean"},
        "why": {"type": "string"},
        "variables": {"type": "array", "items": {"type": "object"}},
        # Not configured: the terminal line that adds it to the asking client's host (Claude Desktop by default).
        "install": {"type": "string"},
    },
    "required": ["backend", "title", "configured", "listed", "why", "variables"],
}
OUTPUT = {
    "type": "object",
    "properties": {
        "backends": {"type": "array", "items": _BACKEND},
        "steps": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["backends", "steps"],
}


def definition(exposure: Exposure) -> types.Tool:
    titles = ", ".join(b.title for b in exposure.hidden)
    return object_tool(
        SETUP_TOOL,
        "Set up a backend",
        f"{titles}: not configured, so their tools are not listed. Call this when the user asks for one of them: "
        "it says which variables (API key, URL) the user must set and how, so you can tell them.",
        {},
        [],
        OUTPUT,
        READ_ONLY,
    )


def host_of(client_name: str | None) -> str:
    """The install host of the client that asks, from its clientInfo name; Claude Desktop when not one of them.

    Cursor calls itself `cursor-vscode`, VS Code `Visual Studio Code`, Claude Desktop `claude-ai`."""
    name = (client_name or "").lower()
    if "cursor" in name:
        return "cursor"
    if "visual studio code" in name or "vscode" in name:
        return "vscode"
    return INSTALL_HOSTS[0]


def steps(exposure: Exposure) -> list[str]:
    hosts = ", ".join(INSTALL_HOSTS)
    return [
        "Set the backend's variables in this server's entry of the MCP host's config file (its \"env\" object), "
        f"or run its install line in a terminal (hosts: {hosts}), the placeholder <...> replaced. Install "
        "rewrites the entry, so the variables already set are named again: a bare --env NAME copies its value "
        "from that terminal.",
        "Restart the MCP host (or this server): the tool list is decided at start.",
        "`modelops-mcp doctor` then checks each backend's URL and key with one read-only call.",
        "Without an account, `modelops-mcp install HOST --sandbox` serves every backend on local emulators.",
    ]


def answer(exposure: Exposure, host: str = INSTALL_HOSTS[0]) -> types.CallToolResult:
    """`host`: the install host the install lines name (host_of the client's name)."""
    body: dict[str, Any] = {
        "backends": [
            {**b.to_json(), **({"install": exposure.install_command(b, host)} if b.hidden_unconfigured else {})}
            for b in exposure.backends
        ],
        "steps": steps(exposure),
    }
    lines = [f"Listed: {b.title} ({b.why})" for b in exposure.backends if b.listed]
    for b in exposure.backends:
        if not b.listed:
            lines.append(f"Not listed: {b.title}: {b.why}")
        if b.hidden_unconfigured:
            lines.append(f"  install line: {exposure.install_command(b, host)}")
    lines += [f"{n}. {step}" for n, step in enumerate(steps(exposure), start=1)]
    return types.CallToolResult(
        # The same facts as lines: a host that passes only text loses nothing.
        content=[types.TextContent(type="text", text="\n".join(lines))],
        structured_content=body,
    )
