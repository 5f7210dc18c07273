"""Training Module training jobs: the lifecycle from `/status`, the epoch's loss and metrics from `/monitor/{key}`.

`/status` says where the session is (declared rules, like any job); `/monitor` says how the training is
going. The monitor is asked only when a new epoch has completed, so following a training costs one extra
call per epoch, not per poll (and one read of the config per job, to know which epoch an evaluation is from).
The loss and metrics go into the job's history as points at their epoch.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeGuard

from modelops_mcp.core.errors import ToolFailure
from modelops_mcp.jobs.adapters import Caller, Observation
from modelops_mcp.jobs.declared import DeclaredAdapter
from modelops_mcp.jobs.model import Job
from modelops_mcp.spec.catalog import Catalog, Operation
from modelops_mcp.spec.extension import JobDeclaration

MONITOR_OPERATION = "monitor"
CONFIG_OPERATION = "getTrainingConfig"


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


def last_evaluation(epoch: int, epochs: Any, every: int) -> int:
    """The epoch of the evaluation a monitor answer at `epoch` reports: one runs every `every` epochs and after
    the last (0: `init_eval`'s, before training)."""
    return epoch if isinstance(epochs, int) and epoch >= epochs else epoch // every * every


def epoch_points(body: dict[str, Any], every: int) -> dict[str, tuple[float | None, float]]:
    """The loss at its epoch and each evaluation metric at its evaluation's epoch, for the job's history.

    The monitor repeats the latest evaluation with every epoch; given its own epoch, the history records it
    once, and a later evaluation with the same value (a plateau) still counts.
    """
    epoch: int = body["epoch"]
    points: dict[str, tuple[float | None, float]] = {}
    if _number(loss := body.get("loss")):
        points["loss"] = (epoch, loss)
    evaluated = last_evaluation(epoch, body.get("epochs"), every)
    metrics = body.get("metrics")
    for name, value in (metrics if isinstance(metrics, dict) else {}).items():
        if name != "loss" and _number(value):
            points[name] = (evaluated, value)
    return points


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


class TrainingMonitorAdapter(DeclaredAdapter):
    def __init__(self, declaration: JobDeclaration, start: Operation, catalog: Catalog) -> None:
        super().__init__(declaration, start, catalog)
        self._monitor = catalog.find(start.backend, MONITOR_OPERATION)
        self._last: dict[str, tuple[int, Any]] = {}  # job id → (epoch, monitor answer), for unfinished jobs
        self._config = catalog.find(start.backend, CONFIG_OPERATION)
        self._every: dict[str, int] = {}  # job id → epochs_per_test_run, read once per job with its first epoch

    async def poll(self, job: Job, call: Caller) -> Observation:
        status_op, ref = self._status_op, self.declaration.status
        if status_op is None or ref is None:
            return await super().poll(job, call)
        reply = await call(status_op, self.arguments_for(status_op, ref, job.remote))
        seen = self.interpret(reply.body)
        epoch = reply.body.get("epoch") if isinstance(reply.body, dict) else None
        details = await self._details(job, call, epoch) if seen.status in ("working", "completed") else None
        every = self._every.get(job.id, 1)
        if seen.status != "working":
            self._last.pop(job.id, None)
            self._every.pop(job.id, None)
        summary = describe_epoch(details)
        if summary is None or not isinstance(details, dict):
            return seen
        # While training, the epoch line says it all; at the end it follows the backend's closing words.
        message = f"{seen.message} {summary}" if seen.message and seen.status != "working" else summary
        result = {**reply.body, "last_epoch": details} if seen.result is not None else None
        return replace(seen, message=message, result=result, metrics=epoch_points(details, every))

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
        if job.id not in self._every:
            self._every[job.id] = await self._evaluation_interval(call)
        return reply.body

    async def _evaluation_interval(self, call: Caller) -> int:
        """The session's epochs_per_test_run, so evaluations are recorded at their own epoch; 1 if unknown."""
        if self._config is None:
            return 1
        try:
            reply = await call(self._config, {})
        except ToolFailure:
            return 1  # the curves are a bonus: a repeated evaluation then shows once per epoch
        config = reply.body.get("config") if isinstance(reply.body, dict) else None
        every = config.get("epochs_per_test_run") if isinstance(config, dict) else None
        return every if isinstance(every, int) and not isinstance(every, bool) and every >= 1 else 1
