"""Exposure follows configuration: a backend is listed when the user configured it (or the sandbox did), one
nobody configured costs nothing but a mention in backends_setup, and --toolsets / --tools still choose exactly."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from modelops_mcp.surface.exposure import SETUP_TOOL
from tests.support import (
    BACKEND_TOOLS,
    CAILA_TOOLS,
    DATAROBOT_TOOLS,
    JOB_TOOLS,
    PIECES_TOOLS,
    TRAINING_TOOLS,
    TUNETHEMODEL_TOOLS,
    RunningSandbox,
    error_of,
    in_process,
    server_env,
    stdio_server,
    structured,
    text_of,
)

pytestmark = pytest.mark.anyio

# Each backend's variables, as the sandbox sets them (a URL each, a key for three).
VARIABLES = {
    "caila": ("CAILA_BASE_URL", "CAILA_API_KEY"),
    "datarobot": ("DATAROBOT_ENDPOINT", "DATAROBOT_API_TOKEN"),
    "pieces": ("PIECES_OS_URL",),
    "training": ("TRAINING_MODULE_URL",),
    "tunethemodel": ("TTM_API_URL", "TTM_API_KEY"),
}
TOOLS = {
    "caila": CAILA_TOOLS,
    "datarobot": DATAROBOT_TOOLS,
    "pieces": PIECES_TOOLS,
    "training": TRAINING_TOOLS,
    "tunethemodel": TUNETHEMODEL_TOOLS,
}
TITLES = {
    "caila": "Caila",
    "datarobot": "DataRobot",
    "pieces": "Pieces OS",
    "training": "Training Module",
    "tunethemodel": "Tune the Model",
}
SETUP = {SETUP_TOOL}


def only(sandbox: RunningSandbox, *backends: str) -> dict[str, str]:
    """The sandbox's settings of these backends alone."""
    every = sandbox.env()
    return {name: every[name] for backend in backends for name in VARIABLES[backend]}


async def names(client: Client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools}


async def backends_resource(client: Client) -> dict[str, dict[str, Any]]:
    content = (await client.read_resource("modelops://backends")).contents[0]
    assert isinstance(content, types.TextResourceContents)
    return {b["backend"]: b for b in json.loads(content.text)}


async def test_with_nothing_configured_only_jobs_and_setup_are_listed_and_setup_says_what_to_set(
    state_dir: Path,
) -> None:
    async with stdio_server({}, state_dir) as (client, _):
        tools = (await client.list_tools()).tools
        assert {t.name for t in tools} == JOB_TOOLS | SETUP
        setup = next(t for t in tools if t.name == SETUP_TOOL)
        assert setup.annotations is not None
        assert setup.annotations.read_only_hint is True
        for title in TITLES.values():  # the description alone tells an agent which backends exist
            assert title in (setup.description or "")
        assert client.instructions is not None
        assert "No backend is configured yet" in client.instructions
        assert SETUP_TOOL in client.instructions

        answer = await client.call_tool(SETUP_TOOL, {})
        body = structured(answer)
        text = text_of(answer)
        resource = await backends_resource(client)
        prompts = await client.list_prompts()
        with pytest.raises(MCPError) as refused:
            await client.call_tool("caila_list_datasets", {"account": "demo"})
    assert not answer.is_error
    assert [b["backend"] for b in body["backends"]] == ["caila", "datarobot", "pieces", "training", "tunethemodel"]
    for backend in body["backends"]:
        assert (backend["configured"], backend["listed"]) == (False, False)
        assert backend["why"].startswith("not configured: to list it, set ")
        assert backend["install"].startswith("modelops-mcp install claude-desktop --env ")
        # The text a text-only host passes on says the same: the title, what to set, the install line.
        assert f"Not listed: {backend['title']}: {backend['why']}" in text
        assert backend["install"] in text
    for variable in ("CAILA_API_KEY", "DATAROBOT_API_TOKEN", "TTM_API_KEY", "TRAINING_MODULE_URL", "PIECES_OS_URL"):
        assert variable in text
    assert "MODELOPS_TOOLSETS=configured,pieces" in text  # Pieces OS is chosen by name: its port is found
    assert any("Restart" in step for step in body["steps"])
    assert any("--sandbox" in step for step in body["steps"])
    # The resource says the same, per backend, with no tool listed.
    assert resource["datarobot"]["configured"] is False
    assert resource["datarobot"]["listed"] is False
    assert resource["datarobot"]["tools"] == []
    assert "DATAROBOT_API_TOKEN" in resource["datarobot"]["why"]
    assert prompts.prompts == []  # a prompt would walk the agent into tools it cannot call
    # A hidden operation called by name is refused, saying what would list it.
    assert "Unknown tool: caila_list_datasets" in refused.value.error.message
    assert "Caila is not configured" in refused.value.error.message
    assert "CAILA_API_KEY" in refused.value.error.message


async def test_one_configured_backend_is_listed_and_works_and_setup_speaks_of_the_others(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    env = only(sandbox, "caila")
    async with stdio_server(env, state_dir) as (client, _):
        tools = (await client.list_tools()).tools
        datasets = await client.call_tool("caila_list_datasets", {"account": "demo"})
        answer = structured(await client.call_tool(SETUP_TOOL, {}))
        instructions = client.instructions
        prompts = [prompt.name for prompt in (await client.list_prompts()).prompts]
    assert {t.name for t in tools} == CAILA_TOOLS | JOB_TOOLS | SETUP
    assert not datasets.is_error, text_of(datasets)
    assert prompts == ["caila_fine_tune"]
    setup = next(t for t in tools if t.name == SETUP_TOOL)
    assert "Caila" not in (setup.description or "")
    assert "DataRobot" in (setup.description or "")
    assert instructions is not None
    assert "Not configured, so not listed: DataRobot, Pieces OS, Training Module, Tune the Model" in instructions
    caila = answer["backends"][0]
    assert (caila["listed"], caila["why"]) == (True, "CAILA_API_KEY and CAILA_BASE_URL are set")
    assert "install" not in caila
    # Install rewrites the entry: the install line keeps the variables already set (names only, never values).
    tunethemodel = next(b for b in answer["backends"] if b["backend"] == "tunethemodel")
    assert tunethemodel["install"] == (
        "modelops-mcp install claude-desktop --env CAILA_API_KEY --env CAILA_BASE_URL "
        "--env 'TTM_API_KEY=<your Tune the Model API key>'"
    )
    assert env["CAILA_API_KEY"] not in json.dumps(answer)


@pytest.mark.parametrize("backend", sorted(VARIABLES))
async def test_each_backend_alone_lists_its_tools(sandbox: RunningSandbox, state_dir: Path, backend: str) -> None:
    async with in_process(only(sandbox, backend), state_dir) as (server, _), Client(server, mode="legacy") as client:
        assert await names(client) == TOOLS[backend] | JOB_TOOLS | SETUP
        resource = await backends_resource(client)
    assert {name for name, b in resource.items() if b["listed"]} == {backend}


async def test_a_key_alone_or_a_url_alone_configures_a_backend_and_blank_values_do_not(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    # The key alone: the documented URL is used. A URL alone (a self-hosted instance): calls name the key.
    env = {"TTM_API_KEY": "k", "DATAROBOT_ENDPOINT": sandbox.env()["DATAROBOT_ENDPOINT"], "CAILA_API_KEY": "  "}
    async with in_process(env, state_dir) as (server, _), Client(server, mode="legacy") as client:
        assert await names(client) == TUNETHEMODEL_TOOLS | DATAROBOT_TOOLS | JOB_TOOLS | SETUP
        result = await client.call_tool("datarobot_list_custom_models", {})
    error = error_of(result)
    assert error["kind"] == "config"
    assert "DATAROBOT_API_TOKEN" in error["message"]
    assert sandbox.requests("datarobot") == []  # refused before anything was sent


async def test_every_backend_configured_lists_them_all_with_no_setup_tool(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        assert await names(client) == BACKEND_TOOLS | JOB_TOOLS
        assert client.instructions is not None
        assert "Not configured" not in client.instructions
        with pytest.raises(MCPError, match="Unknown tool"):  # nothing hidden: no setup to ask for
            await client.call_tool(SETUP_TOOL, {})


async def test_serve_sandbox_configures_every_backend(state_dir: Path) -> None:
    async with stdio_server({}, state_dir, "--sandbox") as (client, _):
        assert await names(client) == BACKEND_TOOLS | JOB_TOOLS
        resource = await backends_resource(client)
    assert all(b["listed"] and b["configured"] for b in resource.values())
    assert resource["pieces"]["why"] == "serve --sandbox points it at its emulator"


async def test_naming_an_unconfigured_backend_lists_it_and_its_calls_name_the_variable(state_dir: Path) -> None:
    async with stdio_server({}, state_dir, "--toolsets", "datarobot") as (client, _):
        listed = await names(client)
        result = await client.call_tool("datarobot_list_custom_models", {})
        resource = await backends_resource(client)
    # An explicit choice: exactly what was named, and no setup tool for what it left out.
    assert listed == DATAROBOT_TOOLS | JOB_TOOLS
    error = error_of(result)
    assert error["kind"] == "config"
    assert "DATAROBOT_API_TOKEN" in error["message"]
    assert resource["datarobot"]["why"].startswith("named in --toolsets/--tools, though not configured: its calls fail")
    assert resource["caila"]["why"] == "left out by --toolsets/--tools"


async def test_configured_plus_pieces_by_name_from_the_environment(sandbox: RunningSandbox, state_dir: Path) -> None:
    env = {**only(sandbox, "caila"), "MODELOPS_TOOLSETS": "configured,pieces"}
    async with stdio_server(env, state_dir) as (client, _):
        listed = await names(client)
        answer = structured(await client.call_tool(SETUP_TOOL, {}))
    assert listed == CAILA_TOOLS | PIECES_TOOLS | JOB_TOOLS | SETUP
    pieces = next(b for b in answer["backends"] if b["backend"] == "pieces")
    assert pieces["listed"] is True
    assert "looked for on its local ports" in pieces["why"]
    assert [b["backend"] for b in answer["backends"] if "install" in b] == ["datarobot", "training", "tunethemodel"]


async def test_all_lists_every_backend_and_an_allowlist_alone_adds_no_setup_tool(state_dir: Path) -> None:
    async with in_process({}, state_dir, toolsets=["all"]) as (server, _), Client(server, mode="legacy") as client:
        assert await names(client) == BACKEND_TOOLS | JOB_TOOLS
    async with (
        in_process({}, state_dir, tools=["caila_list_*"]) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        assert await names(client) == {"caila_list_datasets", "caila_list_fit_configs"} | JOB_TOOLS


async def test_read_only_keeps_to_the_configured_backends(sandbox: RunningSandbox, state_dir: Path) -> None:
    env = only(sandbox, "caila")
    async with in_process(env, state_dir, read_only=True) as (server, _), Client(server, mode="legacy") as client:
        listed = await names(client)
    assert listed == {"caila_list_fit_configs", "caila_list_datasets", "caila_get_job_status"} | SETUP | (
        JOB_TOOLS - {"jobs_cancel"}
    )


async def test_search_mode_searches_only_configured_backends_and_lists_no_search_with_none(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process({}, state_dir, discovery="search") as (server, _), Client(server, mode="legacy") as client:
        assert await names(client) == JOB_TOOLS | SETUP
        assert client.instructions is not None
        assert "ops_search" not in client.instructions  # nothing to search: search mode is not offered
    env = only(sandbox, "tunethemodel")
    async with in_process(env, state_dir, discovery="search") as (server, _), Client(server, mode="legacy") as client:
        tools = (await client.list_tools()).tools
        found = structured(await client.call_tool("ops_search", {"query": "fine-tune a model", "limit": 25}))
        instructions = client.instructions
    assert {t.name for t in tools} == {"ops_search", "ops_describe", "ops_call"} | JOB_TOOLS | SETUP
    assert instructions is not None
    assert "ops_search" in instructions
    search = next(t for t in tools if t.name == "ops_search")
    assert search.input_schema["properties"]["backend"]["enum"] == ["tunethemodel"]
    assert found["operations"]
    assert {op["name"].split("_")[0] for op in found["operations"]} == {"tunethemodel"}


def test_the_suggested_install_line_is_one_install_accepts(tmp_path: Path) -> None:
    """The line backends_setup gives, placeholder replaced, run as a user would: it keeps and adds the variables."""
    from modelops_mcp.app.runtime import load_settings_catalog
    from modelops_mcp.settings.config import Settings
    from modelops_mcp.surface.exposure import expose

    env = {"CAILA_BASE_URL": "https://caila.example.com", "CAILA_API_KEY": "caila-key"}
    settings = Settings(state_dir=tmp_path / "state")
    exposure = expose(settings, load_settings_catalog(settings), env)[1]
    place = exposure.of("tunethemodel")
    assert place is not None
    line = exposure.install_command(place).replace("<your Tune the Model API key>", "ttm-key")
    argv = shlex.split(line)
    assert argv[:3] == ["modelops-mcp", "install", "claude-desktop"]
    config = tmp_path / "claude.json"
    done = subprocess.run(
        [sys.executable, "-m", "modelops_mcp", *argv[1:], "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**server_env(env, tmp_path / "state"), "HOME": str(tmp_path)},
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    entry = json.loads(config.read_text())["mcpServers"]["modelops"]
    assert entry["env"] == {**env, "TTM_API_KEY": "ttm-key"}
    # Install says what the server will list with that entry.
    assert "lists the tools of: caila, tunethemodel; not configured, so not listed: datarobot, pieces, training" in (
        done.stdout
    )


def cli(*args: str, env: dict[str, str], state_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelops_mcp", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=server_env(env, state_dir),
        stdin=subprocess.DEVNULL,
    )


def rows(out: str) -> dict[str, tuple[str, str]]:
    """The Backends section: backend -> (listed or not listed, why)."""
    found = {}
    for line in out.split("\n\nBackends:\n", 1)[1].splitlines():
        backend, _, rest = line.strip().partition("  ")
        state, _, why = rest.strip().partition("  ")
        found[backend] = (state.strip(), why.strip())
    return found


def tools_in_process(
    *args: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """`modelops-mcp tools` through the CLI's own entry point, in this process: what it printed.

    A subprocess costs ~2 s of CPU (importing the server's libraries); the run through a real subprocess
    with nothing configured, below, covers the command as a user types it."""
    from modelops_mcp.cli import main

    with monkeypatch.context() as patched:
        for name in list(os.environ):
            if name.startswith(("CAILA_", "MODELOPS_", "TRAINING_", "PIECES_", "TTM_", "DATAROBOT_")):
                patched.delenv(name)
        for name, value in env.items():
            patched.setenv(name, value)
        assert main(["tools", *args]) == 0
    return capsys.readouterr().out


def test_the_tools_command_says_which_backends_are_listed_and_why(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    nothing = cli("tools", env={}, state_dir=state_dir)
    assert nothing.returncode == 0, nothing.stderr
    assert "5 tools: 0 backend operations and 5 tools of this server (jobs_*, backends_setup)" in nothing.stdout
    said = rows(nothing.stdout)
    assert set(said) == set(VARIABLES)
    assert said["caila"] == (
        "not listed",
        "not configured: to list it, set CAILA_API_KEY (and CAILA_BASE_URL if not https://caila.io)",
    )
    assert said["training"] == (
        "not listed",
        "not configured: to list it, set TRAINING_MODULE_URL (e.g. http://localhost:8000)",
    )
    # The variants in process (the subprocess above covers the command as typed).
    where = {"MODELOPS_STATE_DIR": str(state_dir)}

    def run(*args: str, env: dict[str, str]) -> str:
        return tools_in_process(*args, env=env, monkeypatch=monkeypatch, capsys=capsys)

    caila = run(env={**where, "CAILA_API_KEY": "k"})
    assert rows(caila)["caila"] == ("listed", "CAILA_API_KEY is set")
    assert "caila_fit_service" in caila
    sandboxed = rows(run("--sandbox", env=where))
    assert {state for state, _ in sandboxed.values()} == {"listed"}
    named = rows(run("--toolsets", "pieces", env={**where, "CAILA_API_KEY": "k"}))
    assert named["caila"] == ("not listed", "left out by --toolsets/--tools (CAILA_API_KEY is set)")
    assert named["pieces"][0] == "listed"
    toolsets = run("--list-toolsets", env={**where, "TTM_API_KEY": "k"})
    said_toolsets = re.findall(r"^(\w+)\s+(\d+) tools  (.*)$", toolsets, re.MULTILINE)
    assert said_toolsets[:2] == [
        ("configured", str(len(TUNETHEMODEL_TOOLS)), "the default: tunethemodel"),
        ("all", str(len(BACKEND_TOOLS)), "every backend"),
    ]


async def test_doctor_says_what_serve_lists_and_how_to_list_a_service_it_found(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    import dataclasses

    import anyio

    from modelops_mcp.sandbox import Sandbox, serve_sandbox
    from modelops_mcp.sandbox import pieces as pieces_emulator
    from tests.test_pieces_e2e import _free_port_in

    port = _free_port_in(39300, 39333)
    assert port is not None, "every port in 39300-39333 is taken on this machine"
    # Pieces OS running where its clients look for it, but not named by any variable.
    at_root = Sandbox(speed=0, emulators=[dataclasses.replace(pieces_emulator.SPEC, prefix="")])
    env = only(sandbox, "caila")
    async with serve_sandbox(at_root, port=port):
        table = await anyio.run_process(
            [sys.executable, "-m", "modelops_mcp", "doctor"], env=server_env(env, state_dir), check=False
        )
        as_json = await anyio.run_process(
            [sys.executable, "-m", "modelops_mcp", "doctor", "--json"], env=server_env(env, state_dir), check=False
        )
    out = table.stdout.decode()
    assert table.returncode == 0, table.stderr
    section = out.split("In `modelops-mcp serve`'s tool list with this environment:\n", 1)[1]
    lines = {line.split()[0]: line for line in section.splitlines() if line.strip()}
    assert "listed      CAILA_API_KEY and CAILA_BASE_URL are set" in lines["caila"]
    assert "not listed  it answers at its default address, but is not configured" in lines["pieces"]
    assert "MODELOPS_TOOLSETS=configured,pieces" in lines["pieces"]
    assert "not listed  not configured: to list it, set DATAROBOT_API_TOKEN" in lines["datarobot"]
    listing = {b["backend"]: b for b in json.loads(as_json.stdout)["listing"]}
    assert (listing["caila"]["listed"], listing["pieces"]["listed"]) == (True, False)
    assert env["CAILA_API_KEY"] not in out


@pytest.mark.parametrize(
    ("client_name", "host"),
    [("cursor-vscode", "cursor"), ("Visual Studio Code", "vscode"), ("claude-ai", "claude-desktop")],
)
async def test_the_install_lines_name_the_host_of_the_client_that_asks(
    state_dir: Path, client_name: str, host: str
) -> None:
    client_info = types.Implementation(name=client_name, version="1.0")
    async with (
        in_process({}, state_dir) as (server, _),
        Client(server, mode="legacy", client_info=client_info) as client,
    ):
        answer = structured(await client.call_tool(SETUP_TOOL, {}))
    installs = [b["install"] for b in answer["backends"]]
    assert len(installs) == 5
    assert all(line.startswith(f"modelops-mcp install {host} --env ") for line in installs), installs
