"""Two replicas behind no balancer at all: a 2026-07-28 client served by either for any request, tasks included;
a 2025-11-25 session only by the replica it began on; health and readiness answered without the token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from tests.postgres import PASSWORD, PostgresCluster
from tests.support import CAILA_FIT, http_client, sandbox_in_thread, start_http_server, stop_process, structured
from tests.test_tasks import CreatedTask, TasksClient, task_get

pytestmark = [pytest.mark.postgres, pytest.mark.anyio]

TOKEN = "replica-token-0b7c4d1e9f"
LEGACY = "2025-11-25"


def rpc(method: str, params: dict[str, Any], id_: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}


async def test_any_replica_serves_a_2026_client_and_its_tasks_and_a_legacy_session_needs_its_own(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    url = postgres.database()
    with sandbox_in_thread() as sandbox:
        started = [
            start_http_server(sandbox.env(), tmp_path / name, "--store", url, "--auth-token", TOKEN)
            for name in ("a", "b")
        ]
        try:
            (url_a, url_b) = (mcp_url for _, mcp_url, _ in started)
            async with (
                http_client(url_a, TOKEN, mode="auto", extensions=[TasksClient()]) as a,
                http_client(url_b, TOKEN, mode="auto", extensions=[TasksClient()]) as b,
            ):
                created = await a.session.call_tool("caila_fit_service", CAILA_FIT, allow_claimed=True)
                assert isinstance(created, CreatedTask)
                assert (await task_get(b.session, created.task_id))["status"] == "working"
                uri = f"job://{created.task_id}"
                heard: list[str] = []
                async with b.listen(resource_subscriptions=[uri]) as subscription:
                    sandbox.emulators.clock.advance(600)  # → SUCCESS: replica a's next poll sees it
                    with anyio.fail_after(20):
                        async for event in subscription:
                            heard.append(event.uri)  # type: ignore[union-attr]
                            break
                # Heard after it was stored: the task reads as completed on b at once.
                task = await task_get(b.session, created.task_id)
                listed = structured(await b.call_tool("jobs_list", {}))["jobs"]

            async with httpx.AsyncClient(timeout=20) as raw:
                probes = {
                    (name, path): await raw.get(mcp_url.replace("/mcp", path))
                    for name, mcp_url in (("a", url_a), ("b", url_b))
                    for path in ("/healthz", "/readyz")
                }
                untokened = await raw.post(url_a, json=rpc("tools/list", {}))
                legacy = await legacy_session_on(raw, url_a)
                headers = {
                    "Authorization": f"Bearer {TOKEN}",
                    "Mcp-Session-Id": legacy,
                    "MCP-Protocol-Version": LEGACY,
                    "Accept": "application/json, text/event-stream",
                }
                elsewhere = await raw.post(url_b, json=rpc("tools/list", {}, 2), headers=headers)
                at_home = await raw.post(url_a, json=rpc("tools/list", {}, 3), headers=headers)
                # The database goes away: both replicas say they are not ready, and still alive.
                dbname = url.rsplit("/", 1)[1]
                postgres.query(postgres.url(), f"DROP DATABASE {dbname} WITH (FORCE)")
                gone = {path: await raw.get(url_a.replace("/mcp", path)) for path in ("/healthz", "/readyz")}
        finally:
            for proc, _, _ in started:
                stop_process(proc)
        logs = "".join(errlog.read_text() for _, _, errlog in started)

    assert task["status"] == "completed"
    assert task["result"]["structuredContent"]["job"]["id"] == created.task_id
    assert heard == [uri]
    assert [job["id"] for job in listed] == [created.task_id]
    assert {key: (r.status_code, r.text) for key, r in probes.items()} == {
        key: (200, "ok\n") for key in probes
    }  # without the token, which /mcp demands:
    assert untokened.status_code == 401
    assert elsewhere.status_code == 404  # a legacy session lives on the replica that began it
    assert "Session not found" in elsewhere.text
    assert at_home.status_code == 200
    assert "tools" in at_home.text
    assert (gone["/healthz"].status_code, gone["/readyz"].status_code) == (200, 503)
    assert gone["/readyz"].text == "not ready\n"
    assert PASSWORD not in logs


async def legacy_session_on(raw: httpx.AsyncClient, url: str) -> str:
    """A 2025-11-25 session begun on one replica (initialize, then initialized); its id."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json, text/event-stream"}
    init = rpc(
        "initialize", {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    )
    answer = await raw.post(url, json=init, headers={**headers, "MCP-Protocol-Version": LEGACY})
    assert answer.status_code == 200, answer.text
    session = answer.headers["mcp-session-id"]
    done = await raw.post(
        url,
        json={"jsonrpc": "2.0", "method": "notifications/initialized"},
        headers={**headers, "Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY},
    )
    assert done.status_code == 202
    return session
