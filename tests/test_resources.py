"""Resources about the server itself: configured backends, schema documents, completion, not-found."""

from __future__ import annotations

import json
from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from tests.conftest import CANARY
from tests.support import RunningSandbox, in_process

pytestmark = pytest.mark.anyio


def text(result: types.ReadResourceResult) -> str:
    content = result.contents[0]
    assert isinstance(content, types.TextResourceContents)
    assert content.mime_type == "application/json"
    return content.text


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_backends_resource_shows_configuration_without_secrets(
    sandbox: RunningSandbox, state_dir: Path, mode: str
) -> None:
    env = sandbox.env(CAILA_API_KEY=CANARY)
    async with in_process(env, state_dir) as (server, _), Client(server, mode=mode) as client:
        listed = await client.list_resources()
        assert {str(r.uri) for r in listed.resources} == {
            "modelops://backends",
            "modelops://schemas/caila",
            "modelops://schemas/training",
            "modelops://schemas/pieces",
            "modelops://schemas/datarobot",
            "modelops://schemas/tunethemodel",
        }
        raw = text(await client.read_resource("modelops://backends"))
    assert CANARY not in raw
    backends = {b["backend"]: b for b in json.loads(raw)}
    assert set(backends) == {"caila", "training", "pieces", "datarobot", "tunethemodel"}
    caila = backends["caila"]
    assert caila["base_url"] == env["CAILA_BASE_URL"]
    assert backends["pieces"]["base_url"] == env["PIECES_OS_URL"]  # configured: no port probing
    assert backends["pieces"]["discovers_ports"] is None
    assert caila["credential_set"] is True
    assert caila["credential_env"] == "CAILA_API_KEY"
    assert "caila_fit_service" in caila["tools"]


async def test_schema_resource_is_the_backends_openapi_document(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        templates = await client.list_resource_templates()
        assert [t.uri_template for t in templates.resource_templates] == [
            "modelops://schemas/{backend}",
            "job://{job_id}",
        ]
        document = json.loads(text(await client.read_resource("modelops://schemas/caila")))
        completion = await client.complete(
            types.ResourceTemplateReference(uri="modelops://schemas/{backend}"), {"name": "backend", "value": "ca"}
        )
    assert document["openapi"].startswith("3.1")
    assert document["x-mcp"]["backend"] == "caila"
    assert completion.completion.values == ["caila"]


# -32002 up to 2025-11-25; the 2026-07-28 revision (SEP-2164) makes an unknown resource -32602, invalid params
# (the conformance suite's sep-2164-resource-not-found scenario warns otherwise).
@pytest.mark.parametrize(("mode", "code"), [("legacy", -32002), ("auto", -32602)])
async def test_an_unknown_resource_is_resource_not_found(
    sandbox: RunningSandbox, state_dir: Path, mode: str, code: int
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode=mode) as client:
        with pytest.raises(MCPError) as caught:
            await client.read_resource("modelops://schemas/nope")
        assert caught.value.code == code
        assert "modelops://schemas/nope" in caught.value.error.message
        assert not (await client.call_tool("caila_list_datasets", {"account": "demo"})).is_error


async def test_server_identity_and_instructions(sandbox: RunningSandbox, state_dir: Path) -> None:
    from modelops_mcp import __version__

    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        assert client.server_info is not None
        assert (client.server_info.name, client.server_info.version) == ("modelops-mcp", __version__)
        assert client.instructions is not None
        assert "isError" in client.instructions
        assert client.server_capabilities.tools is not None
        assert client.server_capabilities.completions is not None


# resources/subscribe is the 2025-11-25 way, deprecated in 2026-07-28; legacy clients still use it.
@pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")
async def test_the_fine_tune_prompt_walks_the_journey(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        listed = await client.list_prompts()
        assert "caila_fine_tune" in [p.name for p in listed.prompts]
        prompt = await client.get_prompt("caila_fine_tune", {"dataset": "support-tickets", "account": "demo"})
        with pytest.raises(MCPError, match="Unknown prompt"):
            await client.get_prompt("nope", {})
        # subscribing is accepted for any URI; the catalog resources never change
        await client.subscribe_resource("modelops://backends")
        await client.unsubscribe_resource("modelops://backends")
    message = prompt.messages[0].content
    assert isinstance(message, types.TextContent)
    assert "'support-tickets'" in message.text
    # The job is followed with jobs_wait, as the fit's result says, not by polling caila_get_job_status.
    for tool in ("caila_list_datasets", "caila_create_derived_service", "caila_fit_service", "jobs_wait"):
        assert tool in message.text
    assert "caila_get_job_status" not in message.text
