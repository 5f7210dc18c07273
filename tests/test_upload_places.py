"""Uploads come only from folders the user chose: the client's roots and --allow-dir; never the cwd, never `/`."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.client.stdio import StdioServerParameters, stdio_client

from modelops_mcp.settings.config import allowed_dirs
from tests.support import EXAMPLE_DATA, FAST_ARGS, RunningSandbox, error_of, ok, server_env

pytestmark = pytest.mark.anyio

TRAIN = EXAMPLE_DATA / "sentiment-train.csv"
TEST = EXAMPLE_DATA / "sentiment-test.csv"
RootsCallback = Callable[[ClientRequestContext], Awaitable[types.ListRootsResult]]


@asynccontextmanager
async def server_in_root(
    env: dict[str, str], state_dir: Path, *args: str, roots: RootsCallback | None = None
) -> AsyncIterator[tuple[Client, Path]]:
    """`modelops-mcp serve` over stdio started in `/`, as desktop hosts often start it."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "modelops_mcp", "serve", *FAST_ARGS, *args],
        env=server_env(env, state_dir),
        cwd="/",
    )
    options: dict[str, Any] = {} if roots is None else {"list_roots_callback": roots}
    with tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False) as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy", **options) as client:
            yield client, Path(errlog.name)


def shared(*folders: Path) -> RootsCallback:
    async def roots(context: ClientRequestContext) -> types.ListRootsResult:
        return types.ListRootsResult(
            roots=[types.Root(uri=folder.as_uri(), name=folder.name or "root") for folder in folders]  # type: ignore[arg-type]
        )

    return roots


def uploads_sent(sandbox: RunningSandbox) -> list[Any]:
    return [r for r in sandbox.requests("training") if "/upload_dataset" in r.path]


async def test_started_in_root_without_an_allowed_folder_nothing_is_sent_and_the_error_says_how_to_allow_one(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with server_in_root(sandbox.env(), state_dir) as (client, _):
        await ok(client, "training_start_session")
        absolute = await client.call_tool(
            "training_upload_dataset", {"train_file": "/etc/passwd", "test_file": "/etc/passwd"}
        )
        relative = await client.call_tool(
            "training_upload_dataset", {"train_file": "etc/passwd", "test_file": "etc/passwd"}
        )
    assert uploads_sent(sandbox) == []
    for result in (absolute, relative):
        error = error_of(result)
        assert (error["kind"], error["code"]) == ("config", "no_upload_dir")
        assert "root in your MCP client" in error["message"]
        assert "--allow-dir /path/to/folder" in error["message"]
        assert "MODELOPS_ALLOW_DIRS" in error["message"]
        assert "nothing was sent" in error["message"]


async def test_an_allow_dir_allows_its_folder_and_nothing_outside_it(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with server_in_root(sandbox.env(), state_dir, "--allow-dir", str(EXAMPLE_DATA)) as (client, _):
        await ok(client, "training_start_session")
        refused = await client.call_tool(
            "training_upload_dataset", {"train_file": "/etc/passwd", "test_file": "/etc/passwd"}
        )
        uploaded = await ok(client, "training_upload_dataset", {"train_file": TRAIN.name, "test_file": str(TEST)})
    error = error_of(refused)
    assert (error["kind"], error["code"]) == ("validation", "path_not_allowed")
    assert str(EXAMPLE_DATA) in error["message"]
    assert "--allow-dir" in error["message"]  # how to allow the folder, if that is what the user wants
    assert uploaded["dataset"]["train_rows"] == 40
    assert len(uploads_sent(sandbox)) == 1


async def test_the_clients_roots_allow_their_folder_without_any_allow_dir(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with server_in_root(sandbox.env(), state_dir, roots=shared(EXAMPLE_DATA)) as (client, _):
        await ok(client, "training_start_session")
        refused = await client.call_tool(
            "training_upload_dataset", {"train_file": "/etc/passwd", "test_file": "/etc/passwd"}
        )
        uploaded = await ok(client, "training_upload_dataset", {"train_file": TRAIN.name, "test_file": TEST.name})
    assert error_of(refused)["code"] == "path_not_allowed"
    assert uploaded["dataset"]["train_rows"] == 40


async def test_a_client_root_of_slash_allows_nothing(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with server_in_root(sandbox.env(), state_dir, roots=shared(Path("/"))) as (client, _):
        await ok(client, "training_start_session")
        refused = await client.call_tool(
            "training_upload_dataset", {"train_file": "/etc/passwd", "test_file": "/etc/passwd"}
        )
    assert error_of(refused)["code"] == "no_upload_dir"
    assert uploads_sent(sandbox) == []


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--allow-dir", "/"], {}),
        (["--allow-dir", "/tmp/.."], {}),
        (["--allow-dir", "."], {}),  # `.` when the server starts in `/`
        ([], {"MODELOPS_ALLOW_DIRS": "/"}),
    ],
)
def test_the_filesystem_root_is_refused_at_start_even_when_named(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "modelops_mcp", "serve", *args],
        env=server_env(env, tmp_path / "state"),
        cwd="/",
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "is the filesystem root" in done.stderr
    assert "name the folders that hold your data" in done.stderr
    assert "Traceback" not in done.stderr


async def test_an_explicit_home_directory_is_allowed_with_a_warning(
    sandbox: RunningSandbox, state_dir: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    (home / "data" / "train.csv").write_bytes(TRAIN.read_bytes())
    (home / "data" / "test.csv").write_bytes(TEST.read_bytes())
    env = sandbox.env(HOME=str(home))
    async with server_in_root(env, state_dir, "--allow-dir", "~", "--log-level", "warning") as (client, errlog):
        await ok(client, "training_start_session")
        uploaded = await ok(
            client, "training_upload_dataset", {"train_file": "data/train.csv", "test_file": "data/test.csv"}
        )
        # Outside home (the example data lives in the repository): refused.
        assert error_of(
            await client.call_tool("training_upload_dataset", {"train_file": str(TEST), "test_file": "data/test.csv"})
        )["code"] == ("path_not_allowed")
    assert uploaded["dataset"]["train_rows"] == 40
    assert "uploads may come from anywhere in your home directory" in errlog.read_text()


def test_no_folder_is_allowed_by_default_whatever_the_current_directory() -> None:
    assert allowed_dirs([], env={}) == []
    assert allowed_dirs([], env={"MODELOPS_ALLOW_DIRS": ""}) == []
