"""Replicas sharing jobs on one PostgreSQL database: followed anywhere, polled once, and a SIGKILL loses nothing."""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import signal
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from pydantic import SecretStr

from modelops_mcp.jobs.model import TERMINAL
from modelops_mcp.sandbox.pieces_data import LLAMA_3_8B_ID
from tests.postgres import PASSWORD, PostgresCluster
from tests.support import (
    CAILA_FIT,
    RunningSandbox,
    advance_later,
    http_client,
    in_process,
    sandbox_in_thread,
    start_http_server,
    stop_process,
    structured,
    wait_for_job,
)
from tests.test_pieces_e2e import pieces_state, start_download, tick_clock

pytestmark = [pytest.mark.postgres, pytest.mark.anyio]

POLL_INTERVAL = 0.5
LEASE_S = 2.0
STARTS = 300
KILL_AFTER = 150  # acknowledged starts before one replica is SIGKILLed
RESULTS = Path(os.environ.get("MODELOPS_REPLICA_REPORT", "")) if os.environ.get("MODELOPS_REPLICA_REPORT") else None


def status_polls(sandbox: RunningSandbox) -> dict[int, list[float]]:
    """Each Caila job's status calls (by its remote job id), by time of answer."""
    polls: dict[int, list[float]] = defaultdict(list)
    for request in sandbox.requests("caila"):
        found = re.search(r"/job/(\d+)$", request.path)
        if request.method == "GET" and found:
            polls[int(found.group(1))].append(request.time)
    return polls


def owner_of(postgres: PostgresCluster, url: str, job_id: str) -> str:
    return str(postgres.query(url, "SELECT lease_owner FROM jobs WHERE id = %s", job_id)[0][0])


async def test_a_job_started_on_one_replica_is_waited_on_and_heard_on_another(
    sandbox: RunningSandbox, postgres: PostgresCluster, tmp_path: Path
) -> None:
    url = postgres.database()
    shared: dict[str, Any] = {"store_url": SecretStr(url), "lease_s": 5.0}
    updated: list[str] = []
    told = [anyio.Event(), anyio.Event()]

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updated.append(str(message.params.uri))
            told[min(len(updated), 2) - 1].set()

    async with (
        in_process(sandbox.env(), tmp_path / "a", **shared) as (server_a, runtime_a),
        in_process(sandbox.env(), tmp_path / "b", **shared) as (server_b, runtime_b),
        Client(server_a, mode="legacy") as a,
        Client(server_b) as b,
        Client(server_b, mode="legacy", message_handler=on_message) as legacy_b,
    ):
        started = await a.call_tool("caila_fit_service", CAILA_FIT)
        handle = structured(started)["job"]
        with pytest.warns(Warning, match="subscribe"):
            await legacy_b.subscribe_resource(handle["uri"])
        events: list[str] = []
        async with (
            b.listen(resource_subscriptions=[handle["uri"]]) as subscription,
            anyio.create_task_group() as tg,
        ):

            async def hear() -> None:
                with anyio.fail_after(20):
                    async for event in subscription:
                        events.append(event.uri)  # type: ignore[union-attr]
                        break

            tg.start_soon(hear)
            sandbox.emulators.clock.advance(30)  # PENDING → RUNNING, which A polls and B's subscribers hear of
            with anyio.fail_after(10):
                await told[0].wait()
            sandbox.emulators.clock.advance(600)  # → SUCCESS
            waited = structured(await b.call_tool("jobs_wait", {"job_id": handle["id"], "timeout_s": 30}))
        listed = structured(await b.call_tool("jobs_list", {}))["jobs"]
        with anyio.fail_after(10):
            await told[1].wait()
        owner = owner_of(postgres, url, handle["id"])  # while both run: a replica that stops lets go of its leases
    assert waited["timed_out"] is False
    assert waited["job"]["status"] == "completed"
    assert events == [handle["uri"]]  # B's subscribers heard of changes only A polled, in both eras
    assert updated == [handle["uri"]] * 2  # RUNNING, then completed
    assert [job["id"] for job in listed] == [handle["id"]]
    # Only A polled it: the lease is A's, and only a lease holder may stamp a poll.
    replica_a = runtime_a.jobs.store.replica
    assert owner == replica_a != runtime_b.jobs.store.replica
    assert structured(started)["job"]["status"] == "working"


async def test_a_pieces_download_stream_is_opened_by_the_replica_that_holds_the_job_only(
    sandbox: RunningSandbox, postgres: PostgresCluster, tmp_path: Path
) -> None:
    shared: dict[str, Any] = {"store_url": SecretStr(postgres.database()), "lease_s": 5.0}
    progress: list[tuple[float, str | None]] = []
    async with (
        in_process(sandbox.env(), tmp_path / "a", **shared) as (server_a, _),
        in_process(sandbox.env(), tmp_path / "b", **shared) as (server_b, _),
        Client(server_a, mode="legacy") as a,
        Client(server_b, mode="legacy") as b,
    ):
        handle = await start_download(a, LLAMA_3_8B_ID)
        async with anyio.create_task_group() as tg:
            tg.start_soon(tick_clock, sandbox, 9.0, 12)  # 90 simulated seconds in ten-percent steps
            job = await wait_for_job(b, handle["id"], progress)  # followed through the replica without it
    assert job["status"] == "completed"
    assert job["polls"]["count"] == 0  # every update came over the one socket
    assert pieces_state(sandbox).sockets_opened == 1
    assert len([message for _, message in progress if message and "downloading:" in message]) >= 3, progress


async def test_a_replica_keeps_following_its_jobs_when_the_database_drops_its_connections(
    sandbox: RunningSandbox, postgres: PostgresCluster, tmp_path: Path
) -> None:
    url = postgres.database()
    async with (
        in_process(sandbox.env(), tmp_path, store_url=SecretStr(url), lease_s=5.0) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        handle = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]
        # As a database restart or failover does: every connection of this replica (its pool's, its LISTEN's).
        dropped = postgres.query(
            postgres.url(),
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
            url.rsplit("/", 1)[1],
        )[0][0]
        sandbox.emulators.clock.advance(600)
        waited = structured(await client.call_tool("jobs_wait", {"job_id": handle["id"], "timeout_s": 30}))
        second = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]
    assert dropped >= 2
    assert waited["job"]["status"] == "completed"
    assert second["status"] == "working"


async def test_three_replicas_one_sigkilled_midway_lose_no_job_and_never_poll_one_twice_in_an_interval(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    url = postgres.database()
    args = ("--store", url, "--lease-time", str(LEASE_S), "--poll-interval", str(POLL_INTERVAL), "--poll-max", "4")
    with sandbox_in_thread() as sandbox:
        procs, urls, errlogs = [], [], []
        try:
            for n in range(3):
                proc, mcp_url, errlog = start_http_server(sandbox.env(), tmp_path / f"r{n}", *args)
                procs.append(proc)
                urls.append(mcp_url)
                errlogs.append(errlog)
            replicas = [re.findall(r"this is replica (\S+)", log.read_text())[0] for log in errlogs]
            began = time.monotonic()
            acked, broken, killed_at = await start_jobs(urls, procs[2])
            start_s = time.monotonic() - began
            starts_done = time.monotonic()
            # The starts the killed replica acknowledged: still there, and taken over by a live replica.
            by_replica: dict[int, list[str]] = defaultdict(list)
            for job_id, replica in acked.items():
                by_replica[replica].append(job_id)
            sandbox.emulators.clock.advance(30)  # PENDING → RUNNING
            async with http_client(urls[1]) as waiter:
                followed = by_replica[0][0]  # started on replica 0, waited on through replica 1
                async with anyio.create_task_group() as tg:
                    tg.start_soon(advance_later, sandbox, (1.0, 600))  # → SUCCESS
                    with anyio.fail_after(60):
                        waited = structured(await waiter.call_tool("jobs_wait", {"job_id": followed, "timeout_s": 50}))
                with anyio.fail_after(90):  # the state is in the replicas' database: no event to wait on
                    while True:
                        open_jobs = postgres.query(
                            url, "SELECT count(*) FROM jobs WHERE status NOT IN ('completed', 'failed', 'cancelled')"
                        )[0][0]
                        if not open_jobs:
                            break
                        await anyio.sleep(0.2)
            settled_s = time.monotonic() - starts_done
            owners = dict(postgres.query(url, "SELECT id, lease_owner FROM jobs"))
            remote = {
                row[0]: json.loads(row[1])["remote"]["jobId"]
                for row in postgres.query(url, "SELECT id, data FROM jobs")
            }
            statuses = dict(postgres.query(url, "SELECT id, status FROM jobs"))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    stop_process(proc)
        logs = "".join(log.read_text() for log in errlogs)

    polls = status_polls(sandbox)
    gaps = [b - a for times in polls.values() for a, b in itertools.pairwise(times)]
    too_close = [gap for gap in gaps if gap < POLL_INTERVAL]
    killed_jobs = by_replica[2]
    # How long after the SIGKILL each of its jobs was first polled by a survivor.
    takeover = [min((t for t in polls[remote[j]] if t > killed_at), default=math.inf) - killed_at for j in killed_jobs]
    figures = {
        "starts": STARTS,
        "acknowledged": len(acked),
        "per_replica": {str(k): len(v) for k, v in sorted(by_replica.items())},
        "replicas_whose_client_broke": broken,
        "jobs_in_db": len(statuses),
        "terminal": sum(1 for s in statuses.values() if s in TERMINAL),
        "killed_replicas_jobs_taken_over": sum(1 for j in killed_jobs if owners[j] != replicas[2]),
        "status_calls": sum(len(t) for t in polls.values()),
        "polls_closer_than_interval": len(too_close),
        "min_gap_s": round(min(gaps), 3) if gaps else None,
        "start_phase_s": round(start_s, 1),
        "starts_done_to_all_terminal_s": round(settled_s, 1),
        "kill_to_takeover_s_max": round(max(takeover), 2),
    }
    if RESULTS is not None:
        RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))
    assert open_jobs == 0
    assert len(acked) >= KILL_AFTER
    assert broken == [2]  # the live replicas answered every start sent to them
    assert set(acked) <= set(statuses), "an acknowledged job is missing from the store"
    assert all(statuses[job_id] == "completed" for job_id in acked), figures
    assert killed_jobs, "the killed replica had acknowledged no job"
    assert all(owners[job_id] in replicas[:2] for job_id in killed_jobs), figures
    assert too_close == [], figures
    # Leases expire within LEASE_S of the kill; a survivor's round (every LEASE_S / 3) takes them, and polls
    # a job at once unless its last poll is too recent: the bound below has slack for a loaded machine.
    assert max(takeover) < 3 * LEASE_S + 4, figures
    assert waited["timed_out"] is False
    assert waited["job"]["status"] == "completed"
    assert owners[followed] == replicas[0]  # replica 1's wait ended on replica 0's polls
    assert PASSWORD not in logs


async def start_jobs(urls: list[str], victim: Any) -> tuple[dict[str, int], list[int], float]:
    """STARTS fit starts spread over the replicas, four at a time each; the third replica is SIGKILLed once
    KILL_AFTER starts have been acknowledged. Returns {job id: replica} of every acknowledged start, and the
    replicas whose client broke (the killed one: its calls in flight were never acknowledged), and when
    (time.time()) the SIGKILL was sent."""
    acked: dict[str, int] = {}
    broken: list[int] = []
    killed_at = [math.inf]
    send, receive = anyio.create_memory_object_stream[int](STARTS)
    for n in range(STARTS):
        send.send_nowait(n)
    send.close()

    async def drive(replica: int) -> None:
        try:
            async with http_client(urls[replica]) as client, anyio.create_task_group() as tg:

                async def worker() -> None:
                    async for _ in receive.clone():
                        with anyio.fail_after(30):
                            result = await client.call_tool("caila_fit_service", CAILA_FIT)
                        acked[structured(result)["job"]["id"]] = replica
                        if len(acked) == KILL_AFTER:
                            killed_at[0] = time.time()
                            victim.send_signal(signal.SIGKILL)

                for _ in range(4):
                    tg.start_soon(worker)
        except Exception:
            broken.append(replica)

    with anyio.fail_after(180):
        async with anyio.create_task_group() as tg:
            for replica in range(len(urls)):
                tg.start_soon(drive, replica)
    return acked, broken, killed_at[0]
