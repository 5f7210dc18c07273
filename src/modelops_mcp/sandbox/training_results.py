"""What an emulated training run produces: per-epoch loss and eval metrics, the model archive, the results CSV.

Everything is a pure function of the training config, so a run can be replayed from the config and the number
of completed epochs alone, and two runs with the same seed produce identical numbers and identical bytes.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import zipfile
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DIVERGENCE_EPOCH",
    "DIVERGENCE_LEARNING_RATE",
    "MODEL_BIN_SIZE",
    "EpochResult",
    "diverges",
    "epoch_loss",
    "epoch_metrics",
    "history",
    "metric_names",
    "model_archive",
    "results_csv",
]

# A learning rate above this makes the loss NaN at DIVERGENCE_EPOCH, the way a real fine-tune blows up.
DIVERGENCE_LEARNING_RATE = 0.1
DIVERGENCE_EPOCH = 2
MODEL_BIN_SIZE = 64 * 1024
# Fixed so the archive's bytes depend on the run only, never on when it was built.
_ZIP_DATE_TIME = (2024, 1, 1, 0, 0, 0)
_DEFAULT_LEARNING_RATE = 5e-05


@dataclass(frozen=True)
class EpochResult:
    epoch: int  # 1-based
    loss: float | None  # None once the run diverged (the real server reports NaN, which JSON cannot carry)
    metrics: dict[str, float]  # empty when no evaluation ran after this epoch

    def to_json(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "loss": self.loss, "metrics": self.metrics}


def _decay(learning_rate: float) -> float:
    # A larger learning rate converges faster; clamped so every curve stays smooth and strictly monotone
    # (the noise below is too small to undo one epoch of decay at the slowest rate).
    speedup: float = (learning_rate / _DEFAULT_LEARNING_RATE) ** 0.1
    return min(0.9, max(0.3, 0.55 * speedup))


def diverges(learning_rate: float) -> bool:
    return learning_rate > DIVERGENCE_LEARNING_RATE


def epoch_loss(seed: int, learning_rate: float, epoch: int) -> float | None:
    """Training loss after ``epoch``: falls from about 1.3 towards 0.05; None from the divergence epoch on."""
    if diverges(learning_rate) and epoch >= DIVERGENCE_EPOCH:
        return None
    u = random.Random(f"{seed}:{epoch}").random()
    return round(0.05 + (2.2 + 0.02 * u) * math.exp(-_decay(learning_rate) * epoch), 4)


def metric_names(config: dict[str, Any]) -> list[str]:
    # A metric listed twice is still evaluated (and reported) once.
    return list(dict.fromkeys(config["eval_metrics"]))


def epoch_metrics(seed: int, learning_rate: float, names: list[str], epoch: int) -> dict[str, float]:
    """Eval metrics after ``epoch`` (0 = before training): each rises towards its own plateau near 0.9."""
    values: dict[str, float] = {}
    for name in names:
        plateau = 0.86 + 0.06 * random.Random(f"{seed}:{name}").random()
        gap = (0.45 + 0.05 * random.Random(f"{seed}:{name}:{epoch}").random()) * math.exp(
            -_decay(learning_rate) * epoch
        )
        values[name] = round(min(1.0, max(0.0, plateau - gap)), 4)
    return values


def _evaluated(config: dict[str, Any], epoch: int) -> bool:
    every: int = config["epochs_per_test_run"]
    last: int = config["epochs"]
    return epoch % every == 0 or epoch == last


def history(config: dict[str, Any], completed: int) -> list[EpochResult]:
    """The results of epochs 1..``completed`` of a run with ``config``."""
    seed, rate, names = config["seed"], config["learning_rate"], metric_names(config)
    results = []
    for epoch in range(1, completed + 1):
        loss = epoch_loss(seed, rate, epoch)
        evaluated = loss is not None and _evaluated(config, epoch)
        results.append(EpochResult(epoch, loss, epoch_metrics(seed, rate, names, epoch) if evaluated else {}))
    return results


def _member(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def model_archive(config: dict[str, Any], results: list[EpochResult]) -> bytes:
    """The trained model as a zip: config.json, metrics.json (per-epoch history), model.bin (the weights)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _member(archive, "config.json", json.dumps(config, indent=2).encode())
        _member(archive, "metrics.json", json.dumps([r.to_json() for r in results], indent=2).encode())
        _member(archive, "model.bin", random.Random(config["seed"]).randbytes(MODEL_BIN_SIZE))
    return buffer.getvalue()


def results_csv(config: dict[str, Any], results: list[EpochResult]) -> bytes:
    """One row per epoch: ``epoch,loss,<metrics>``; a metric cell is empty when no evaluation ran that epoch."""
    names = metric_names(config)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["epoch", "loss", *names])
    for r in results:
        writer.writerow([r.epoch, "" if r.loss is None else r.loss, *(r.metrics.get(n, "") for n in names)])
    return text.getvalue().encode()
