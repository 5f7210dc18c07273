"""A bad backend setting answers as a config error naming its variable, and never takes the server down."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.http.backend_config import BackendConfig
from modelops_mcp.settings.config import Settings
from tests.support import FAST, RunningSandbox, error_of, in_process, ok, stdio_server

# One cheap read-only call per backend, with the variable that names its base URL.
CALLS = {
    "CAILA_BASE_URL": ("caila_list_datasets", {"account": "demo"}),
    "TRAINING_MODULE_URL": ("training_check_health", {}),
    "PIECES_OS_URL": ("pieces_check_health", {}),
    "TTM_API_URL": ("tunethemodel_list_models", {}),
    "DATAROBOT_ENDPOINT": ("datarobot_get_custom_model_limits", {}),
}
KEYS = {"CAILA_API_KEY": "k", "TTM_API_KEY": "k", "DATAROBOT_API_TOKEN": "k"}
# Each kind of malformed base URL, with the words the error must use to say what is wrong.
MALFORMED = {
    "bad port": ("http://localhost:abc/x", "Invalid port"),
    "no scheme": ("caila.io", "has no scheme"),
    "another scheme": ("ftp://files.example.com/api/v2", "the scheme ftp:"),
    "garbage": ("not a url", "contains a space"),
}
# Retries of a refused connection, without the real backoff.
QUICK = FAST.model_copy(update={"retry_base_delay_s": 0.01, "retry_max_delay_s": 0.02})


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.anyio
@pytest.mark.parametrize("kind", MALFORMED)
async def test_each_malformed_url_is_a_config_error_naming_its_variable_and_a_valid_value(
    kind: str, state_dir: Path
) -> None:
    value, words = MALFORMED[kind]
    env = {**KEYS, **dict.fromkeys(CALLS, value)}
    async with in_process(env, state_dir) as (server, _), Client(server) as client:
        for variable, (tool, arguments) in CALLS.items():
            error = error_of(await client.call_tool(tool, arguments))
            assert error["kind"] == "config", error
            assert error["code"] == "invalid_base_url"
            assert error["retryable"] is False
            message = error["message"]
            assert f"{variable}={value!r}" in message, message
            assert words in message, message
            assert "nothing was sent" in message
            assert f"set {variable} to the" in message, message
            assert "e.g. http" in message, message


@pytest.mark.anyio
async def test_a_url_too_malformed_to_parse_still_has_its_password_masked(state_dir: Path) -> None:
    env = {**KEYS, "CAILA_BASE_URL": "https://me:hunter2-proxy@proxy.example:abc/"}
    async with in_process(env, state_dir) as (server, _), Client(server) as client:
        error = error_of(await client.call_tool("caila_list_datasets", {"account": "demo"}))
    assert error["kind"] == "config"
    assert "hunter2" not in str(error)
    assert "https://me:***@proxy.example:abc/" in error["message"]


@pytest.mark.anyio
async def test_datarobot_endpoint_without_api_v2_says_so_before_sending(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    root = sandbox.env()["DATAROBOT_ENDPOINT"].removesuffix("/api/v2")
    env = sandbox.env(DATAROBOT_ENDPOINT=root)
    async with in_process(env, state_dir) as (server, _), Client(server) as client:
        for _ in range(2):  # on every call, not only the first
            error = error_of(await client.call_tool("datarobot_list_custom_models", {}))
            assert error["kind"] == "config"
            assert "DATAROBOT_ENDPOINT" in error["message"]
            assert "does not end with /api/v2" in error["message"]
            assert f"e.g. {root}/api/v2" in error["message"], error["message"]
    assert sandbox.requests("datarobot") == []


@pytest.mark.anyio
async def test_an_unreachable_backend_names_its_variable_and_value_with_the_password_masked(state_dir: Path) -> None:
    port = closed_port()
    env = {**KEYS, **{variable: f"http://127.0.0.1:{port}" for variable in CALLS}}
    env["DATAROBOT_ENDPOINT"] = f"http://robot:s3cret-pw@127.0.0.1:{port}/api/v2"
    async with in_process(env, state_dir, QUICK) as (server, _), Client(server) as client:
        for variable, (tool, arguments) in CALLS.items():
            error = error_of(await client.call_tool(tool, arguments))
            assert error["kind"] == "network", error
            assert "could not be reached" in error["message"]
            shown = "http://robot:***@127.0.0.1" if variable == "DATAROBOT_ENDPOINT" else "http://127.0.0.1"
            assert f"{variable}={shown}:{port}" in error["message"], error["message"]
            assert "s3cret-pw" not in str(error)


def test_an_unset_variable_is_named_with_the_default_it_falls_back_to() -> None:
    catalog = load_settings_catalog(Settings(state_dir=Path("unused")))
    unset = BackendConfig.from_env(catalog.backends["training"], {})
    assert unset.url_setting == "TRAINING_MODULE_URL is not set; the documented http://localhost:8000 is used"
    assert "TRAINING_MODULE_URL is not set" in unset.unreachable_hint()
    set_ = BackendConfig.from_env(catalog.backends["training"], {"TRAINING_MODULE_URL": "http://gpu-box:8000/"})
    assert set_.url_setting == "TRAINING_MODULE_URL=http://gpu-box:8000"


@pytest.mark.anyio
async def test_over_stdio_bad_urls_break_only_their_own_backends(sandbox: RunningSandbox, state_dir: Path) -> None:
    env = sandbox.env(
        CAILA_BASE_URL="http://localhost:abc/x",
        TTM_API_URL="api.tunethemodel.com",
        PIECES_OS_URL="ftp://localhost:1000",
    )
    env["DATAROBOT_ENDPOINT"] = env["DATAROBOT_ENDPOINT"].removesuffix("/api/v2")
    async with stdio_server(env, state_dir) as (client, errlog):
        broken = {
            "CAILA_BASE_URL": "caila_list_datasets",
            "TTM_API_URL": "tunethemodel_list_models",
            "PIECES_OS_URL": "pieces_check_health",
            "DATAROBOT_ENDPOINT": "datarobot_get_custom_model_limits",
        }
        for variable, tool in broken.items():
            error = error_of(await client.call_tool(tool, CALLS[variable][1]))
            assert error["kind"] == "config", error
            assert variable in error["message"], error
        health = await ok(client, "training_check_health")
        assert health
        # The server is still up after all of it.
        assert (await client.list_tools()).tools
    assert "Traceback" not in errlog.read_text()
    assert {r.backend for r in sandbox.requests()} == {"training"}


@pytest.mark.anyio
async def test_the_backends_resource_shows_the_problem_of_a_malformed_url(state_dir: Path) -> None:
    env = {**KEYS, "CAILA_BASE_URL": "http://localhost:abc/x", "TTM_API_URL": "https://api.example.com"}
    async with in_process(env, state_dir) as (server, _), Client(server) as client:
        read = await client.read_resource("modelops://backends")
    block = read.contents[0]
    assert isinstance(block, types.TextResourceContents)
    backends = {b["backend"]: b for b in json.loads(block.text)}
    assert backends["caila"]["base_url"] is None
    assert backends["caila"]["base_url_problem"] == "is not a URL (Invalid port: 'abc')"
    assert backends["tunethemodel"]["base_url_problem"] is None
    assert backends["tunethemodel"]["base_url"] == "https://api.example.com"
