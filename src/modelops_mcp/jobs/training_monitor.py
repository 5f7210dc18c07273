"""Training Module training jobs: the lifecycle from `/status`, the epoch's loss and metrics from `/monitor/{key}`.

`/status` says where the session is (declared rules, like any job); `/monitor` says how the training is
going. The monitor is asked only when a new epoch has completed, so following a training costs one extra
call per epoch, not per poll.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from modelops_mcp.jobs.adapters import Caller, Observation
from modelops_mcp.jobs.declared import DeclaredAdapter
from modelops_mcp.jobs.model import Job
from modelops_mcp.tools.catalog import Catalog, Operation
from modelops_mcp.tools.errors import ToolFailure
from modelops_mcp.tools.extension import JobDeclaration

MONITOR_OPERATION = "monitor"


def describe_epoch(body: Any) -> str | None:
    """`epoch 2/5 · loss 0.5321 · accuracy 0.8123` from a monitor answer; None when it holds no epoch."""
    if not isinstance(body, dict) or not isinstance(body.get("epoch"), int) or body["epoch"] < 1:
        return None
    parts = [f"epoch {body['epoch']}/{body.get('epochs', '?')}"]
    loss = body.get("loss")
    parts.append(f"loss {loss:.4f}" if isinstance(loss, int | float) else "loss n/a")
    metrics = body.get("metrics")
    if isinstance(metrics, dict):
        parts += [f"{name} {value:.4f}" for name, value in metrics.items() if isinstance(value, int | float)]
    return " · ".join(parts)


def epoch_metrics(job: Job, body: dict[str, Any]) -> dict[str, float]:
    """The epoch's loss and the evaluation metrics that are new, by name, for the job's history.

    The monitor reports the latest evaluation with every epoch, and an evaluation runs only every
    `epochs_per_test_run` epochs: a metric whose value is the one already recorded is that same evaluation
    again, not a point of this epoch.
    """
    values: dict[str, float] = {}
    loss = body.get("loss")
    if isinstance(loss, int | float) and not isinstance(loss, bool):
        values["loss"] = loss
    metrics = body.get("metrics")
    for name, value in (metrics if isinstance(metrics, dict) else {}).items():
        last = job.history.last(name)
        if name != "loss" and isinstance(value, int | float) and (last is None or last.value != value):
            values[name] = value
    return values


class TrainingMonitorAdapter(DeclaredAdapter):
    def __init__(self, declaration: JobDeclaration, start: Operation, catalog: Catalog) -> None:
        super().__init__(declaration, start, catalog)
        self._monitor = catalog.find(start.backend, MONITOR_OPERATION)
        self._last: dict[str, tuple[int, Any]] = {}  # job id → (epoch, monitor answer), for unfinished jobs

    async def poll(self, job: Job, call: Caller) -> Observation:
        status_op, ref = self._status_op, self.declaration.status
        if status_op is None or ref is None:
            return await super().poll(job, call)
        reply = await call(status_op, self.arguments_for(status_op, ref, job.remote))
        seen = self.interpret(reply.body)
        epoch = reply.body.get("epoch") if isinstance(reply.body, dict) else None
        details = await self._details(job, call, epoch) if seen.status in ("working", "completed") else None
        if seen.status != "working":
            self._last.pop(job.id, None)
        summary = describe_epoch(details)
        if summary is None or not isinstance(details, dict):
            return seen
        # While training, the epoch line says it all; at the end it follows the backend's closing words.
        message = f"{seen.message} {summary}" if seen.message and seen.status != "working" else summary
        result = {**reply.body, "last_epoch": details} if seen.result is not None else None
        metrics, epoch = epoch_metrics(job, details), details["epoch"]
        return replace(seen, message=message, result=result, metrics=metrics, step=epoch)

    async def _details(self, job: Job, call: Caller, epoch: Any) -> Any:
        if self._monitor is None or not isinstance(epoch, int) or epoch < 1 or "key" not in job.remote:
            return None
        cached = self._last.get(job.id)
        if cached is not None and cached[0] == epoch:
            return cached[1]
        try:
            reply = await call(self._monitor, {"key": job.remote["key"]})
        except ToolFailure:
            return cached[1] if cached is not None else None  # details are a bonus; the status already counts
        self._last[job.id] = (epoch, reply.body)
        return reply.body
