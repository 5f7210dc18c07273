"""No SSRF: a URL a backend (or an agent) hands over is followed only on the configured endpoint.

An "attacker" listener on another loopback port counts every connection it gets: a Location header, a 303, a
`next` page, an `upload_url` or a crafted path argument naming it must never reach it, and each is refused
with a clear error instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from anyio.abc import SocketStream
from mcp import Client

from modelops_mcp.sandbox import Fault
from modelops_mcp.sandbox.datarobot_state import DEMO_DATASET_ID, DEMO_MODEL_ID, DEMO_VERSION_ID
from tests.support import RunningSandbox, dump, error_of, in_process, structured, wait_for_job

pytestmark = pytest.mark.anyio

TEST_START = {"customModelId": DEMO_MODEL_ID, "customModelVersionId": DEMO_VERSION_ID, "datasetId": DEMO_DATASET_ID}


@asynccontextmanager
async def attacker() -> AsyncIterator[tuple[str, list[int]]]:
    """A listener that answers any HTTP request with 200 {} and counts the connections it accepted."""
    hits: list[int] = []

    async def serve(stream: SocketStream) -> None:
        hits.append(1)
        async with stream:
            body = b'{"status": "COMPLETED", "iterable": []}'
            head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
            await stream.send(head.encode() + body)

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, serve)
        try:
            yield f"http://127.0.0.1:{port}", hits
        finally:
            tg.cancel_scope.cancel()


async def test_a_job_location_on_another_host_is_never_polled(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with attacker() as (evil, hits):
        sandbox.emulators.faults.add(
            Fault(
                backend="datarobot",
                method="POST",
                path=r"^/customModelTests/$",
                status=202,
                body={"statusId": "s1"},
                headers={"Location": f"{evil}/api/v2/status/s1/"},
                times=1,
            )
        )
        async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
            started = await client.call_tool("datarobot_create_custom_model_test", TEST_START)
            if started.is_error:
                assert error_of(started)["code"] == "foreign_url"
            else:
                job = await wait_for_job(client, structured(started)["job"]["id"])
                assert job["status"] == "failed"
                assert "outside datarobot's configured endpoint" in job["message"]
    assert hits == []


async def test_a_finished_jobs_redirect_to_another_host_is_reported_not_fetched(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    server_and_runtime = in_process(sandbox.env(), state_dir)
    async with attacker() as (evil, hits), server_and_runtime as (server, _), Client(server, mode="legacy") as client:
        started = await client.call_tool("datarobot_create_custom_model_test", TEST_START)
        assert not started.is_error, dump(started)
        sandbox.emulators.faults.add(
            Fault(backend="datarobot", method="GET", path=r"^/status/", status=303, headers={"Location": evil})
        )
        job = await wait_for_job(client, structured(started)["job"]["id"])
    assert job["status"] == "completed"
    assert "was not fetched" in job["message"]
    assert job["result"] == {"location": evil}
    assert hits == []


async def test_next_pages_and_upload_urls_on_another_port_are_refused(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with attacker() as (evil, hits):
        record = {"file_id": "f" * 32, "status": "FileCreated", "task_type": "generator", "upload_url": f"{evil}/u"}
        sandbox.emulators.faults.add(
            Fault(backend="tunethemodel", method="POST", path=r"^/v0/files$", status=200, body=record, times=1)
        )
        rows = {"name": "g", "task_type": "generator", "inputs": ["q"] * 32, "outputs": ["a"] * 32}
        async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
            page = await client.call_tool("datarobot_list_custom_models", {"next_page": f"{evil}/customModels/"})
            upload = await client.call_tool("tunethemodel_upload_dataset", rows)
    assert error_of(page)["code"] == "foreign_url"
    assert error_of(upload)["code"] == "upload_url_refused"
    assert hits == []


@pytest.mark.parametrize(
    "account",
    ["http://127.0.0.1:1/x", "//127.0.0.1:1/x", "@127.0.0.1:1", "demo@127.0.0.1:1", "%2F%2F127.0.0.1:1", "demo#@evil"],
)
async def test_path_arguments_cannot_move_a_call_to_another_host(
    sandbox: RunningSandbox, state_dir: Path, account: str
) -> None:
    """Whatever an argument holds, the request goes to the configured host, with the value as one path segment."""
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        await client.call_tool("caila_list_datasets", {"account": account})
    sent = sandbox.requests("caila")
    assert len(sent) == 1
    assert sent[0].path.startswith("/caila/api/mlpgate/account/")
    assert sent[0].path.endswith("/dataset")
