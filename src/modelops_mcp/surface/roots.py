"""The MCP client's roots (`roots/list`), as local directories uploads may come from.

Asked on each upload rather than cached, so a client that changes its roots is heard at once; only a client
that declared the capability, on a connection that can carry a server request, is asked.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import anyio
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPDeprecationWarning

from modelops_mcp.http.uploads import RootsProvider

log = logging.getLogger(__name__)

ROOTS_TIMEOUT_S = 10.0


def file_uri_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        return None
    return Path(url2pathname(unquote(parsed.path)))


def client_roots(ctx: ServerRequestContext[object]) -> RootsProvider | None:
    capabilities = ctx.session.client_capabilities
    if capabilities is None or capabilities.roots is None or not ctx.session.can_send_request:
        return None

    async def roots() -> list[Path]:
        try:
            # roots/list is deprecated in 2026-07-28 but is how 2025-11-25 clients say what they share.
            with warnings.catch_warnings(), anyio.fail_after(ROOTS_TIMEOUT_S):
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                result = await ctx.session.list_roots()
        except Exception as exc:  # a client that cannot answer shares no roots; --allow-dir still applies
            log.info("roots/list failed: %s", type(exc).__name__)
            return []
        return [path for root in result.roots if (path := file_uri_path(str(root.uri))) is not None]

    return roots
