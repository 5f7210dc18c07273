"""Refuse an HTTP bind at a backend's address: that backend's tools would call this server instead.

The Training Module's default is http://localhost:8000, so `serve --transport http --port 8000` once made every
training tool call our own endpoint and report a confusing auth error. Checked before anything listens.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from modelops_mcp.http.backend_config import BackendConfig
from modelops_mcp.spec.catalog import Catalog

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _local(host: str, bind_host: str) -> bool:
    """Would a request to `host` reach a server bound to `bind_host` on this machine?"""
    host = host.lower().strip("[]")
    if host == bind_host.lower().strip("[]"):
        return True
    if host in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _url_port(url: str) -> tuple[str, int] | None:
    """The host and port a URL reaches, or None for one that is malformed (said elsewhere, at call time)."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.hostname is None or port is None:
        return None
    return parts.hostname, port


def collisions(host: str, port: int, catalog: Catalog, env: Mapping[str, str]) -> list[str]:
    """One sentence per backend whose configured (or default) address is this server's own."""
    if port == 0:  # an ephemeral port is never anyone's configured address
        return []
    found = []
    for name, spec in catalog.backends.items():
        config = BackendConfig.from_env(spec, env)
        variable = config.base_url_env or "its base URL"
        configured = bool(config.base_url_env and env.get(config.base_url_env))
        if config.discovery is not None:
            # Unset and found by probing ports instead: a probe wants a 2xx health answer, which this server
            # never gives (401 or 404), and a running Pieces OS holds its own port, so nothing is misrouted.
            continue
        reached = _url_port(config.base_url)
        if reached is None or reached[1] != port or not _local(reached[0], host):
            continue
        where = f"{variable}={config.base_url}" if configured else f"{variable} unset: its default {config.base_url}"
        found.append(
            f"port {port} is the {name} backend's address ({where}), so its tools would call this server; "
            f"choose another --port, or set {variable} to the backend's real address"
        )
    return found
