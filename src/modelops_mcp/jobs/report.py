"""Jobs as text: one line for an agent or a progress message, a table and a full view for `modelops-mcp jobs`."""

from __future__ import annotations

import json
from collections.abc import Sequence

from modelops_mcp.jobs.curves import curve_lines
from modelops_mcp.jobs.model import Job


def describe(job: Job) -> str:
    """One line an agent (or a person) can act on."""
    parts = [f"job {job.id} ({job.operation}): {job.status}"]
    if job.progress is not None:
        parts.append(f"{job.progress:.0%}")
    if job.state:
        parts.append(f"state {job.state}")
    if not job.following:
        parts.append("not followed (the remote job may still run)")
    line = ", ".join(parts)
    if job.message:
        line += f" — {job.message}"
    return line


_COLUMNS = ("ID", "BACKEND", "OPERATION", "STATUS", "PROGRESS", "STATE", "CREATED", "MESSAGE")


def _row(job: Job) -> tuple[str, ...]:
    progress = "" if job.progress is None else f"{job.progress:.0%}"
    message = (job.message or "").replace("\n", " ")
    status = job.status if job.following else f"{job.status} (not followed)"
    return (job.id, job.backend, job.operation, status, progress, job.state or "", job.created_at, message[:60])


def table(jobs: Sequence[Job]) -> str:
    if not jobs:
        return "no jobs"
    rows = [_COLUMNS, *(_row(job) for job in jobs)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def show_job(job: Job) -> str:
    lines = [
        f"job {job.id}  ({job.uri})",
        f"  operation  {job.backend} / {job.operation}",
        f"  remote ids {json.dumps(job.remote)}",
        f"  started at {job.origin or '(not recorded: never polled)'}",
        f"  status     {job.status}" + (f"  {job.progress:.0%}" if job.progress is not None else ""),
    ]
    if not job.following:
        lines.append("  following  no: this server stopped following it; the remote job may still run")
    if job.state:
        lines.append(f"  state      {job.state}")
    if job.message:
        lines.append(f"  message    {job.message}")
    lines.append(f"  created    {job.created_at}")
    lines.append(f"  updated    {job.updated_at}")
    if job.finished_at:
        lines.append(f"  finished   {job.finished_at}")
    lines.append(f"  polls      {job.polls.count} ({job.polls.errors} failed)")
    if job.polls.last_error:
        lines.append(f"  last error {job.polls.last_error}")
    if job.error:
        lines.append(f"  error      {json.dumps(job.error)}")
    lines += _history(job)
    if job.result is not None:
        lines.append("  result     " + json.dumps(job.result, indent=2).replace("\n", "\n             "))
    return "\n".join(lines)


def _history(job: Job) -> list[str]:
    """The states the job went through and a sparkline per metric series (nothing for a job stored without)."""
    history = job.history.view("full")
    states = [entry["status"] + (f" ({entry['state']})" if entry["state"] else "") for entry in history["states"]]
    lines = []
    if states:
        shown = states[-6:]
        before = history["states_total"] - len(shown)
        lines.append("  timeline   " + (f"… {before} earlier → " if before > 0 else "") + " → ".join(shown))
    curves = curve_lines(history)
    if curves:
        lines.append("  metrics    " + "\n             ".join(curves))
    return lines
