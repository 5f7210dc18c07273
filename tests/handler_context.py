"""The smallest real request context a handler runs in, for calling handlers alone (without a Client).

The SDK's own `ServerRequestContext`, `ServerSession` and `Connection`; only the client's end of the wire is
stood in for: `ClientEnd` records every request, notification and progress report the server sends, and
answers the server's requests (elicitation, roots) as the test tells it to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import anyio
import mcp_types as types
from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext
from mcp.server.session import ServerSession
from mcp.shared.dispatcher import CallOptions
from mcp.shared.exceptions import MCPError, NoBackChannelError
from mcp.shared.transport_context import TransportContext

LEGACY = "2025-11-25"
MODERN = "2026-07-28"
TASKS = "io.modelcontextprotocol/tasks"

Answer = Callable[[Mapping[str, Any] | None], dict[str, Any]]


@dataclass
class ClientEnd:
    """The client's end of one request (the SDK's DispatchContext) and of its connection (an Outbound)."""

    # The client's answer to each server request it handles, by method.
    answers: dict[str, Answer] = field(default_factory=dict)
    can_send_request: bool = True
    request_id: int = 1
    requests: list[tuple[str, Mapping[str, Any] | None]] = field(default_factory=list)
    notifications: list[tuple[str, Mapping[str, Any] | None]] = field(default_factory=list)
    progress_reports: list[tuple[float, float | None, str | None]] = field(default_factory=list)
    message_metadata: None = None
    cancel_requested: anyio.Event = field(default_factory=anyio.Event)
    # Its 2025-11-25 connection, made by its first request: later ones ride the same (a subscriber is a connection).
    connection: Connection | None = None
    _notified: anyio.Event = field(default_factory=anyio.Event, repr=False)

    @property
    def transport(self) -> TransportContext:
        return TransportContext(kind="handler-test", can_send_request=self.can_send_request)

    async def send_raw_request(
        self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None
    ) -> dict[str, Any]:
        if not self.can_send_request:
            raise NoBackChannelError(method)
        self.requests.append((method, params))
        answer = self.answers.get(method)
        if answer is None:
            raise MCPError(types.METHOD_NOT_FOUND, f"the client does not handle {method}")
        return answer(params)

    async def notify(self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None) -> None:
        self.notifications.append((method, params))
        self._notified.set()
        self._notified = anyio.Event()

    async def notified(self, count: int, timeout_s: float = 10.0) -> None:
        """Until `count` notifications have come (at most `timeout_s`)."""
        with anyio.fail_after(timeout_s):
            while len(self.notifications) < count:
                await self._notified.wait()

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        self.progress_reports.append((progress, total, message))


def legacy_context(
    client: ClientEnd | None = None,
    capabilities: types.ClientCapabilities | None = None,
    *,
    client_name: str = "handler-test",
    method: str = "tools/call",
) -> ServerRequestContext[object]:
    """A request on a 2025-11-25 connection after its handshake, from a client with `capabilities`."""
    client = client or ClientEnd()
    params = types.InitializeRequestParams(
        protocol_version=LEGACY,
        capabilities=capabilities or types.ClientCapabilities(),
        client_info=types.Implementation(name=client_name, version="0"),
    )
    if client.connection is None:
        client.connection = Connection(client, protocol_version=LEGACY)
        client.connection.initialized.set()
    client.connection.client_params = params
    return ServerRequestContext(
        session=ServerSession(client, client.connection),
        lifespan_context={},
        protocol_version=LEGACY,
        method=method,
        request_id=client.request_id,
    )


def modern_context(
    client: ClientEnd | None = None,
    capabilities: types.ClientCapabilities | None = None,
    *,
    extensions: tuple[str, ...] = (),
    method: str = "tools/call",
) -> ServerRequestContext[object]:
    """A stateless 2026-07-28 request whose `_meta` declares `capabilities` and `extensions`.

    The era forbids server requests mid-call, so the client's end refuses them, as the SDK's dispatch does."""
    client = client or ClientEnd()
    client.can_send_request = False
    declared = (capabilities or types.ClientCapabilities()).model_dump(by_alias=True, mode="json", exclude_none=True)
    if extensions:
        declared["extensions"] = {name: {} for name in extensions}
    meta = cast(types.RequestParamsMeta, {types.CLIENT_CAPABILITIES_META_KEY: declared})
    connection = Connection.from_envelope(MODERN, {"name": "handler-test", "version": "0"}, declared)
    return ServerRequestContext(
        session=ServerSession(client, connection, request_meta=meta),
        lifespan_context={},
        protocol_version=MODERN,
        method=method,
        request_id=client.request_id,
        meta=meta,
    )


def elicitation() -> types.ClientCapabilities:
    """Capabilities of a client that can be asked (form-mode elicitation)."""
    return types.ClientCapabilities(elicitation=types.ElicitationCapability(form=types.FormElicitationCapability()))


def user_answers(action: str, confirm: bool = True) -> Answer:
    """The client's answer to elicitation/create: the user's `action`, and the `confirm` box when accepting."""

    def answer(params: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"action": action, "content": {"confirm": confirm}} if action == "accept" else {"action": action}

    return answer
