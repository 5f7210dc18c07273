"""Pieces OS model downloads: progress pushed over the `/model/{id}/download/progress` WebSocket.

Each text frame is `{status?, percentage?}`; INITIALIZED says a download started, IN-PROGRESS carries the
percentage, and COMPLETED, FAILED or CANCELED end the download. When the socket drops or falls silent, the
tracker falls back to polling the model snapshot (`downloading`/`downloaded`).

Pieces' own clients open the socket before they start the download, and Pieces keeps a socket on a model
that is not downloading open and silent until a download starts. This follower opens it just after the
download has started (the job exists only then), so it reads the snapshot once the socket is open: what
ended before the socket opened is in the snapshot, what happens after comes over the socket; nothing is
missed, and a download that ended first does not leave the job on a silent socket.

The client is `websockets` (asyncio): the reference WebSocket implementation for Python, and already the
library uvicorn serves WebSockets with.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import anyio
import httpx

from modelops_mcp.core.errors import ToolFailure
from modelops_mcp.jobs.adapters import Caller, Emit, Locator, Observation
from modelops_mcp.jobs.declared import DeclaredAdapter
from modelops_mcp.jobs.model import Job, JobStatus

log = logging.getLogger(__name__)

PROGRESS_PATH = "/model/{model}/download/progress"
# Frames come when the percentage moves; a socket silent this long is treated as dropped (then: polling).
SILENCE_S = 60.0
OPEN_TIMEOUT_S = 10.0
MAX_FRAME = 64 * 1024


def socket_url(base_url: str, model: str) -> str:
    base = httpx.URL(base_url)
    scheme = "wss" if base.scheme == "https" else "ws"
    return str(base.copy_with(scheme=scheme)).rstrip("/") + PROGRESS_PATH.format(model=quote(model, safe=""))


def parse_frame(raw: str | bytes) -> tuple[str, float | None] | None:
    """(STATUS, percentage) from one frame; None for a frame that is not the documented JSON object."""
    try:
        frame = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(frame, dict):
        return None
    status = frame.get("status")
    percentage = frame.get("percentage")
    if isinstance(percentage, bool) or not isinstance(percentage, int | float):
        percentage = None
    return (status.upper() if isinstance(status, str) else "UNKNOWN"), percentage


class PiecesDownloadAdapter(DeclaredAdapter):
    async def poll(self, job: Job, call: Caller) -> Observation:
        """The snapshot, when no socket is open: it tells running or ended, not how far along."""
        seen = await super().poll(job, call)
        if seen.status == "completed":
            return replace(seen, message="downloaded", progress=1.0)
        if seen.status == "failed":
            return replace(seen, message="the download stopped before completing: the model is not downloaded")
        return replace(seen, message=seen.message or "downloading (progress unknown while polling)")

    async def stream(self, job: Job, call: Caller, locate: Locator, emit: Emit) -> None:
        # Imported on first use: websockets costs ~50 ms at import, paid by every start otherwise.
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        url = socket_url(await locate(self.start.backend), str(job.remote["model"]))
        try:
            async with connect(url, open_timeout=OPEN_TIMEOUT_S, close_timeout=2, max_size=MAX_FRAME, proxy=None) as ws:
                opened = await self.poll(job, call)
                if opened.status != "working":
                    await emit(opened)  # it ended before the socket opened, which will not say so
                    return
                while True:
                    with anyio.fail_after(SILENCE_S):
                        raw = await ws.recv()
                    frame = parse_frame(raw)
                    if frame is None:
                        continue
                    if await self._frame(job, frame, call, emit):
                        return
        except (OSError, TimeoutError, WebSocketException) as exc:
            # Dropped, refused or silent: the tracker polls from here on.
            log.info("job %s: download progress socket ended: %s", job.id, type(exc).__name__)

    async def _frame(self, job: Job, frame: tuple[str, float | None], call: Caller, emit: Emit) -> bool:
        """Emit what one frame says; True once the download has ended."""
        status, percentage = frame
        shown = f"{percentage:g}%" if percentage is not None else "?"
        if status == "IN-PROGRESS":
            progress = None if percentage is None else min(1.0, max(0.0, percentage / 100))
            await emit(Observation(status="working", state=status, message=f"downloading: {shown}", progress=progress))
            return False
        ends: dict[str, tuple[JobStatus, str]] = {
            "COMPLETED": ("completed", "downloaded"),
            "FAILED": ("failed", f"the download failed at {shown}"),
            "CANCELED": ("cancelled", f"the download was cancelled at {shown}"),
        }
        if status not in ends:
            return False  # UNKNOWN, INITIALIZED, RESET: not an end; the socket's close hands over to polling
        outcome, message = ends[status]
        result = await self._snapshot(job, call)  # the model as it stands is the job's result
        await emit(
            Observation(
                status=outcome,
                state=status,
                message=message,
                progress=1.0 if outcome == "completed" else None,
                result=result,
            )
        )
        return True

    async def _snapshot(self, job: Job, call: Caller) -> Any:
        """The model as it stands, for the result of an ended job (None when the snapshot cannot be read)."""
        if self._status_op is None or self.declaration.status is None:
            return None
        try:
            reply = await call(
                self._status_op, self.arguments_for(self._status_op, self.declaration.status, job.remote)
            )
        except ToolFailure:
            return None
        return reply.body
