"""The agent of the journey tests: it knows only what the server told it, and every tools/call it sends is counted.

An LLM agent sees the user's request, the tool list, and the results and errors of its own calls; nothing else.
`Agent` holds exactly that and refuses a step it could not have found there: in default mode a tool must be
listed or named by an earlier result; in search mode an operation must be among the top three hits of a query
the agent sent to ops_search (or named as what follows one of them), and described by ops_describe before
ops_call runs it. An id argument must have appeared in the request or an earlier result, so no journey can
hard-code what the server makes up.

The count is taken twice: by the agent, and on the wire (a middleware of the in-process server, or the client's
side of the stdio transport to `serve --sandbox`); a journey asserts both agree, so a call made around the
agent cannot go uncounted.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import mcp_types as types
from mcp import Client
from mcp.client._transport import TransportStreams, WriteStream
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.message import SessionMessage

from modelops_mcp.sandbox import SPEED_ENV, Sandbox, serve_sandbox
from tests.support import FAST_ARGS, RunningSandbox, in_process, server_env, text_of

Mode = Literal["default", "search"]
MODES: tuple[Mode, ...] = ("default", "search")
# A needed operation must rank this high for the query the agent sent.
TOP = 3
# One jobs_wait call at most this long; the agent calls it again on a timeout (each call counts).
WAIT_S = 30.0
# The sandbox clock of the journeys: a simulated 5-minute Caila fit takes half a real second.
FAST_SPEED = 600.0


class CallCounter:
    """Server middleware: counts the tools/call requests that reach the server, whoever sent them."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call" and ctx.request_id is not None:
            self.calls += 1
        return await call_next(ctx)


class _CountingWrite:
    """The client's side of a transport: counts the tools/call requests it writes to a server out of reach."""

    def __init__(self, inner: WriteStream[SessionMessage], counter: CallCounter) -> None:
        self._inner = inner
        self._counter = counter

    async def send(self, item: SessionMessage, /) -> None:
        if isinstance(item.message, types.JSONRPCRequest) and item.message.method == "tools/call":
            self._counter.calls += 1
        await self._inner.send(item)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _CountingWrite:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


@asynccontextmanager
async def _counted_stdio(params: StdioServerParameters, counter: CallCounter) -> AsyncIterator[TransportStreams]:
    with tempfile.TemporaryFile("w+") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            yield read, _CountingWrite(write, counter)


class Agent:
    """Drives one chat request through MCP calls only, in default or search mode."""

    def __init__(self, client: Client, mode: Mode, request: str, counter: CallCounter) -> None:
        self.client = client
        self.mode = mode
        self.counter = counter
        self.steps: list[str] = []  # every tools/call sent, by tool name (ops_call as "ops_call:<operation>")
        self._read: list[str] = [request]  # what the agent has read: the request, then every result
        self._listed: set[str] = set()
        self._found: set[str] = set()  # search mode: operations shown by a query of ours (top TOP and their next)
        self._described: dict[str, dict[str, Any]] = {}
        self._counted_from = counter.calls

    async def start(self) -> None:
        """tools/list, as every host does before the conversation (not a tools/call: not counted)."""
        tools = (await self.client.list_tools()).tools
        self._listed = {tool.name for tool in tools}
        self._read.append(json.dumps([t.model_dump(by_alias=True, mode="json") for t in tools]))
        self._counted_from = self.counter.calls

    @property
    def calls(self) -> int:
        """tools/call requests the server received since start(); equal to the agent's own count."""
        counted = self.counter.calls - self._counted_from
        assert counted == len(self.steps), (counted, self.steps)
        return counted

    def knows(self, value: object) -> bool:
        return str(value) in "\n".join(self._read)

    # ---- the calls ------------------------------------------------------------------------------

    async def call(self, tool: str, arguments: dict[str, Any], *, ids: Sequence[str] = ()) -> types.CallToolResult:
        """One tools/call of a tool the agent can name: listed, or named in something it has read."""
        assert tool in self._listed or self.knows(tool), f"{tool} was neither listed nor named in a result"
        self._check_ids(tool, arguments, ids)
        result = await self.client.call_tool(tool, arguments)
        self.steps.append(tool if tool != "ops_call" else f"ops_call:{arguments['name']}")
        self._read.append(text_of(result))
        if result.structured_content is not None:
            self._read.append(json.dumps(result.structured_content))
        return result

    async def find(self, query: str, *operations: str, backend: str | None = None) -> None:
        """Search mode: ops_search with a user's wording, unless an earlier search already showed every
        operation named; each one not yet seen must rank in the top TOP of this query.

        Default mode: nothing to call, the tool list already shows every operation; each must be listed."""
        if self.mode == "default":
            missing = [op for op in operations if op not in self._listed]
            assert not missing, f"not in the tool list: {missing}"
            return
        unseen = [op for op in operations if op not in self._found]
        if not unseen:
            return  # a better ranking that showed it earlier saves this search
        arguments: dict[str, Any] = {"query": query}
        if backend is not None:
            arguments["backend"] = backend
        found = _body(await self.call("ops_search", arguments))
        hits = found["operations"][:TOP]
        top = [hit["name"] for hit in hits]
        missing = [op for op in unseen if op not in top]
        assert not missing, f"ops_search {arguments} ranked {top} first, without {missing}"
        # The agent read every hit it was shown, not just the one it looked for, and what each says follows it.
        self._found.update(top, *(hit.get("next") or () for hit in hits))

    async def learn(self, *operations: str) -> None:
        """Search mode: one ops_describe of the operations found and not yet described (their arguments)."""
        if self.mode == "default":
            return
        wanted = [op for op in operations if op not in self._described]
        unfound = [op for op in wanted if op not in self._found]
        assert not unfound, f"described before any search found them: {unfound}"
        if not wanted:
            return
        described = _body(await self.call("ops_describe", {"names": wanted}))
        for op in described["operations"]:
            assert op["input_schema"]["type"] == "object", op
            self._described[op["name"]] = op
        assert set(wanted) <= set(self._described), (wanted, list(self._described))

    async def run(self, operation: str, arguments: dict[str, Any], *, ids: Sequence[str] = ()) -> dict[str, Any]:
        """One backend operation that must succeed: its own tool, or ops_call in search mode."""
        if self.mode == "default":
            return _body(await self.call(operation, arguments, ids=ids))
        assert operation in self._found, f"{operation}: no query of the agent's found it"
        schema = self._described[operation]["input_schema"]  # KeyError: called before ops_describe
        unknown = set(arguments) - set(schema.get("properties", {}))
        assert not unknown, f"{operation}: arguments its description does not name: {unknown}"
        self._check_ids(operation, arguments, ids)
        return _body(await self.call("ops_call", {"name": operation, "arguments": arguments}))

    async def wait(self, started: Mapping[str, Any]) -> dict[str, Any]:
        """jobs_wait on the job handle an operation answered, again after each timeout; the ended job."""
        job_id = started["job"]["id"]
        while True:
            waited = _body(await self.call("jobs_wait", {"job_id": job_id, "timeout_s": WAIT_S}, ids=("job_id",)))
            if not waited["timed_out"]:
                job: dict[str, Any] = waited["job"]
                return job

    def _check_ids(self, tool: str, arguments: Mapping[str, Any], ids: Sequence[str]) -> None:
        unseen = {name: arguments[name] for name in ids if not self.knows(arguments[name])}
        assert not unseen, f"{tool}: ids the agent never read: {unseen}"


def _body(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    assert isinstance(result.structured_content, dict), result
    return result.structured_content


@asynccontextmanager
async def agent_on(
    env: Mapping[str, str],
    state_dir: Path,
    mode: Mode,
    request: str,
    *,
    allow_dirs: list[Path] | None = None,
    output_dir: Path | None = None,
    before: Callable[[Client], Awaitable[None]] | None = None,
) -> AsyncIterator[Agent]:
    """The server in-process (its backends on the sandbox over loopback), an mcp Client, and an agent on it.

    `before`: what happened earlier (another conversation), on its own client, before the agent connects."""
    options: dict[str, Any] = {"discovery": "search"} if mode == "search" else {}
    async with in_process(env, state_dir, allow_dirs=allow_dirs, output_dir=output_dir, **options) as (server, _):
        if before is not None:
            async with Client(server, mode="legacy") as earlier:
                await before(earlier)
        counter = CallCounter()
        server.middleware.append(counter)
        async with Client(server, mode="legacy") as client:
            agent = Agent(client, mode, request, counter)
            await agent.start()
            yield agent


@asynccontextmanager
async def agent_on_serve_sandbox(
    state_dir: Path, mode: Mode, request: str, *args: str, speed: float
) -> AsyncIterator[Agent]:
    """`modelops-mcp serve --sandbox` as a child process over stdio, as a host starts it, and an agent on it.

    The sandbox lives inside that process, so a journey here checks its goal through the answers alone."""
    discovery = ("--discovery", "search") if mode == "search" else ()
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "modelops_mcp", "serve", "--sandbox", *FAST_ARGS, *discovery, *args],
        env=server_env({SPEED_ENV: str(speed)}, state_dir),
    )
    counter = CallCounter()
    async with Client(_counted_stdio(params, counter), mode="legacy") as client:
        agent = Agent(client, mode, request, counter)
        await agent.start()
        yield agent


@asynccontextmanager
async def running_sandbox(speed: float = FAST_SPEED) -> AsyncIterator[RunningSandbox]:
    """The emulators on loopback with their clock running, so jobs end by themselves as an agent waits."""
    emulators = Sandbox(speed=speed)
    async with serve_sandbox(emulators) as url:
        yield RunningSandbox(emulators, url)
