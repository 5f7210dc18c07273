"""Serving a ``Sandbox`` over real HTTP with uvicorn, on loopback only, inside the caller's event loop."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator

import anyio
import uvicorn

from .app import Sandbox

__all__ = ["run_sandbox_forever", "serve_sandbox"]

_STARTUP_POLL_SECONDS = 0.005
# In-flight requests get this long to finish when the sandbox shuts down, so a stuck client cannot hang it.
_GRACEFUL_SHUTDOWN_SECONDS = 5
# How long an idle keep-alive connection stays open. uvicorn's default (5 s) equals the official DataRobot
# client's poll sleep (datarobot/utils/waiters.py: time.sleep(5)), so its pooled connection was closed just as it
# was reused and the client saw "Remote end closed connection without response" (about 1 run in 12). Real
# services sit behind proxies that keep idle connections longer (nginx 75 s, AWS ALB 60 s): so does the sandbox.
KEEP_ALIVE_SECONDS = 75


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host process (a test run, an MCP server)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    # Binding here rather than in uvicorn makes port 0 usable: the kernel's choice is known before serving.
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _config(sandbox: Sandbox) -> uvicorn.Config:
    return uvicorn.Config(
        sandbox.app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


async def _serve_until_started(server: uvicorn.Server, sock: socket.socket, done: anyio.Event) -> None:
    try:
        await server.serve(sockets=[sock])
    finally:
        done.set()


async def _wait_started(server: uvicorn.Server, done: anyio.Event) -> None:
    while not server.started:
        if done.is_set():
            raise RuntimeError("the sandbox server stopped before it started serving")
        await anyio.sleep(_STARTUP_POLL_SECONDS)


@contextlib.asynccontextmanager
async def serve_sandbox(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve ``sandbox`` until the block exits; yields the base URL once the server accepts connections.

    Runs on the current (asyncio) event loop; port 0 picks a free port.
    """
    sock = _bind(host, port)
    server = _EmbeddedServer(_config(sandbox))
    done = anyio.Event()
    # An error raised in the caller's block is re-raised as itself once the server has stopped, rather than
    # escaping from inside the task group, which would wrap it in an ExceptionGroup.
    body_error: BaseException | None = None
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_serve_until_started, server, sock, done)
            try:
                await _wait_started(server, done)
                yield _base_url(sock)
            except BaseException as exc:
                body_error = exc
            finally:
                server.should_exit = True
    finally:
        sock.close()
    if body_error is not None:
        raise body_error


async def _serve_forever(sandbox: Sandbox, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    sock = _bind(host, port)
    # The standalone server keeps uvicorn's own signal handling: Ctrl-C / SIGTERM shut it down gracefully.
    server = uvicorn.Server(_config(sandbox))
    done = anyio.Event()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_serve_until_started, server, sock, done)
            await _wait_started(server, done)
            on_ready(_base_url(sock))
    finally:
        sock.close()


def run_sandbox_forever(
    sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0, on_ready: Callable[[str], None] = print
) -> None:
    """Serve ``sandbox`` until interrupted (for the CLI); ``on_ready`` gets the base URL once serving.

    Returns after Ctrl-C; uvicorn re-raises the signal it caught once it has shut down, and for SIGINT that
    surfaces as ``KeyboardInterrupt``, which is the expected way out here rather than an error.
    """
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(_serve_forever, sandbox, host, port, on_ready)
