"""What the tool list exposes: toolsets, an allowlist, read-only mode; hidden tools cannot be called."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from modelops_mcp.app.runtime import exposed_operations, load_settings_catalog, open_runtime
from modelops_mcp.settings.config import Settings
from modelops_mcp.spec.selection import SelectionError, toolsets
from tests.support import (
    CAILA_TOOLS,
    DATAROBOT_TOOLS,
    JOB_TOOLS,
    RunningSandbox,
    in_process,
    stdio_server,
)

pytestmark = pytest.mark.anyio

DATAROBOT_TEST_TOOLS = {
    "datarobot_list_custom_model_tests",
    "datarobot_create_custom_model_test",
    "datarobot_cancel_custom_model_test",
    "datarobot_get_custom_model_test",
    "datarobot_download_custom_model_test_log",
    "datarobot_get_custom_model_test_log_tail",
}


async def listed(client: Client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools}


def test_every_backend_and_group_is_a_toolset_and_groups_partition_their_backend(tmp_path: Path) -> None:
    sets = toolsets(load_settings_catalog(Settings(state_dir=tmp_path)))
    assert set(sets["datarobot.tests"]) == DATAROBOT_TEST_TOOLS
    assert set(sets["caila"]) == CAILA_TOOLS
    for backend in ("caila", "training", "pieces", "tunethemodel", "datarobot"):
        groups = [names for name, names in sets.items() if name.startswith(backend + ".")]
        assert len(groups) >= 2
        assert sorted(n for names in groups for n in names) == sorted(sets[backend])


async def test_toolsets_and_an_allowlist_expose_their_union_and_nothing_else(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    options = {"toolsets": ["datarobot.tests", "caila"], "tools": ["pieces_get_*"]}
    async with in_process(sandbox.env(), state_dir, **options) as (server, _), Client(server, mode="legacy") as c:
        assert await listed(c) == DATAROBOT_TEST_TOOLS | CAILA_TOOLS | {"pieces_get_model"} | JOB_TOOLS
        datasets = await c.call_tool("caila_list_datasets", {"account": "demo"})
        assert not datasets.is_error
        before = len(sandbox.requests())
        # A tool outside the selection is unknown, as if the server had never heard of it: nothing is sent.
        with pytest.raises(MCPError, match="Unknown tool: pieces_list_models"):
            await c.call_tool("pieces_list_models", {})
        assert len(sandbox.requests()) == before


async def test_read_only_lists_only_read_only_tools_and_refuses_the_rest(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with (
        in_process(sandbox.env(), state_dir, read_only=True) as (server, _),
        Client(server, mode="legacy") as c,
    ):
        tools = (await c.list_tools()).tools
        assert tools, "read-only mode still lists the read-only tools"
        assert all(t.annotations is not None and t.annotations.read_only_hint for t in tools)
        names = {t.name for t in tools}
        assert {"jobs_list", "jobs_get", "jobs_wait"} <= names
        assert "jobs_cancel" not in names
        assert "datarobot_list_custom_models" in names
        assert not names & {"datarobot_delete_custom_model", "caila_fit_service", "pieces_load_model"}
        before = len(sandbox.requests())
        with pytest.raises(MCPError, match="Unknown tool"):
            await c.call_tool("datarobot_delete_custom_model", {"customModelId": "x"})
        with pytest.raises(MCPError, match="Unknown tool"):
            await c.call_tool("jobs_cancel", {"job_id": "x"})
        assert len(sandbox.requests()) == before


async def test_a_toolset_or_pattern_that_names_nothing_fails_at_start(state_dir: Path) -> None:
    with pytest.raises(SelectionError, match=r"unknown toolset 'datarobot\.test'; known: .*datarobot\.tests"):
        async with open_runtime(Settings(state_dir=state_dir, toolsets=["datarobot.test"]), {}):
            pass
    with pytest.raises(SelectionError, match="no tool matches 'caila_fly_\\*'"):
        exposed_operations(
            Settings(state_dir=state_dir, tools=["caila_fly_*"]), load_settings_catalog(Settings(state_dir=state_dir))
        )


async def test_the_flags_and_their_environment_variables_select_over_stdio(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with stdio_server(sandbox.env(), state_dir, "--toolsets", "datarobot.tests", "--read-only") as (c, _):
        assert await listed(c) == {
            "datarobot_list_custom_model_tests",
            "datarobot_get_custom_model_test",
            "datarobot_download_custom_model_test_log",
            "datarobot_get_custom_model_test_log_tail",
            "jobs_list",
            "jobs_get",
            "jobs_wait",
        }
    env = sandbox.env(MODELOPS_TOOLSETS="caila", MODELOPS_TOOLS="datarobot_get_custom_model")
    async with stdio_server(env, state_dir) as (c, _):
        assert await listed(c) == CAILA_TOOLS | {"datarobot_get_custom_model"} | JOB_TOOLS


def test_the_cli_lists_toolsets_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "modelops_mcp", *args],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            env={"MODELOPS_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )

    shown = run("tools", "--list-toolsets")
    assert shown.returncode == 0, shown.stderr
    assert "datarobot.tests" in shown.stdout
    assert "Custom model tests" in shown.stdout
    refused = run("serve", "--toolsets", "nope")
    assert refused.returncode == 2
    assert "unknown toolset 'nope'" in refused.stderr
    assert "Traceback" not in refused.stderr
    selected = run("tools", "--json", "--toolsets", "datarobot")
    names = {tool["name"] for tool in json.loads(selected.stdout)}
    assert names == DATAROBOT_TOOLS | JOB_TOOLS
