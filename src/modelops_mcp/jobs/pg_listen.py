"""Hearing the other replicas: LISTEN on the shared store's channel, and wake this replica's waiters.

A notice is `<replica> <job id>`, sent (pg_store.announce) after a visible change is stored; this replica's
own are skipped, since its tracker already woke everyone. A dropped connection is reopened after a pause;
notices sent meanwhile are lost, but waiters re-read the job at least every minimum interval anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio
import psycopg
from anyio.abc import TaskStatus

from modelops_mcp.jobs.pg_store import CHANNEL
from modelops_mcp.settings.store_url import shown_url

log = logging.getLogger(__name__)
RECONNECT_S = 1.0


async def listen_for_changes(
    url: str,
    replica: str,
    on_change: Callable[[str], Awaitable[None]],
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    started = False
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                if not started:  # listening before the server serves: no change after that is missed
                    started = True
                    task_status.started()
                async for notice in conn.notifies():
                    sender, _, job_id = notice.payload.partition(" ")
                    if sender != replica and job_id:
                        try:
                            await on_change(job_id)
                        except Exception:  # one job's listeners failing must not deafen the replica
                            log.exception("job %s: waking this replica's waiters failed", job_id)
        except psycopg.Error as exc:
            log.warning("listening for job changes at %s: %s; reconnecting", shown_url(url), type(exc).__name__)
        if not started:
            started = True
            task_status.started()  # serve anyway: waiters poll the store on their own
        await anyio.sleep(RECONNECT_S)
