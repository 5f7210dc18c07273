"""Streamable HTTP access: a bearer token on every request, --no-auth on loopback only, Host/Origin checks.

Every test runs `modelops-mcp serve --transport http` as a real subprocess on 127.0.0.1 and talks to it
with raw HTTP (for what a forger sends) and with the mcp SDK's Client (for what a user's client does).
With MODELOPS_SECURITY_REPORT=path set, each check appends its counts to that file (JSON lines).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp.shared.exceptions import MCPError

from modelops_mcp.surface.http_auth import is_loopback, transport_security
from tests.support import (
    CAILA_TOOLS,
    RunningSandbox,
    error_of,
    http_client,
    http_server_process,
    printed_token,
    record_security_check,
    sandbox_in_thread,
    server_env,
    structured,
)

pytestmark = pytest.mark.anyio

TOKEN = "test-token-0f3a9c1e7b5d4e2a8c6b"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "forger", "version": "0"}},
}
LIST_DATASETS = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "caila_list_datasets", "arguments": {"account": "demo"}},
}
SERVE_HTTP = [sys.executable, "-m", "modelops_mcp", "serve", "--transport", "http"]
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
# What a client without the token might send: nothing, other schemes, near misses of the right token.
FORGED_AUTHORIZATIONS: list[dict[str, str]] = [
    {},
    {"Authorization": ""},
    {"Authorization": "Bearer"},
    {"Authorization": "bearer wrong-token"},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": f"Bearer {TOKEN[:-1]}"},
    {"Authorization": f"Bearer {TOKEN}x"},
    {"Authorization": f"Bearer {TOKEN.upper()}"},
    {"Authorization": f"Basic {TOKEN}"},
    {"Authorization": f"Token {TOKEN}"},
    {"Authorization": TOKEN},
    {"Authorization": f"Bearer{TOKEN}"},
    {"X-Auth-Token": TOKEN},
]


def stderr_text(errlog: Path) -> str:
    return errlog.read_text()


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[RunningSandbox]:
    with sandbox_in_thread() as running:
        yield running


@pytest.fixture(scope="module")
def token_server(
    shared_sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """One server for the tests of the token it was given: none needs fresh state, each counts its own requests."""
    state_dir = tmp_path_factory.mktemp("token-server") / "state"
    with http_server_process(shared_sandbox.env(MODELOPS_AUTH_TOKEN=TOKEN), state_dir) as running:
        yield running


async def test_requests_without_the_right_token_get_401_and_reach_no_backend(
    shared_sandbox: RunningSandbox, token_server: tuple[str, Path]
) -> None:
    url, errlog = token_server
    before = len(shared_sandbox.requests())
    refused = 0
    sent = 0
    async with httpx.AsyncClient(timeout=10) as raw:
        for auth in FORGED_AUTHORIZATIONS:
            for method, body in (("POST", INITIALIZE), ("POST", LIST_DATASETS), ("GET", None), ("DELETE", None)):
                sent += 1
                answer = await raw.request(method, url, headers={**JSON_HEADERS, **auth}, json=body)
                assert answer.status_code == 401, (auth, method, answer.text)
                assert answer.headers["www-authenticate"].startswith("Bearer")
                assert answer.json()["error"] in ("unauthorized", "invalid_token")
                assert TOKEN not in answer.text
                refused += 1
        # Any path, not only /mcp: nothing behind the middleware answers without the token.
        sent += 1
        other = await raw.get(url.replace("/mcp", "/anything"))
        assert other.status_code == 401
        refused += 1
        # The right token gets past the middleware to the MCP transport.
        ok = await raw.post(url, headers={**JSON_HEADERS, "Authorization": f"Bearer {TOKEN}"}, json=INITIALIZE)
        assert ok.status_code == 200, ok.text
    assert shared_sandbox.requests()[before:] == []
    record_security_check("forged or missing Authorization refused with 401", refused, sent)
    assert TOKEN not in stderr_text(errlog)


async def test_the_mcp_client_with_the_token_lists_and_calls_tools(
    shared_sandbox: RunningSandbox, token_server: tuple[str, Path]
) -> None:
    url, errlog = token_server
    before = len(shared_sandbox.requests())
    for mode in ("legacy", "auto"):
        async with http_client(url, TOKEN, mode=mode) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert names >= CAILA_TOOLS
            listed = structured(await client.call_tool("caila_list_datasets", {"account": "demo"}))
            missing = error_of(await client.call_tool("caila_list_datasets", {"account": "nobody"}))
            for result in (listed, missing):
                assert TOKEN not in json.dumps(result)
    made = shared_sandbox.requests()[before:]
    assert len(made) == 4
    assert {entry.backend for entry in made} == {"caila"}
    assert TOKEN not in stderr_text(errlog)


async def test_the_mcp_client_without_the_token_cannot_connect(
    shared_sandbox: RunningSandbox, token_server: tuple[str, Path]
) -> None:
    url, _ = token_server
    before = len(shared_sandbox.requests())
    for token in (None, "wrong-token"):
        # The SDK reports the 401 as an error response, wrapped in its task groups' ExceptionGroups.
        with pytest.raises(BaseExceptionGroup) as caught:
            async with http_client(url, token) as client:
                await client.list_tools()
        assert caught.group_contains(MCPError, match="error response", depth=2)
    assert shared_sandbox.requests()[before:] == []


async def test_without_a_token_one_is_generated_printed_once_and_works(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    debug = ("--log-level", "debug")
    with http_server_process(sandbox.env(), state_dir, *debug, open_access=False) as (url, errlog):
        token = printed_token(errlog)
        assert len(token) >= 32
        async with httpx.AsyncClient(timeout=10) as raw:
            refused = await raw.post(url, headers=JSON_HEADERS, json=INITIALIZE)
            assert refused.status_code == 401
        async with http_client(url, token) as client:
            result = await client.call_tool("caila_list_datasets", {"account": "demo"})
            assert not result.is_error
            assert token not in json.dumps(result.model_dump(mode="json"))
        # Once, on the start line a user copies from; never again, even at debug level.
        assert stderr_text(errlog).count(token) == 1
    with http_server_process(sandbox.env(), state_dir, open_access=False) as (_, second_log):
        assert printed_token(second_log) != token


async def test_the_token_flag_works_and_is_never_printed(sandbox: RunningSandbox, state_dir: Path) -> None:
    with http_server_process(sandbox.env(), state_dir, "--auth-token", TOKEN) as (url, errlog):
        async with http_client(url, TOKEN) as client:
            assert {tool.name for tool in (await client.list_tools()).tools} >= CAILA_TOOLS
        async with httpx.AsyncClient(timeout=10) as raw:
            assert (await raw.post(url, headers=JSON_HEADERS, json=INITIALIZE)).status_code == 401
        log = stderr_text(errlog)
        assert TOKEN not in log
        assert "Authorization: Bearer <the token" in log


async def test_no_auth_on_loopback_serves_without_a_token(sandbox: RunningSandbox, state_dir: Path) -> None:
    with http_server_process(sandbox.env(), state_dir, "--no-auth") as (url, errlog):
        async with http_client(url) as client:
            assert not (await client.call_tool("caila_list_datasets", {"account": "demo"})).is_error
        assert "no authentication (--no-auth)" in stderr_text(errlog)
        assert "Bearer" not in stderr_text(errlog)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_auth_on_a_non_loopback_bind_is_refused_before_listening(state_dir: Path) -> None:
    port = free_port()
    refused = 0
    hosts = ["0.0.0.0", "::", "192.168.1.20", "example.com"]
    for host in hosts:
        done = subprocess.run(
            [*SERVE_HTTP, "--host", host, "--port", str(port), "--no-auth"],
            env=server_env({}, state_dir),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert "--no-auth is only allowed on a loopback address" in done.stderr
        assert "serving Streamable HTTP" not in done.stderr
        refused += 1
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing listens
    record_security_check("--no-auth on a non-loopback bind refused (exit 2)", refused, len(hosts))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.3.0.9", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("example.com", False),
    ],
)
def test_loopback_is_127_8_and_ipv6_one_and_localhost(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


async def test_a_foreign_host_or_origin_is_refused_before_any_tool_runs(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    args = ("--allow-origin", "https://app.example.test", "--allow-host", "mcp.example.test")
    with http_server_process(sandbox.env(MODELOPS_AUTH_TOKEN=TOKEN), state_dir, *args) as (url, _):
        port = url.split(":")[2].split("/")[0]
        authed = {**JSON_HEADERS, "Authorization": f"Bearer {TOKEN}"}
        forged: list[tuple[dict[str, str], int]] = [
            ({"Host": "evil.example"}, 421),
            ({"Host": f"evil.example:{port}"}, 421),
            ({"Host": f"127.0.0.1.evil.example:{port}"}, 421),
            ({"Host": f"mcp.example.test.evil:{port}"}, 421),
            ({"Origin": "http://evil.example"}, 403),
            ({"Origin": f"http://evil.example:{port}"}, 403),
            ({"Origin": "https://app.example.test.evil"}, 403),
            ({"Origin": "null"}, 403),
        ]
        async with httpx.AsyncClient(timeout=10) as raw:
            for headers, status in forged:
                for body in (INITIALIZE, LIST_DATASETS):
                    answer = await raw.post(url, headers={**authed, **headers}, json=body)
                    assert answer.status_code == status, (headers, answer.text)
            allowed: list[dict[str, str]] = [
                {},
                {"Origin": "https://app.example.test"},
                {"Origin": f"http://localhost:{port}"},
                {"Host": f"mcp.example.test:{port}"},
                {"Host": "mcp.example.test"},
                {"Host": f"localhost:{port}"},
            ]
            for headers in allowed:
                answer = await raw.post(url, headers={**authed, **headers}, json=INITIALIZE)
                assert answer.status_code == 200, (headers, answer.text)
    assert sandbox.requests("caila") == []
    record_security_check("foreign Host (421) or Origin (403) refused", len(forged) * 2, len(forged) * 2)


def test_a_wildcard_bind_accepts_loopback_names_and_the_named_hosts_only() -> None:
    # The Host/Origin rules computed for binds the tests must not open (every interface, a LAN address).
    wildcard = transport_security("0.0.0.0", ["mcp.example.test", "api.example.test:8443"], [])
    assert wildcard.enable_dns_rebinding_protection
    assert "0.0.0.0:*" not in wildcard.allowed_hosts
    assert {"127.0.0.1:*", "localhost:*", "mcp.example.test", "mcp.example.test:*"} <= set(wildcard.allowed_hosts)
    assert "api.example.test:8443" in wildcard.allowed_hosts
    assert "api.example.test:8443:*" not in wildcard.allowed_hosts
    lan = transport_security("192.168.1.20", [], ["https://app.example.test"])
    assert "192.168.1.20:*" in lan.allowed_hosts
    assert {"http://192.168.1.20:*", "https://app.example.test"} <= set(lan.allowed_origins)
    ipv6 = transport_security("fd00::5", [], [])
    assert "[fd00::5]:*" in ipv6.allowed_hosts


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--allow-origin", "app.example.test"),
        ("--allow-origin", "https://app.example.test/path"),
        ("--allow-host", "https://mcp.example.test"),
        ("--auth-token", "two words"),
    ],
)
def test_malformed_access_flags_stop_the_start(state_dir: Path, flag: str, value: str) -> None:
    done = subprocess.run(
        [*SERVE_HTTP, "--port", "0", flag, value],
        env=server_env({}, state_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert flag.lstrip("-").split("-")[-1] in done.stderr
    assert "serving Streamable HTTP" not in done.stderr
