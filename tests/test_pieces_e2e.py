"""Pieces OS through a real MCP client: download with WebSocket progress, load, cancel, failures, discovery."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from modelops_mcp.sandbox import Sandbox, serve_sandbox
from modelops_mcp.sandbox import pieces as pieces_emulator
from modelops_mcp.sandbox.faults import Fault
from modelops_mcp.sandbox.pieces_data import GPT_4O_ID, LLAMA_3_8B_ID, MISTRAL_7B_ID, PHI_3_MINI_ID, PiecesState
from tests.support import RunningSandbox, error_of, in_process, structured, text_of, wait_for_job

pytestmark = pytest.mark.anyio


def pieces_state(sandbox: RunningSandbox) -> PiecesState:
    state = sandbox.emulators.state("pieces")
    assert isinstance(state, PiecesState)
    return state


async def tick_clock(sandbox: RunningSandbox, step_s: float, steps: int, pause_s: float = 0.05) -> None:
    """Move the simulated clock in steps, so the progress socket has something to report between them."""
    for _ in range(steps):
        await anyio.sleep(pause_s)
        sandbox.emulators.clock.advance(step_s)


async def start_download(client: Client, model: str) -> dict[str, Any]:
    result = await client.call_tool("pieces_download_model", {"model": model})
    assert not result.is_error, result
    body = structured(result)
    assert body["id"] == model
    assert body["downloading"] is True
    handle: dict[str, Any] = body["job"]
    return handle


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_download_follows_websocket_progress_then_the_model_loads(
    sandbox: RunningSandbox, state_dir: Path, mode: str
) -> None:
    progress: list[tuple[float, str | None]] = []
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode=mode) as client:
        listed = structured(await client.call_tool("pieces_list_models", {}))["iterable"]
        assert {m["id"] for m in listed} >= {LLAMA_3_8B_ID, PHI_3_MINI_ID, GPT_4O_ID}
        handle = await start_download(client, LLAMA_3_8B_ID)
        async with anyio.create_task_group() as tg:
            tg.start_soon(tick_clock, sandbox, 9.0, 12)  # 90 simulated seconds in ten-percent steps
            job = await wait_for_job(client, handle["id"], progress)
        loaded = await client.call_tool("pieces_load_model", {"model": LLAMA_3_8B_ID})

    assert job["status"] == "completed"
    assert job["state"] == "COMPLETED"
    assert job["progress"] == 1.0
    assert job["result"]["downloaded"] is True  # the model as it stands once the download ended
    assert job["polls"]["count"] == 0  # every update came over the socket: not one status poll
    percentages = [message for _, message in progress if message and "downloading:" in message]
    assert len(percentages) >= 3, progress
    values = [value for value, _ in progress]
    assert values == sorted(values)
    assert pieces_state(sandbox).sockets_opened == 1
    snapshots = [r for r in sandbox.requests("pieces") if r.method == "GET" and r.path.endswith(LLAMA_3_8B_ID)]
    # One as the socket opened (a download that ended before it is only in the snapshot), one for the result.
    assert len(snapshots) == 2
    assert not loaded.is_error, loaded
    assert structured(loaded)["loaded"] is True


async def test_a_socket_dropped_mid_download_still_ends_the_job(sandbox: RunningSandbox, state_dir: Path) -> None:
    state = pieces_state(sandbox)
    state.drop_sockets_after = 2  # every socket dies after two frames, without a terminal frame
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        handle = await start_download(client, LLAMA_3_8B_ID)
        async with anyio.create_task_group() as tg:
            tg.start_soon(tick_clock, sandbox, 9.0, 12)
            job = await wait_for_job(client, handle["id"])

    assert job["status"] == "completed"
    assert job["result"]["downloaded"] is True
    assert job["polls"]["count"] >= 1  # the snapshot polls took over from the dropped socket
    assert 1 < state.sockets_opened <= 3  # reopened after a drop, but never more than the bound


async def test_cancelling_a_download_job_cancels_it_in_pieces(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        handle = await start_download(client, LLAMA_3_8B_ID)
        sandbox.emulators.clock.advance(30)
        cancelled = structured(await client.call_tool("jobs_cancel", {"job_id": handle["id"]}))
        model = structured(await client.call_tool("pieces_get_model", {"model": LLAMA_3_8B_ID}))

    assert cancelled["job"]["status"] == "cancelled"
    assert cancelled["backend_cancelled"] is True
    cancels = [r for r in sandbox.requests("pieces") if r.path.endswith(f"/model/{LLAMA_3_8B_ID}/download/cancel")]
    assert len(cancels) == 1
    assert model["downloading"] is False
    assert model["downloaded"] is False


async def test_a_failing_download_ends_the_job_failed_with_the_percentage(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        handle = await start_download(client, MISTRAL_7B_ID)
        async with anyio.create_task_group() as tg:
            tg.start_soon(tick_clock, sandbox, 8.0, 8)
            job = await wait_for_job(client, handle["id"])
        load = await client.call_tool("pieces_load_model", {"model": MISTRAL_7B_ID})

    assert job["status"] == "failed"
    assert job["state"] == "FAILED"
    assert "40%" in job["message"]
    assert job["error"]["code"] == "job_failed"
    # Loading a model that is not on disk fails the way the runtime words it.
    error = error_of(load)
    assert (error["kind"], error["status"]) == ("conflict", 409)
    assert "not downloaded" in error["message"]


async def test_a_download_that_ends_before_the_socket_opens_ends_the_job_at_once(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    # Pieces keeps a socket opened on a model that is not downloading open and silent until a download
    # starts, so a follower that joins after the download ended learns the outcome from the snapshot.
    # The socket's handshake waits 1.5 s (WebSocket faults are `ws_close` ones; this one never closes): longer
    # than the start call waits for the job's first update (READ_WAIT_S), so the call returns before it opens.
    delayed = Fault(backend="pieces", method="WS", kind="ws_close", frames=1000, delay_s=1.5, times=1)
    sandbox.emulators.faults.add(delayed)
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        handle = await start_download(client, MISTRAL_7B_ID)
        sandbox.emulators.clock.advance(3600)  # it fails at 40 %, before the delayed socket opens
        with anyio.fail_after(10):  # not SILENCE_S (60 s) on a silent socket
            job = await wait_for_job(client, handle["id"])

    assert job["status"] == "failed"
    assert "not downloaded" in job["message"]
    assert (delayed.hits, pieces_state(sandbox).sockets_opened) == (1, 1)


async def test_cloud_models_are_refused_with_the_backends_reason(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, runtime), Client(server, mode="legacy") as client:
        result = await client.call_tool("pieces_download_model", {"model": GPT_4O_ID})
        jobs, _ = runtime.jobs.store.page(limit=10)
    error = error_of(result)
    assert (error["kind"], error["status"]) == ("validation", 400)
    assert "cloud model" in error["message"]
    assert jobs == []  # a refused start creates no job


async def test_a_malformed_model_id_is_refused_before_any_request(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        result = await client.call_tool("pieces_load_model", {"model": "../../models"})
    assert error_of(result)["kind"] == "validation"
    assert sandbox.requests("pieces") == []


def _free_port_in(low: int, high: int) -> int | None:
    for port in range(low, high + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return None


async def test_without_a_url_pieces_os_is_found_by_probing_its_ports(state_dir: Path) -> None:
    port = _free_port_in(39300, 39333)
    if port is None:
        pytest.fail("every port in 39300-39333 is taken on this machine; cannot run the discovery test")
    # Pieces OS serves its API at the root of its port, so the emulator is mounted at "/" here.
    at_root = Sandbox(speed=0, emulators=[dataclasses.replace(pieces_emulator.SPEC, prefix="")])
    async with (
        serve_sandbox(at_root, port=port),
        in_process({}, state_dir, toolsets=["configured", "pieces"]) as (server, runtime),
        Client(server, mode="legacy") as client,
    ):
        result = await client.call_tool("pieces_get_model", {"model": PHI_3_MINI_ID})
        found = runtime.clients["pieces"].known_base_url
    assert not result.is_error, result
    assert structured(result)["downloaded"] is True
    assert found == f"http://localhost:{port}"


async def test_without_a_url_and_no_pieces_os_running_the_error_says_what_to_do(state_dir: Path) -> None:
    # Pieces OS chosen by name, with no URL: its ports are searched (exposure.py).
    pieces = ["configured", "pieces"]
    async with in_process({}, state_dir, toolsets=pieces) as (server, _), Client(server, mode="legacy") as client:
        with anyio.fail_after(10):  # refused connections on loopback: the probe must be quick
            result = await client.call_tool("pieces_list_models", {})
    error = error_of(result)
    assert error["kind"] == "network"
    assert error["code"] == "not_running"
    assert "PIECES_OS_URL" in error["message"]
    assert "39300-39333" in text_of(result)
