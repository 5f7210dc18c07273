"""The hot path's remaining walks of a large answer (issue 18 item 5): the SDK's sieve never sees a tools/call
result's structuredContent, job results are redacted once, jobs_list serialises no result."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.server import runner
from mcp_types import methods
from mcp_types.version import KNOWN_PROTOCOL_VERSIONS

from modelops_mcp.core.redact import MASK, Redactor
from modelops_mcp.jobs import JobStore
from modelops_mcp.jobs.model import Job
from modelops_mcp.surface.wire_result import SieveBypass, wire_result
from tests.support import CAILA_FIT, RunningSandbox, in_process, ok
from tests.test_large_answers import RESULTS, wire

pytestmark = pytest.mark.anyio


async def test_the_sdk_sieve_never_walks_the_structured_content(
    sandbox: RunningSandbox, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sieved: list[Any] = []
    real = methods.serialize_server_result  # the module the SDK's runner calls it from

    def spy(method: str, version: str, data: Any, **kwargs: Any) -> dict[str, Any]:
        # The server's sieve only (the client checks what it receives with the same function).
        if method == "tools/call" and sys._getframe(1).f_code is runner.ServerRunner._serialize.__code__:
            sieved.append(data.get("structuredContent"))
        sieved_result: dict[str, Any] = real(method, version, data, **kwargs)
        return sieved_result

    monkeypatch.setattr(methods, "serialize_server_result", spy)
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        listed = await ok(client, "datarobot_list_custom_models", {})
    # The client got the whole answer, and the SDK validated and dumped an empty object in its place.
    assert listed["data"]
    assert listed["data"][0]["id"]
    assert sieved == [{}]


def test_job_results_are_redacted_at_the_top_level_only_once() -> None:
    secret = "s3cr3t-token-value"
    redactor = Redactor([secret])
    body = {"data": [{"name": "already redacted"}] * 3}
    # A Location header an adapter put beside a (redacted) body: masked; the body is shared, not walked or copied.
    result = redactor.top_level({**body, "location": f"https://x/{secret}/y"})
    assert result["location"] == f"https://x/{MASK}/y"
    assert result["data"] is body["data"]
    clean = {"a": 1, "b": "plain"}
    assert redactor.top_level(clean) is clean
    assert redactor.top_level([secret, 1]) == [MASK, 1]
    assert redactor.top_level(secret) == MASK


def test_a_listed_job_leaves_its_result_unserialised() -> None:
    """jobs_list shows no result: it is left out before serialising, not dumped and then dropped."""
    job = Job(id="abc", backend="datarobot", operation="op", remote={}, result=object())  # no JSON form
    listed = job.public(with_result=False)
    assert "result" not in listed
    assert listed["uri"] == "job://abc"
    with pytest.raises(Exception, match="serialize"):
        job.public()


async def test_a_poll_that_changes_nothing_visible_writes_nothing(sandbox: RunningSandbox, state_dir: Path) -> None:
    """Polls of a job the backend keeps PENDING: the row is written once (its state seen), not per poll; every
    reader in the process still sees the poll count; a visible change writes it all (issue 20 item 5)."""
    async with in_process(sandbox.env(), state_dir) as (server, runtime), Client(server, mode="legacy") as client:
        started = await ok(client, "caila_fit_service", dict(CAILA_FIT))
        job_id = started["job"]["id"]
        on_disk = JobStore(runtime.settings.jobs_db)
        try:
            seen = None
            for _ in range(200):  # polls every 0.05-0.4 s (FAST limits): wait for five, bounded
                seen = (await ok(client, "jobs_get", {"job_id": job_id}))["job"]
                if seen["polls"]["count"] >= 5:
                    break
                await anyio.sleep(0.05)
            assert seen is not None
            assert seen["polls"]["count"] >= 5
            assert seen["state"] == "PENDING"
            stored = on_disk.get(job_id)
            assert stored is not None
            assert stored.state == "PENDING"
            assert stored.polls.count < seen["polls"]["count"]  # the unchanged polls were not written
            listed = (await ok(client, "jobs_list", {}))["jobs"][0]
            assert listed["polls"]["count"] >= seen["polls"]["count"]  # jobs_list shows them too

            sandbox.emulators.clock.advance(30)  # PENDING -> RUNNING: a visible change, written with its bookkeeping
            for _ in range(200):
                stored = on_disk.get(job_id)
                assert stored is not None
                if stored.state != "PENDING":
                    break
                await anyio.sleep(0.05)
            assert stored.state == "RUNNING"
            assert stored.polls.count >= seen["polls"]["count"] + 1
        finally:
            on_disk.close()


@pytest.mark.parametrize("result", RESULTS)
@pytest.mark.parametrize("version", sorted(KNOWN_PROTOCOL_VERSIONS))
async def test_the_bypass_puts_on_the_wire_what_the_sieve_gave(result: types.CallToolResult, version: str) -> None:
    """Through SieveBypass, as the SDK's runner calls it: every protocol version's wire is the model's."""

    async def runner_inner(ctx: Any) -> dict[str, Any]:  # what ServerRunner's `_inner` does after the handler
        handed = wire_result(result)  # a model without structured content is handed over as it is
        dumped = (
            handed if isinstance(handed, dict) else handed.model_dump(by_alias=True, mode="json", exclude_none=True)
        )
        return methods.serialize_server_result("tools/call", version, dumped)

    bypassed = await SieveBypass()(cast(Any, SimpleNamespace(method="tools/call")), runner_inner)
    assert json.dumps(bypassed) == wire(version, result.model_dump(by_alias=True, mode="json", exclude_none=True))
