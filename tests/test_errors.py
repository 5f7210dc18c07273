"""Backend failures come back as structured isError results, retries happen only where safe, and the server
keeps serving afterwards."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from mcp import Client

from modelops_mcp.sandbox import Fault, Sandbox, serve_sandbox
from modelops_mcp.settings.config import Limits
from tests.support import RunningSandbox, error_of, in_process, text_of

pytestmark = pytest.mark.anyio

DATASETS = {"account": "demo"}
FIT = {"account": "demo", "model": "text-classifier", "datasetId": 501}
FAST = Limits(retry_base_delay_s=0.01, retry_max_delay_s=0.05)


async def test_a_500_is_a_backend_error_not_retried_and_the_next_call_succeeds(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    sandbox.emulators.faults.add(
        Fault(backend="caila", path="/dataset$", status=500, body={"message": "database is on fire"}, times=1)
    )
    async with in_process(sandbox.env(), state_dir, FAST) as (server, _), Client(server, mode="legacy") as client:
        error = error_of(await client.call_tool("caila_list_datasets", DATASETS))
        assert (error["kind"], error["status"], error["retryable"]) == ("backend", 500, False)
        assert error["message"] == "database is on fire"
        assert len(sandbox.requests("caila")) == 1
        assert not (await client.call_tool("caila_list_datasets", DATASETS)).is_error


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_idempotent_calls_are_retried_on_transient_statuses(
    sandbox: RunningSandbox, state_dir: Path, status: int
) -> None:
    sandbox.emulators.faults.add(Fault(backend="caila", method="GET", status=status, times=2))
    async with in_process(sandbox.env(), state_dir, FAST) as (server, _), Client(server, mode="legacy") as client:
        result = await client.call_tool("caila_list_datasets", DATASETS)
    assert not result.is_error
    assert [r.status for r in sandbox.requests("caila")] == [status, status, 200]


async def test_non_idempotent_calls_are_never_retried(sandbox: RunningSandbox, state_dir: Path) -> None:
    sandbox.emulators.faults.add(Fault(backend="caila", method="POST", status=503, times=1))
    async with in_process(sandbox.env(), state_dir, FAST) as (server, _), Client(server, mode="legacy") as client:
        error = error_of(await client.call_tool("caila_fit_service", FIT))
        assert (error["kind"], error["status"], error["retryable"]) == ("backend", 503, True)
        assert len(sandbox.requests("caila")) == 1
        assert not (await client.call_tool("caila_fit_service", FIT)).is_error


async def test_retries_stop_after_the_configured_attempts(sandbox: RunningSandbox, state_dir: Path) -> None:
    sandbox.emulators.faults.add(Fault(backend="caila", status=502))
    async with in_process(sandbox.env(), state_dir, FAST) as (server, _), Client(server, mode="legacy") as client:
        error = error_of(await client.call_tool("caila_list_datasets", DATASETS))
    assert (error["kind"], error["status"], error["retryable"]) == ("backend", 502, True)
    assert len(sandbox.requests("caila")) == FAST.max_attempts


async def test_a_long_retry_after_is_handed_to_the_agent(sandbox: RunningSandbox, state_dir: Path) -> None:
    sandbox.emulators.faults.add(Fault(backend="caila", status=429, headers={"Retry-After": "120"}, times=1))
    async with in_process(sandbox.env(), state_dir, FAST) as (server, _), Client(server, mode="legacy") as client:
        result = await client.call_tool("caila_list_datasets", DATASETS)
    error = error_of(result)
    assert (error["kind"], error["retry_after"], error["retryable"]) == ("rate_limited", 120, True)
    assert "Retry after 120s" in text_of(result)
    assert len(sandbox.requests("caila")) == 1


async def test_an_html_error_page_does_not_reach_the_agent(sandbox: RunningSandbox, state_dir: Path) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
    sandbox.emulators.faults.add(Fault(backend="caila", method="POST", status=502, body=page))
    async with in_process(sandbox.env(), state_dir, FAST) as (server, _), Client(server, mode="legacy") as client:
        error = error_of(await client.call_tool("caila_fit_service", FIT))
    assert error["status"] == 502
    assert "<" not in error["message"]


async def test_a_response_off_the_documented_schema_is_a_success_shown_with_the_body(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    """A 2xx is the backend's work done: never an error an agent would retry, whatever its body looks like."""
    sandbox.emulators.faults.add(Fault(backend="caila", path="/job/", status=200, body={"jobId": "x"}))
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        result = await client.call_tool("caila_get_job_status", {"account": "demo", "jobId": 1})
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["jobId"] is None
    assert '"jobId":"x"' in text_of(result)
    assert "Do not repeat the call" in text_of(result)


async def test_wrong_key_is_an_auth_error(state_dir: Path) -> None:
    emulators = Sandbox(speed=0, api_keys={"caila": "the-right-key"})
    async with serve_sandbox(emulators) as url:
        env = {**emulators.env(url), "CAILA_API_KEY": "a-wrong-key"}
        async with in_process(env, state_dir) as (server, _), Client(server, mode="legacy") as client:
            error = error_of(await client.call_tool("caila_list_datasets", DATASETS))
            assert (error["kind"], error["status"], error["retryable"]) == ("auth", 401, False)
            assert "a-wrong-key" not in error["message"]
            assert "***" in error["message"]  # the emulator echoed the key back; we masked it
            assert len(emulators.log.entries("caila")) == 1


async def test_a_missing_credential_is_a_config_error_and_nothing_is_sent(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    env = {k: v for k, v in sandbox.env().items() if k != "CAILA_API_KEY"}
    async with in_process(env, state_dir) as (server, _), Client(server, mode="legacy") as client:
        error = error_of(await client.call_tool("caila_list_datasets", DATASETS))
    assert error["kind"] == "config"
    assert "CAILA_API_KEY" in error["message"]
    assert sandbox.requests() == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_connection_refused_then_the_backend_comes_back(state_dir: Path) -> None:
    port = _free_port()
    emulators = Sandbox(speed=0)
    env = emulators.env(f"http://127.0.0.1:{port}")
    async with in_process(env, state_dir, FAST) as (server, _), Client(server, mode="legacy") as client:
        error = error_of(await client.call_tool("caila_list_datasets", DATASETS))
        assert (error["kind"], error["retryable"]) == ("network", True)
        assert f"127.0.0.1:{port}" in error["message"]
        async with serve_sandbox(emulators, port=port):
            assert not (await client.call_tool("caila_list_datasets", DATASETS)).is_error


async def test_a_slow_backend_times_out_and_the_next_call_succeeds(sandbox: RunningSandbox, state_dir: Path) -> None:
    sandbox.emulators.faults.add(Fault(backend="caila", delay_s=1.5, times=1))
    limits = Limits(read_timeout_s=0.3)
    async with in_process(sandbox.env(), state_dir, limits) as (server, _), Client(server, mode="legacy") as client:
        error = error_of(await client.call_tool("caila_list_datasets", DATASETS))
        assert (error["kind"], error["retryable"]) == ("timeout", True)
        # A read timeout is not retried: the request may have been acted on.
        ok = await client.call_tool("caila_list_datasets", DATASETS)
        assert not ok.is_error
