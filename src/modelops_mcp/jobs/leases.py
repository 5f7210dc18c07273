"""Holding leases on a shared store: this replica renews its own and takes its share three times per lease
time (pg_leases.py says how the share is decided), and the poller follows exactly the jobs it holds."""

from __future__ import annotations

import logging

import anyio

from modelops_mcp.jobs.poller import Poller
from modelops_mcp.jobs.store import Store

log = logging.getLogger(__name__)


async def hold_leases(store: Store, poller: Poller, lease_s: float) -> None:
    while True:
        await anyio.sleep(lease_s / 3)
        try:
            held = store.active_ids()
        except Exception as exc:  # the database is away: polls fail on their own; try again next round
            log.warning("renewing job leases failed: %s", type(exc).__name__)
            continue
        kept = set(held)
        for job_id in poller.followed():
            if job_id not in kept:
                poller.drop(job_id)  # another replica holds it now
        taken = poller.resume(held)
        if taken:
            log.info("took %d job(s) to follow (new, or their lease had expired)", taken)
