"""Prompts match the tools: one per backend's main journey, every tool it names exists and is listed."""

from __future__ import annotations

import re
from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client

from modelops_mcp.schemas import bundled_documents
from modelops_mcp.spec.load import load_catalog
from modelops_mcp.surface.prompts import JOURNEYS, WAIT
from tests.support import RunningSandbox, in_process, structured

pytestmark = pytest.mark.anyio

MAIN_JOURNEYS = {
    "caila_fine_tune",
    "training_train_and_download",
    "tunethemodel_fine_tune",
    "datarobot_test_custom_model",
    "pieces_download_and_load",
}


def named_tools(prompt: types.GetPromptResult) -> list[str]:
    message = prompt.messages[0].content
    assert isinstance(message, types.TextContent)
    return re.findall(r"`([a-z0-9_]+)`", message.text)


def test_every_journey_step_is_an_operation_of_its_backend() -> None:
    documents = bundled_documents()
    catalog = load_catalog(documents, trusted=documents)
    assert {journey.name for journey in JOURNEYS} == MAIN_JOURNEYS
    assert {journey.backend for journey in JOURNEYS} == set(catalog.backends)  # one per backend
    for journey in JOURNEYS:
        operations = [op for op, _ in journey.steps if op != WAIT]
        for operation_id in operations:
            op = catalog.find(journey.backend, operation_id)
            assert op is not None, (journey.name, operation_id)
            assert op.tool_name in catalog.operations, (journey.name, operation_id)  # a tool, not internal
        # A step that starts a job is followed by jobs_wait, never by a status tool.
        for (operation_id, _), (following, _) in zip(journey.steps, journey.steps[1:], strict=False):
            op = catalog.find(journey.backend, operation_id) if operation_id != WAIT else None
            if op is not None and op.job is not None:
                assert following == WAIT, (journey.name, operation_id)


async def test_every_tool_a_prompt_names_is_listed(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        prompts = (await client.list_prompts()).prompts
        texts = {p.name: await client.get_prompt(p.name, {}) for p in prompts}
    assert {p.name for p in prompts} == MAIN_JOURNEYS
    for name, prompt in texts.items():
        tools = named_tools(prompt)
        assert WAIT in tools, name
        assert len(tools) >= 4, (name, tools)
        assert set(tools) <= listed, (name, set(tools) - listed)
        assert not any(tool.endswith("_status") for tool in tools), (name, tools)  # jobs_wait follows jobs


async def test_search_mode_prompts_name_operations_ops_describe_knows(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with (
        in_process(sandbox.env(), state_dir, discovery="search") as (server, _),
        Client(server, mode="legacy") as client,
    ):
        listed = {tool.name for tool in (await client.list_tools()).tools}
        prompt = await client.get_prompt("tunethemodel_fine_tune", {"name": "sentiment"})
        tools = named_tools(prompt)
        described = await client.call_tool("ops_describe", {"names": [t for t in tools if t not in listed]})
    message = prompt.messages[0].content
    assert isinstance(message, types.TextContent)
    assert "ops_call" in message.text
    assert "'sentiment'" in message.text
    assert not described.is_error, described
    assert WAIT in listed
    assert structured(described)


async def test_a_journey_whose_tools_are_not_exposed_is_not_offered(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with (
        in_process(sandbox.env(), state_dir, toolsets=["pieces"]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        prompts = (await client.list_prompts()).prompts
    assert [p.name for p in prompts] == ["pieces_download_and_load"]
