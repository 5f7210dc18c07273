"""Who may talk to the Streamable HTTP endpoint: a bearer token on every request, and Host/Origin checks.

The token check is a small ASGI middleware rather than the SDK's `token_verifier`: that path is built for
OAuth resource servers (it needs an `AuthSettings` with an issuer URL and advertises protected-resource
metadata), while this server has one static shared secret and no authorization server to point at.
Host/Origin validation (DNS rebinding) reuses the SDK's `TransportSecuritySettings`, with the allowed names
computed here for every bind address, not only for the loopback ones the SDK covers by itself.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from modelops_mcp.settings.config import listed

if TYPE_CHECKING:
    # Imported where the settings are built: importing the SDK takes about 2 s of CPU, which a start refused
    # for its flags (exit 2) need not spend.
    from mcp.server.transport_security import TransportSecuritySettings

AUTH_TOKEN_ENV = "MODELOPS_AUTH_TOKEN"
ALLOW_HOSTS_ENV = "MODELOPS_ALLOW_HOSTS"  # comma-separated, like the flag
ALLOW_ORIGINS_ENV = "MODELOPS_ALLOW_ORIGINS"
# What the SDK allows on its own for a loopback bind: any port of the loopback names.
_LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
_LOOPBACK_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*")
_WILDCARD = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and `localhost`: addresses no other machine can reach."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_header(host: str) -> str:
    """How a bind address appears in a Host header (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@dataclass(frozen=True)
class HttpAccess:
    """The access rules of one HTTP server: its token (None: no auth) and the Host/Origin values it accepts."""

    token: str | None
    security: TransportSecuritySettings
    # True when the token was made up at start: it is then printed once so a user can paste it.
    generated: bool = False


def http_access(
    bind_host: str,
    *,
    token: str | None = None,
    no_auth: bool = False,
    allow_hosts: list[str] | None = None,
    allow_origins: list[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> HttpAccess:
    """The access rules from flags and environment; ValueError (said plainly, exit 2) when they are unsafe."""
    env = env or {}
    if no_auth:
        if not is_loopback(bind_host):
            raise ValueError(
                f"--no-auth is only allowed on a loopback address (127.0.0.1, ::1, localhost); {bind_host} can be "
                f"reached from other machines: give a token with --auth-token or {AUTH_TOKEN_ENV} instead"
            )
        chosen: str | None = None
    else:
        chosen = (token or env.get(AUTH_TOKEN_ENV) or "").strip() or None
        if chosen is not None and any(c.isspace() for c in chosen):
            raise ValueError(f"the auth token (--auth-token / {AUTH_TOKEN_ENV}) must not contain whitespace")
    generated = not no_auth and chosen is None
    if generated:
        chosen = secrets.token_urlsafe(32)
    hosts = listed(allow_hosts, ALLOW_HOSTS_ENV, env)
    origins = listed(allow_origins, ALLOW_ORIGINS_ENV, env)
    return HttpAccess(token=chosen, security=transport_security(bind_host, hosts, origins), generated=generated)


def transport_security(bind_host: str, hosts: list[str], origins: list[str]) -> TransportSecuritySettings:
    """Rebinding protection for any bind: loopback names, the bound address, and the names a deployment gives."""
    allowed_hosts = list(_LOOPBACK_HOSTS)
    allowed_origins = list(_LOOPBACK_ORIGINS)
    if bind_host not in _WILDCARD and not _host_header(bind_host).startswith(("127.0.0.1", "localhost", "[::1]")):
        # A wildcard bind has no name of its own: the deployment names its public host with --allow-host.
        allowed_hosts.append(f"{_host_header(bind_host)}:*")
        allowed_origins.append(f"http://{_host_header(bind_host)}:*")
    for host in hosts:
        if "/" in host or not host:
            raise ValueError(f"--allow-host takes a host name, optionally with a port (example.com:443), not {host!r}")
        # Without a port, any port: the Host header carries one unless it is the scheme's default.
        allowed_hosts.extend([host] if host.rsplit("]", 1)[-1].count(":") == 1 else [host, f"{host}:*"])
    for origin in origins:
        if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
            raise ValueError(f"--allow-origin takes an origin like https://app.example.com, not {origin!r}")
        allowed_origins.append(origin)
    from mcp.server.transport_security import TransportSecuritySettings

    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins
    )


class BearerAuth:
    """ASGI middleware: every HTTP request must carry `Authorization: Bearer <token>`, or gets a 401."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Lifespan events carry no request; there are no WebSocket routes.
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scheme, _, presented = Headers(scope=scope).get("authorization", "").partition(" ")
        # latin-1 is how ASGI headers were decoded: the bytes compared are the bytes received.
        if scheme.lower() == "bearer" and secrets.compare_digest(presented.strip().encode("latin-1"), self._token):
            await self.app(scope, receive, send)
            return
        await self._refuse(send, given=bool(scheme))

    async def _refuse(self, send: Send, *, given: bool) -> None:
        # RFC 6750: a request without credentials gets the bare challenge, a bad one `invalid_token`.
        # The presented value is never echoed, logged or compared other than in constant time.
        challenge = 'Bearer realm="modelops-mcp"' + (', error="invalid_token"' if given else "")
        message = "invalid bearer token" if given else "this server requires Authorization: Bearer <token>"
        body = json.dumps({"error": "invalid_token" if given else "unauthorized", "message": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", challenge.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
