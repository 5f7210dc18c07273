"""/healthz and /readyz on a one-machine server (SQLite): answered without the token, saying nothing else."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support import http_server_process


def test_probes_need_no_token_and_tell_nothing_while_mcp_still_needs_it(state_dir: Path) -> None:
    with http_server_process({}, state_dir, open_access=False) as (url, _):
        base = url.removesuffix("/mcp")
        with httpx.Client(timeout=20) as raw:
            health = raw.get(base + "/healthz")
            ready = raw.get(base + "/readyz")
            head = raw.head(base + "/readyz")
            posted = raw.post(base + "/healthz")
            mcp = raw.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert (health.status_code, health.text) == (200, "ok\n")
    assert (ready.status_code, ready.text) == (200, "ok\n")
    assert ready.headers["cache-control"] == "no-store"
    assert head.status_code == 200
    assert posted.status_code == 405
    assert posted.headers["allow"] == "GET, HEAD"
    assert mcp.status_code == 401  # the probes' exemption is theirs alone
