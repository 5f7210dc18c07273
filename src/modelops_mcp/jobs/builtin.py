"""The status adapters this package ships, by the name a schema's `x-mcp.job.adapter` uses."""

from __future__ import annotations

from modelops_mcp.jobs.adapters import AdapterFactory
from modelops_mcp.jobs.pieces_download import PiecesDownloadAdapter
from modelops_mcp.jobs.training_monitor import TrainingMonitorAdapter

BUILTIN_ADAPTERS: dict[str, AdapterFactory] = {
    "training_monitor": TrainingMonitorAdapter,
    "pieces_download": PiecesDownloadAdapter,
}
