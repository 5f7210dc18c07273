"""The jobs dashboard as an MCP App: declared only to a host that negotiated the extension, the same answers
for everyone else, and a view that needs nothing but the host's bridge."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from mcp.client.extension import advertise

from modelops_mcp.surface import dashboard
from tests.support import CAILA_FIT, RunningSandbox, in_process, structured

pytestmark = pytest.mark.anyio

APPS = advertise(dashboard.EXTENSION_ID, {"mimeTypes": [dashboard.APP_MIME_TYPE]})


def without_meta(tools: list[types.Tool]) -> list[dict[str, Any]]:
    return [tool.model_dump(mode="json", exclude={"meta"}) for tool in tools]


def comparable(result: types.CallToolResult) -> Any:
    # Times and the job's poll bookkeeping move between two reads; everything else must be equal.
    data = structured(result)
    for job in data.get("jobs", [data.get("job")]):
        if job:
            job.pop("updated_at", None)
            job.pop("polls", None)
    return data


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_only_a_host_that_negotiated_mcp_apps_sees_the_dashboard(
    sandbox: RunningSandbox, state_dir: Path, mode: str
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _):
        async with Client(server, mode=mode) as plain:
            plain_tools = (await plain.list_tools()).tools
            handle = structured(await plain.call_tool("caila_fit_service", CAILA_FIT))["job"]
            plain_resources = [str(r.uri) for r in (await plain.list_resources()).resources]
            plain_answers = [
                comparable(await plain.call_tool(name, args))
                for name, args in [("jobs_list", {}), ("jobs_get", {"job_id": handle["id"]})]
            ]
        async with Client(server, mode=mode, extensions=[APPS]) as host:
            host_tools = (await host.list_tools()).tools
            host_resources = [str(r.uri) for r in (await host.list_resources()).resources]
            host_answers = [
                comparable(await host.call_tool(name, args))
                for name, args in [("jobs_list", {}), ("jobs_get", {"job_id": handle["id"]})]
            ]
            read = (await host.read_resource(dashboard.URI)).contents

    # A plain client: no _meta on any tool, no ui:// resource.
    assert all(tool.meta is None for tool in plain_tools)
    assert not [uri for uri in plain_resources if uri.startswith("ui://")]
    # The host: the same tools and answers, the three jobs readers pointing at the dashboard.
    assert without_meta(host_tools) == without_meta(plain_tools)
    declared = {tool.name: tool.meta for tool in host_tools if tool.meta}
    assert set(declared) == {"jobs_list", "jobs_get", "jobs_wait"}
    for meta in declared.values():
        assert meta == {"ui": {"resourceUri": dashboard.URI}, "ui/resourceUri": dashboard.URI}
    assert host_resources == [*plain_resources, dashboard.URI]
    assert host_answers == plain_answers
    (contents,) = read
    assert isinstance(contents, types.TextResourceContents)
    assert contents.mime_type == "text/html;profile=mcp-app"
    assert contents.text.startswith("<!DOCTYPE html>")
    assert contents.meta == {"ui": {"prefersBorder": True}}


async def test_a_host_listing_other_mime_types_only_is_not_an_apps_host(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    other = advertise(dashboard.EXTENSION_ID, {"mimeTypes": ["text/uri-list"]})
    async with (
        in_process(sandbox.env(), state_dir) as (server, _),
        Client(server, mode="legacy", extensions=[other]) as client,
    ):
        tools = (await client.list_tools()).tools
    assert all(tool.meta is None for tool in tools)


def test_the_view_loads_nothing_and_talks_only_to_its_host() -> None:
    """Self-contained: under the spec's default CSP (connect-src 'none', no remote script) it must still work."""
    page = dashboard.html()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    for reach in ("fetch(", "XMLHttpRequest", "WebSocket", "EventSource", "import(", "@import", "url("):
        assert reach not in page, reach
    # Data from backends is written as text, never parsed as markup.
    assert "innerHTML" not in page
    # Every tool it calls is one of the server's jobs tools: it never names a backend operation.
    called = set(re.findall(r'callTool\("([a-z_]+)"', page))
    assert called == {"jobs_list", "jobs_get", "jobs_cancel"}
