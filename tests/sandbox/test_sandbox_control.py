"""The sandbox as a whole: serving, control endpoints, the request log over HTTP, env and configuration."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest
from anyio.abc import ByteStream
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

import modelops_mcp.sandbox
from modelops_mcp.sandbox import (
    EMULATORS,
    SANDBOX_API_KEY,
    SPEED_ENV,
    Emulator,
    EmulatorContext,
    EmulatorSpec,
    Sandbox,
    serve_sandbox,
)
from modelops_mcp.sandbox.caila_data import CailaState
from modelops_mcp.sandbox.log import BODY_LIMIT
from modelops_mcp.sandbox.runner import KEEP_ALIVE_SECONDS

pytestmark = pytest.mark.anyio


async def test_serve_sandbox_yields_a_loopback_url_and_closes_the_port_on_exit() -> None:
    async with serve_sandbox(Sandbox(speed=0)) as url:
        assert url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient() as client:
            response = await client.get(url + "/_sandbox/health")
        assert response.status_code == 200
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(url + "/_sandbox/health")


async def test_serve_sandbox_shuts_down_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with serve_sandbox(Sandbox(speed=0)) as url:
            raise RuntimeError("boom")
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(url + "/_sandbox/health")


async def _health_over(stream: ByteStream) -> bytes:
    """One GET on an open connection; the response head (empty when the server had closed the connection)."""
    await stream.send(b"GET /_sandbox/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    received = b""
    with anyio.fail_after(10):
        while b"\r\n\r\n" not in received:
            try:
                received += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError):
                break
    return received.partition(b"\r\n\r\n")[0]


async def test_an_idle_connection_outlives_a_five_second_poll_sleep() -> None:
    # The official DataRobot client sleeps 5 s between status polls and reuses its pooled connection: uvicorn's
    # default keep-alive (5 s) closed it at that very moment, and the client saw the connection dropped.
    assert KEEP_ALIVE_SECONDS > 5
    async with serve_sandbox(Sandbox(speed=0)) as url:
        host, port = url.removeprefix("http://").split(":")
        async with await anyio.connect_tcp(host, int(port)) as stream:
            assert (await _health_over(stream)).startswith(b"HTTP/1.1 200")
            await anyio.sleep(5.5)
            assert (await _health_over(stream)).startswith(b"HTTP/1.1 200")


async def test_health_lists_backends_speed_and_clock(control: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.clock.advance(42)
    body = (await control.get("/_sandbox/health")).json()
    assert body == {
        "status": "ok",
        "backends": {
            "caila": "/caila",
            "training": "/training",
            "pieces": "/pieces",
            "tunethemodel": "/tunethemodel",
            "datarobot": "/datarobot/api/v2",
        },
        "speed": 0,
        "clock": 42.0,
    }


async def test_requests_are_logged_with_prefix_query_lowercased_headers_and_parsed_body(
    control: httpx.AsyncClient, caila: httpx.AsyncClient
) -> None:
    await caila.post("/account/demo/model/text-classifier/derived", params={"name": "logged", "hidden": "false"})
    await caila.post("/account/demo/model/text-classifier/fit", json={"datasetId": 501}, headers={"X-Trace": "t1"})
    log = (await control.get("/_sandbox/requests")).json()
    assert log["count"] == 2
    derived, fit = log["requests"]
    assert derived["backend"] == "caila"
    assert derived["method"] == "POST"
    assert derived["path"] == "/caila/api/mlpgate/account/demo/model/text-classifier/derived"
    assert derived["query"] == {"name": "logged", "hidden": "false"}
    assert derived["body"] is None
    assert derived["status"] == 200
    assert fit["headers"]["mlp-api-key"] == SANDBOX_API_KEY
    assert fit["headers"]["x-trace"] == "t1"
    assert fit["body"] == {"datasetId": 501}
    assert fit["seq"] > derived["seq"]


async def test_rejected_requests_are_logged_with_their_status_and_body(
    control: httpx.AsyncClient, base_url: str, sandbox: Sandbox
) -> None:
    async with httpx.AsyncClient(base_url=base_url) as anonymous:
        response = await anonymous.post("/caila/api/mlpgate/account/demo/model/42/fit", json={"datasetId": 501})
    assert response.status_code == 401
    (entry,) = sandbox.log.entries("caila")
    assert entry.status == 401
    assert entry.body == {"datasetId": 501}
    assert "mlp-api-key" not in entry.headers


async def test_control_paths_are_not_logged_and_stray_paths_are(control: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await control.get("/_sandbox/health")
    response = await control.get("/api/mlpgate/account/demo/dataset")  # a client that forgot the /caila mount
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    entries = sandbox.log.entries()
    assert [(e.backend, e.path, e.status) for e in entries] == [(None, "/api/mlpgate/account/demo/dataset", 404)]


async def test_requests_filter_by_backend_and_delete_clears(
    control: httpx.AsyncClient, caila: httpx.AsyncClient
) -> None:
    await caila.get("/account/demo/dataset")
    await control.get("/not-a-backend")
    assert (await control.get("/_sandbox/requests", params={"backend": "caila"})).json()["count"] == 1
    assert (await control.get("/_sandbox/requests", params={"backend": "pieces"})).json()["count"] == 0
    assert (await control.get("/_sandbox/requests")).json()["count"] == 2
    assert (await control.delete("/_sandbox/requests")).json() == {"cleared": 2}
    assert (await control.get("/_sandbox/requests")).json() == {"count": 0, "requests": []}


async def test_clock_advance_endpoint_moves_the_simulated_clock(control: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await control.post("/_sandbox/clock/advance", json={"seconds": 90})
    assert response.status_code == 200
    assert response.json()["now"] == 90.0
    assert sandbox.clock.now() == 90.0
    assert (await control.get("/_sandbox/clock")).json() == {"now": 90.0, "speed": 0.0}


@pytest.mark.parametrize("payload", [{"seconds": -5}, {"seconds": "10"}, {"seconds": True}, {}, [1]])
async def test_clock_advance_rejects_bad_input(control: httpx.AsyncClient, sandbox: Sandbox, payload: object) -> None:
    response = await control.post("/_sandbox/clock/advance", json=payload)
    assert response.status_code == 400
    assert "error" in response.json()
    assert sandbox.clock.now() == 0.0


async def test_clock_advance_rejects_malformed_json(control: httpx.AsyncClient) -> None:
    response = await control.post("/_sandbox/clock/advance", content=b"{", headers={"content-type": "application/json"})
    assert response.status_code == 400


def test_env_points_clients_at_each_mount_with_the_sandbox_key() -> None:
    assert Sandbox(speed=0).env("http://127.0.0.1:8123/") == {
        "CAILA_BASE_URL": "http://127.0.0.1:8123/caila",
        "CAILA_API_KEY": SANDBOX_API_KEY,
        # Neither backend has an API key: the Training Module checks a session key, Pieces OS is local.
        "TRAINING_MODULE_URL": "http://127.0.0.1:8123/training",
        "PIECES_OS_URL": "http://127.0.0.1:8123/pieces",
        "TTM_API_URL": "http://127.0.0.1:8123/tunethemodel",
        "TTM_API_KEY": SANDBOX_API_KEY,
        # DataRobot's client reads an endpoint that ends in /api/v2.
        "DATAROBOT_ENDPOINT": "http://127.0.0.1:8123/datarobot/api/v2",
        "DATAROBOT_API_TOKEN": SANDBOX_API_KEY,
    }


def test_env_hands_out_the_pinned_key() -> None:
    env = Sandbox(speed=0, api_keys={"caila": "pinned-123"}).env("http://127.0.0.1:1")
    assert env["CAILA_API_KEY"] == "pinned-123"


def test_from_env_reads_the_speed_and_defaults_to_sixty() -> None:
    assert Sandbox.from_env({}).clock.speed == 60.0
    assert Sandbox.from_env({SPEED_ENV: "600"}).speed == 600.0
    assert Sandbox.from_env({SPEED_ENV: "0"}).clock.speed == 0.0
    with pytest.raises(ValueError, match=SPEED_ENV):
        Sandbox.from_env({SPEED_ENV: "fast"})
    with pytest.raises(ValueError, match=SPEED_ENV):
        Sandbox.from_env({SPEED_ENV: "-1"})


def test_each_sandbox_starts_from_the_same_seed() -> None:
    first, second = Sandbox(speed=0).state("caila"), Sandbox(speed=0).state("caila")
    assert isinstance(first, CailaState)
    assert isinstance(second, CailaState)
    assert first is not second
    assert first.models == second.models
    assert first.datasets == second.datasets
    assert first.fit_configs == second.fit_configs


def test_run_sandbox_forever_serves_until_interrupted_then_returns() -> None:
    src = Path(modelops_mcp.sandbox.__file__).resolve().parents[2]
    code = (
        "from modelops_mcp.sandbox import Sandbox, run_sandbox_forever\n"
        "run_sandbox_forever(Sandbox(speed=0), on_ready=lambda url: print(url, flush=True))\n"
        "print('stopped', flush=True)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/_sandbox/health").json()["status"] == "ok"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read().strip() == "stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


# --- a stand-in emulator: registration, large uploads and streaming responses through the log middleware ----


def _echo_build(ctx: EmulatorContext) -> Emulator:
    async def upload(request: Request) -> Response:
        size = len(await request.body())

        async def chunks() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"chunk{i}:{size};".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    return Emulator(app=Starlette(routes=[Route("/upload", upload, methods=["POST"])]), state={})


ECHO = EmulatorSpec(name="echo", prefix="/echo", url_env="ECHO_URL", key_env=None, build=_echo_build)


async def test_a_registered_emulator_gets_large_bodies_whole_and_streams_while_the_log_keeps_the_head() -> None:
    sandbox = Sandbox(speed=0, emulators=[*EMULATORS, ECHO])
    payload = b"x" * (BODY_LIMIT * 3)
    async with (
        serve_sandbox(sandbox) as url,
        httpx.AsyncClient(base_url=url) as client,
        client.stream("POST", "/echo/upload", content=payload) as response,
    ):
        text = "".join([part async for part in response.aiter_text()])
    assert text == "".join(f"chunk{i}:{len(payload)};" for i in range(3))
    (entry,) = sandbox.log.entries("echo")
    assert (entry.path, entry.status, entry.body_truncated) == ("/echo/upload", 200, True)
    assert entry.body == "x" * BODY_LIMIT
    assert sandbox.env("http://h:1") == {
        "CAILA_BASE_URL": "http://h:1/caila",
        "CAILA_API_KEY": SANDBOX_API_KEY,
        "TRAINING_MODULE_URL": "http://h:1/training",
        "PIECES_OS_URL": "http://h:1/pieces",
        "TTM_API_URL": "http://h:1/tunethemodel",
        "TTM_API_KEY": SANDBOX_API_KEY,
        "DATAROBOT_ENDPOINT": "http://h:1/datarobot/api/v2",
        "DATAROBOT_API_TOKEN": SANDBOX_API_KEY,
        "ECHO_URL": "http://h:1/echo",
    }


def test_two_emulators_with_one_name_are_refused() -> None:
    with pytest.raises(ValueError, match="echo"):
        Sandbox(speed=0, emulators=[ECHO, ECHO])
