"""Jobs through a real MCP client: waiting with progress, failures, subscriptions of both eras, shared polls."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from modelops_mcp.settings.config import Limits
from tests.support import CAILA_FIT, RunningSandbox, advance_later, error_of, in_process, structured, text_of

pytestmark = pytest.mark.anyio

BROKEN_FIT = {**CAILA_FIT, "datasetId": 503}


async def start_fit(client: Client, arguments: dict[str, Any] = CAILA_FIT) -> dict[str, Any]:
    result = await client.call_tool("caila_fit_service", arguments)
    assert not result.is_error, result
    handle: dict[str, Any] = structured(result)["job"]
    assert "jobs_wait" in text_of(result)  # the text tells the agent how to follow the job
    return handle


def status_calls(sandbox: RunningSandbox, remote_job_id: int) -> list[Any]:
    return [r for r in sandbox.requests("caila") if r.method == "GET" and r.path.endswith(f"/job/{remote_job_id}")]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_waiting_on_a_fit_streams_progress_and_ends_with_the_result(
    sandbox: RunningSandbox, state_dir: Path, mode: str
) -> None:
    notes: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append((progress, total, message))

    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode=mode) as client:
        handle = await start_fit(client)
        assert handle["status"] == "working"
        async with anyio.create_task_group() as tg:
            tg.start_soon(advance_later, sandbox, (0.2, 30), (0.3, 600))  # PENDING → RUNNING → SUCCESS
            result = await client.call_tool(
                "jobs_wait", {"job_id": handle["id"], "timeout_s": 30}, progress_callback=on_progress
            )
    waited = structured(result)
    assert waited["timed_out"] is False
    job = waited["job"]
    assert job["status"] == "completed"
    assert job["state"] == "SUCCESS"
    assert job["progress"] == 1.0
    assert job["result"]["done"] is True
    assert job["result"]["state"] == "SUCCESS"
    assert job["finished_at"] is not None
    assert job["remote"]["jobId"] == job["result"]["jobId"]

    messages = [message or "" for _, _, message in notes]
    assert any("RUNNING" in m for m in messages), messages
    assert "completed" in messages[-1]
    values = [progress for progress, _, _ in notes]
    assert values == sorted(values)
    assert len(set(values)) == len(values)


async def test_a_failing_fit_ends_failed_with_the_backends_error_message(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        handle = await start_fit(client, BROKEN_FIT)
        sandbox.emulators.clock.advance(200)
        job = structured(await client.call_tool("jobs_wait", {"job_id": handle["id"], "timeout_s": 30}))["job"]
    assert job["status"] == "failed"
    assert "broken-labels" in job["message"]
    assert job["error"]["kind"] == "backend"
    assert job["error"]["code"] == "job_failed"
    assert "broken-labels" in job["error"]["message"]
    assert job["result"]["error"] is True


async def test_a_legacy_subscriber_is_told_of_every_change(sandbox: RunningSandbox, state_dir: Path) -> None:
    updated: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updated.append(str(message.params.uri))

    async with (
        in_process(sandbox.env(), state_dir) as (server, _),
        Client(server, mode="legacy", message_handler=on_message) as client,
    ):
        handle = await start_fit(client)
        with pytest.warns(Warning, match="subscribe"):
            await client.subscribe_resource(handle["uri"])
        sandbox.emulators.clock.advance(30)  # PENDING → RUNNING
        with anyio.fail_after(10):
            while not updated:
                await client.call_tool("jobs_get", {"job_id": handle["id"]})
                await anyio.sleep(0.05)
        sandbox.emulators.clock.advance(600)
        await client.call_tool("jobs_wait", {"job_id": handle["id"], "timeout_s": 30})
        await anyio.sleep(0.1)
        read = await client.read_resource(handle["uri"])
    assert updated
    assert set(updated) == {handle["uri"]}
    assert len(updated) >= 2  # RUNNING, then completed
    content = read.contents[0]
    assert isinstance(content, types.TextResourceContents)
    assert content.mime_type == "application/json"
    assert json.loads(content.text)["status"] == "completed"


async def test_a_listen_subscriber_is_told_of_every_change(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server) as client:
        handle = await start_fit(client)
        events: list[str] = []
        async with client.listen(resource_subscriptions=[handle["uri"]]) as subscription:
            sandbox.emulators.clock.advance(600)
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.call_tool, "jobs_wait", {"job_id": handle["id"], "timeout_s": 30})
                with anyio.fail_after(10):
                    async for event in subscription:
                        events.append(event.uri)  # type: ignore[union-attr]
                        break
        job = structured(await client.call_tool("jobs_get", {"job_id": handle["id"]}))["job"]
    assert events == [handle["uri"]]
    assert job["status"] == "completed"


async def test_twenty_concurrent_readers_share_one_status_call_per_interval(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    interval = 0.25
    limits = Limits(poll_min_interval_s=interval, poll_max_s=interval)
    async with in_process(sandbox.env(), state_dir, limits) as (server, _), Client(server, mode="legacy") as client:
        handle = await start_fit(client)
        remote = structured(await client.call_tool("jobs_get", {"job_id": handle["id"]}))["job"]["remote"]
        before = len(status_calls(sandbox, remote["jobId"]))
        started = time.time()

        async def reader(index: int) -> None:
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline:
                if index % 2:
                    await client.read_resource(handle["uri"])
                else:
                    assert not (await client.call_tool("jobs_get", {"job_id": handle["id"]})).is_error
                await anyio.sleep(0.01)

        async with anyio.create_task_group() as tg:
            for index in range(20):
                tg.start_soon(reader, index)
        elapsed = time.time() - started

    calls = status_calls(sandbox, remote["jobId"])[before:]
    assert calls, "the readers never made the tracker look at the backend"
    assert len(calls) <= elapsed / interval + 1, (len(calls), elapsed)
    gaps = [later.time - earlier.time for earlier, later in itertools.pairwise(calls)]
    assert all(gap >= interval * 0.9 for gap in gaps), gaps


async def test_cancelling_a_job_without_a_backend_cancel_never_calls_it_cancelled(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        handle = await start_fit(client)
        sandbox.emulators.clock.advance(30)  # PENDING → RUNNING on Caila, where it stays
        # jobs_get answers from the store between polls (backoff up to poll_max), so look until the poll lands.
        for _ in range(100):  # 5 s at most
            job = structured(await client.call_tool("jobs_get", {"job_id": handle["id"]}))["job"]
            if job["state"] == "RUNNING":
                break
            await anyio.sleep(0.05)
        assert job["state"] == "RUNNING"
        remote = job["remote"]

        # Caila documents no cancel for a fit: nothing is sent, nothing changes, and the answer says so.
        kept = structured(await client.call_tool("jobs_cancel", {"job_id": handle["id"]}))
        assert kept["backend_cancelled"] is False
        assert (kept["job"]["status"], kept["job"]["following"]) == ("working", True)
        assert "documents no way to cancel caila_fit_service" in kept["message"]
        assert "stop_following" in kept["message"]
        calls = len(status_calls(sandbox, remote["jobId"]))
        await anyio.sleep(0.3)  # six poll intervals: it is still followed
        assert len(status_calls(sandbox, remote["jobId"])) > calls

        # Asked explicitly: no longer followed, still `working` (the fit runs on), and visibly so everywhere.
        let_go = structured(await client.call_tool("jobs_cancel", {"job_id": handle["id"], "stop_following": True}))
        assert let_go["backend_cancelled"] is False
        assert (let_go["job"]["status"], let_go["job"]["following"]) == ("working", False)
        assert let_go["job"]["finished_at"] is None
        assert "may still be running (last state RUNNING)" in let_go["message"]
        calls = len(status_calls(sandbox, remote["jobId"]))
        await anyio.sleep(0.5)  # ten poll intervals: none may happen for a job no longer followed
        assert len(status_calls(sandbox, remote["jobId"])) == calls

        # "What is running?": the active filter still lists it, saying it is not followed.
        running = await client.call_tool("jobs_list", {"status": ["working", "input_required"]})
        listed = {j["id"]: j for j in structured(running)["jobs"]}
        assert listed[handle["id"]]["following"] is False
        assert "not followed (the remote job may still run)" in text_of(running)
        assert structured(await client.call_tool("jobs_list", {"status": ["cancelled"]}))["jobs"] == []
        got = structured(await client.call_tool("jobs_get", {"job_id": handle["id"]}))["job"]
        assert (got["status"], got["following"]) == ("working", False)
        read = await client.read_resource(handle["uri"])
        contents = read.contents[0]
        assert isinstance(contents, types.TextResourceContents)
        resource = json.loads(contents.text)
        assert (resource["status"], resource["following"]) == ("working", False)
        assert "may still be running" in resource["message"]
        titles = {str(r.uri): r.title for r in (await client.list_resources()).resources}
        assert titles[handle["uri"]] == "caila_fit_service job (working, not followed)"

        started = time.monotonic()
        waited = await client.call_tool("jobs_wait", {"job_id": handle["id"], "timeout_s": 30})
        assert time.monotonic() - started < 5  # nothing to wait for: it answers at once
        assert structured(waited)["timed_out"] is False
        assert "not followed" in text_of(waited)
        again = structured(await client.call_tool("jobs_cancel", {"job_id": handle["id"], "stop_following": True}))
        assert (again["job"]["status"], again["job"]["following"]) == ("working", False)
        assert "already stopped following" in again["message"]
        assert len(status_calls(sandbox, remote["jobId"])) == calls

    # A restarted server does not take it up again.
    async with in_process(sandbox.env(), state_dir) as (server, runtime), Client(server, mode="legacy") as client:
        assert handle["id"] not in runtime.jobs.store.active_ids()
        await anyio.sleep(0.3)
        assert len(status_calls(sandbox, remote["jobId"])) == calls


async def test_an_unknown_job_is_a_clear_error_and_resource_not_found(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        for tool in ("jobs_get", "jobs_wait", "jobs_cancel"):
            error = error_of(await client.call_tool(tool, {"job_id": "nosuchjob"}))
            assert error["kind"] == "not_found", tool
            assert "nosuchjob" in error["message"]
        invalid = error_of(await client.call_tool("jobs_wait", {"job_id": "x", "timeout_s": 601}))
        assert invalid["kind"] == "validation"
        assert invalid["violations"][0]["pointer"] == "/timeout_s"
        with pytest.raises(MCPError) as raised:
            await client.read_resource("job://nosuchjob")
        assert raised.value.code == -32002
        assert not (await client.call_tool("jobs_list", {})).is_error  # still serving


async def test_jobs_list_pages_newest_first_and_filters(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        first = await start_fit(client, BROKEN_FIT)
        sandbox.emulators.clock.advance(200)
        ended = structured(await client.call_tool("jobs_wait", {"job_id": first["id"], "timeout_s": 30}))["job"]
        assert ended["status"] == "failed"
        second = await start_fit(client)
        third = await start_fit(client)

        page = structured(await client.call_tool("jobs_list", {"limit": 2}))
        assert [j["id"] for j in page["jobs"]] == [third["id"], second["id"]]
        assert all("result" not in j for j in page["jobs"])
        rest = structured(await client.call_tool("jobs_list", {"limit": 2, "cursor": page["next_cursor"]}))
        assert [j["id"] for j in rest["jobs"]] == [first["id"]]
        assert "next_cursor" not in rest

        working = structured(await client.call_tool("jobs_list", {"status": ["working"]}))
        assert {j["id"] for j in working["jobs"]} == {second["id"], third["id"]}
        assert (
            structured(await client.call_tool("jobs_list", {"backend": "caila", "status": ["failed"]}))["jobs"][0]["id"]
            == first["id"]
        )
        bad = error_of(await client.call_tool("jobs_list", {"cursor": "!!"}))
        assert bad["kind"] == "validation"

        listed = await client.list_resources()
        job_uris = [str(r.uri) for r in listed.resources if str(r.uri).startswith("job://")]
        assert job_uris == [third["uri"], second["uri"], first["uri"]]

        completion = await client.complete(
            types.ResourceTemplateReference(type="ref/resource", uri="job://{job_id}"),
            {"name": "job_id", "value": third["id"][:3]},
        )
        assert third["id"] in completion.completion.values
