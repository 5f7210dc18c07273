"""Upload files are read in a worker thread, never on the event loop (issue 18 item 5): the body httpx sends is
byte for byte the one it builds, with its own Content-Length, and the file arrives intact at the sandbox."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path
from typing import Any, cast

import anyio
import httpx
import pytest
from mcp import Client

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.calls.request import build_request
from modelops_mcp.settings.config import Settings
from tests.support import RunningSandbox, in_process, ok

pytestmark = pytest.mark.anyio


class ReadsSeen(io.FileIO):
    """A real file that notes the thread of every read httpx makes of it."""

    def __init__(self, path: Path, threads: list[str]) -> None:
        super().__init__(path, "r")
        self.threads = threads

    def read(self, size: int | None = -1, /) -> bytes:
        self.threads.append(threading.current_thread().name)
        return super().read(size)


def httpx_body(path: Path, content_type: str) -> bytes:
    """httpx's own body for the file, with the same boundary, read the blocking way."""
    with path.open("rb") as handle:
        plain = httpx.Request(
            "POST", "http://x/", headers={"Content-Type": content_type}, files={"file": (path.name, handle, "text/csv")}
        )
        assert isinstance(plain.stream, httpx.SyncByteStream)
        return b"".join(plain.stream)


async def test_a_multipart_file_is_read_off_the_loop_into_the_same_body(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)  # several worker-thread batches, and a ragged end
    path = tmp_path / "train.csv"
    path.write_bytes(data)
    catalog = load_settings_catalog(Settings(state_dir=tmp_path))
    op = next(o for o in catalog.every_operation() if o.tool_name == "datarobot_upload_dataset")
    threads: list[str] = []
    with ReadsSeen(path, threads) as handle:
        request = build_request(op, {"file": str(path)}, "http://127.0.0.1:9/api/v2", {"file": (path, handle)})
        assert isinstance(request.stream, httpx.AsyncByteStream)
        sent = b"".join([chunk async for chunk in request.stream])  # as httpx's AsyncClient sends it
        loop_thread = threading.current_thread().name
        assert threads
        assert loop_thread not in threads  # every read in a worker thread
        expected = httpx_body(path, request.headers["content-type"])
    assert int(request.headers["content-length"]) == len(sent)
    assert sent == expected
    assert data in sent


@pytest.mark.filterwarnings("ignore:ping is removed")
async def test_an_uploaded_file_arrives_intact_while_another_session_is_served(
    sandbox: RunningSandbox, state_dir: Path, tmp_path: Path
) -> None:
    rows = [f"{i},review number {i} {'x' * (i % 50)},{i % 2}" for i in range(120_000)]
    data = ("id,text,label\n" + "\n".join(rows) + "\n").encode()  # about 6 MiB, under the sandbox's 10
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    pings = 0
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[tmp_path]) as (server, _),
        Client(server, mode="legacy") as uploader,
        Client(server, mode="legacy") as other,
    ):
        done = anyio.Event()

        async def ping_meanwhile() -> None:
            nonlocal pings
            while not done.is_set() and pings < 10_000:
                await other.send_ping()
                pings += 1

        async with anyio.create_task_group() as tg:
            tg.start_soon(ping_meanwhile)
            started = await ok(uploader, "datarobot_upload_dataset", {"file": str(path)})
            done.set()
    stored = cast(Any, sandbox.emulators.state("datarobot")).datasets[started["catalogId"]]
    assert stored.data == data
    assert pings >= 1  # the other session was answered while the upload ran
