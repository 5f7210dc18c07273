"""Resource-update notifications for both protocol eras.

2025-11-25 clients `resources/subscribe` to a URI and get `notifications/resources/updated` on their
connection; 2026-07-28 clients open a `subscriptions/listen` stream naming the URIs. One `publish` feeds both.
"""

from __future__ import annotations

import logging

from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ResourceUpdated

log = logging.getLogger(__name__)

# Bounds what one busy URI can cost; a client past it is told by the missing notifications, not a failure.
MAX_LEGACY_SUBSCRIBERS = 1000


def _connection_of(session: ServerSession) -> object:
    # `ctx.session` is a per-request proxy; its connection is what identifies one subscriber across requests.
    return getattr(session, "_connection", session)


class Subscriptions:
    def __init__(self) -> None:
        self.bus = InMemorySubscriptionBus()
        self.listen = ListenHandler(self.bus)
        self._legacy: dict[str, dict[object, ServerSession]] = {}

    def subscribe(self, uri: str, session: ServerSession) -> None:
        subscribers = self._legacy.setdefault(uri, {})
        if len(subscribers) < MAX_LEGACY_SUBSCRIBERS:
            subscribers[_connection_of(session)] = session

    def unsubscribe(self, uri: str, session: ServerSession) -> None:
        subscribers = self._legacy.get(uri)
        if subscribers is not None:
            subscribers.pop(_connection_of(session), None)
            if not subscribers:
                del self._legacy[uri]

    async def publish(self, uri: str) -> None:
        await self.bus.publish(ResourceUpdated(uri=uri))
        subscribers = self._legacy.get(uri, {})
        for key, session in list(subscribers.items()):
            try:
                await session.send_resource_updated(uri)
            except Exception as exc:  # a client that went away: forget it, keep serving the rest
                log.debug("dropping subscriber of %s: %s", uri, exc)
                subscribers.pop(key, None)
