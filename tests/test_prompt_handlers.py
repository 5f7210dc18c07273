"""PromptHandlers and set_level alone: prompts/list, prompts/get and logging/setLevel called directly."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from modelops_mcp.surface.prompt_handlers import PromptHandlers
from modelops_mcp.surface.prompts import JOURNEYS
from modelops_mcp.surface.server import set_level
from tests.handler_context import legacy_context
from tests.support import RunningSandbox, in_process

pytestmark = pytest.mark.anyio


def prompt_text(result: types.GetPromptResult) -> str:
    (message,) = result.messages
    assert isinstance(message.content, types.TextContent)
    return message.content.text


async def test_every_journey_is_listed_when_every_tool_is_exposed(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        listed = await PromptHandlers(runtime).list_prompts(legacy_context(method="prompts/list"), None)
    assert [p.name for p in listed.prompts] == [j.name for j in JOURNEYS]
    (caila,) = [p for p in listed.prompts if p.name == "caila_fine_tune"]
    assert [a.name for a in caila.arguments or []] == ["account", "service", "dataset", "name"]


async def test_get_prompt_names_the_servers_tools_and_the_users_arguments(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    params = types.GetPromptRequestParams(name="caila_fine_tune", arguments={"account": "demo", "dataset": "tickets"})
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        text = prompt_text(await PromptHandlers(runtime).get_prompt(legacy_context(), params))
    assert text.startswith("Fine-tune the Caila service the fittable service I name of account 'demo' on 'tickets'.")
    assert "`caila_fit_service`" in text
    assert "`jobs_wait`" in text
    assert "ops_call" not in text


async def test_in_search_mode_a_prompt_says_to_run_its_tools_through_ops_call(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    params = types.GetPromptRequestParams(name="pieces_download_and_load")
    async with in_process(sandbox.env(), state_dir, discovery="search") as (_, runtime):
        text = prompt_text(await PromptHandlers(runtime).get_prompt(legacy_context(), params))
    assert "Run each backend tool below with ops_call" in text
    assert "`pieces_download_model`" in text


async def test_a_journey_with_a_tool_not_exposed_is_neither_listed_nor_given(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir, toolsets=["caila"]) as (_, runtime):
        handlers = PromptHandlers(runtime)
        listed = await handlers.list_prompts(legacy_context(), None)
        with pytest.raises(MCPError) as hidden:
            await handlers.get_prompt(legacy_context(), types.GetPromptRequestParams(name="pieces_download_and_load"))
        with pytest.raises(MCPError) as unknown:
            await handlers.get_prompt(legacy_context(), types.GetPromptRequestParams(name="no_such_prompt"))
    assert [p.name for p in listed.prompts] == ["caila_fine_tune"]
    assert (hidden.value.error.code, hidden.value.error.message) == (
        types.INVALID_PARAMS,
        "Unknown prompt: pieces_download_and_load",
    )
    assert unknown.value.error.code == types.INVALID_PARAMS


@pytest.fixture
def server_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("modelops_mcp")
    level = logger.level
    yield logger
    logger.setLevel(level)


async def test_set_level_sets_the_servers_own_log_level(server_logger: logging.Logger) -> None:
    for level, expected in (("error", logging.ERROR), ("debug", logging.DEBUG), ("emergency", logging.CRITICAL)):
        params = types.SetLevelRequestParams(level=level)  # type: ignore[arg-type]
        assert await set_level(legacy_context(method="logging/setLevel"), params) == types.EmptyResult()
        assert server_logger.level == expected
