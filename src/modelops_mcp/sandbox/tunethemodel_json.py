"""The JSON the emulated Tune the Model service sends for models and files, in both field spellings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .tunethemodel_data import EPOCH, FILE_FAILED, TtmFile, TtmModel

__all__ = ["file_json", "model_json", "timestamp"]


def timestamp(seconds: float) -> str:
    """``last_updated_time`` for simulated second ``seconds``: UTC, ``str(datetime)`` style, always with micros."""
    return (EPOCH + timedelta(seconds=seconds)).isoformat(sep=" ", timespec="microseconds")


def model_json(model: TtmModel, now: float) -> dict[str, Any]:
    """A Model in both spellings: ``model_id``/``name`` (the SDK) and ``model_name``/``user_name`` (the seed)."""
    status, since = model.phase(now)
    body: dict[str, Any] = {
        "model_id": model.id,
        "model_name": model.id,
        "name": model.name,
        "user_name": model.name,
        "model_type": model.model_type,
        "model_params": {"num_classes": model.num_classes, "train_iters": model.train_iters},
        "base_model": model.base_model,
        "status": status,
        "last_updated_time": timestamp(since),
        "train_file": model.train_file,
        "validate_file": model.validate_file,
    }
    error = model.error(now)
    if error is not None:
        body["error"] = error
    return body


def file_json(file: TtmFile, now: float) -> dict[str, Any]:
    status, since = file.phase(now)
    body: dict[str, Any] = {
        "file_id": file.id,
        "name": file.name,
        "file_name": file.name,
        "task_type": file.task_type,
        "status": status,
        "num_rows": file.num_rows,
        "last_updated_time": timestamp(since),
    }
    if status == FILE_FAILED:
        body["error"] = file.error
    return body
