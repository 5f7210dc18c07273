"""One lease round of a replica on the shared store: which unfinished jobs it follows until the next round.

In one transaction a replica says it is alive (`replicas.seen`), renews its leases, and evens out the work:
its fair share is the open jobs divided by the live replicas (seen within one lease time). Below it, it takes
expired or never-leased jobs, oldest first, with `FOR UPDATE SKIP LOCKED` (two replicas never take the same
one, and neither waits on the other); above it by more than a tenth, it lets the newest excess go, for the
others to take on their next round. So a replica that starts takes its share, one that dies has its jobs
taken over within one lease time, and no replica holds every job because it started first.
"""

from __future__ import annotations

import math
from typing import Any

import psycopg

from modelops_mcp.jobs.model import TERMINAL

_TERMINAL = tuple(sorted(TERMINAL))
OPEN = f"status NOT IN ({', '.join('%s' for _ in _TERMINAL)}) AND following"
_LEASE = "make_interval(secs => %s)"


def lease_round(conn: psycopg.Connection[Any], replica: str, lease_s: float) -> list[str]:
    """The ids this replica holds after the round, oldest first. Run inside a transaction."""
    conn.execute(
        "INSERT INTO replicas (name, seen) VALUES (%s, now()) ON CONFLICT (name) DO UPDATE SET seen = now()",
        (replica,),
    )
    # Replicas gone for a day are forgotten (the table only counts the live ones).
    conn.execute("DELETE FROM replicas WHERE seen < now() - interval '1 day'")
    live_row = conn.execute(f"SELECT count(*) FROM replicas WHERE seen > now() - {_LEASE}", (lease_s,)).fetchone()
    live = max(1, int(live_row[0]) if live_row else 1)
    conn.execute(
        f"UPDATE jobs SET lease_until = now() + {_LEASE} WHERE lease_owner = %s AND {OPEN}",
        (lease_s, replica, *_TERMINAL),
    )
    counts = conn.execute(
        f"SELECT count(*), count(*) FILTER (WHERE lease_owner = %s) FROM jobs WHERE {OPEN}", (replica, *_TERMINAL)
    ).fetchone()
    total, held = (int(counts[0]), int(counts[1])) if counts else (0, 0)
    fair = math.ceil(total / live)
    if held > fair + max(1, fair // 10):
        conn.execute(
            "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE id IN ("
            f"SELECT id FROM jobs WHERE lease_owner = %s AND {OPEN} ORDER BY created_at DESC LIMIT %s "
            "FOR UPDATE SKIP LOCKED)",
            (replica, *_TERMINAL, held - fair),
        )
    elif held < fair:
        conn.execute(
            f"UPDATE jobs SET lease_owner = %s, lease_until = now() + {_LEASE} WHERE id IN ("
            f"SELECT id FROM jobs WHERE {OPEN} AND (lease_owner IS NULL OR lease_until < now()) "
            "ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED)",
            (replica, lease_s, *_TERMINAL, fair - held),
        )
    rows = conn.execute(
        f"SELECT id FROM jobs WHERE lease_owner = %s AND {OPEN} ORDER BY created_at", (replica, *_TERMINAL)
    ).fetchall()
    return [row[0] for row in rows]
