"""The status adapters this package ships, by the name a schema's `x-mcp.job.adapter` uses, and the
adapter of every job-starting operation of a catalog."""

from __future__ import annotations

import logging

from modelops_mcp.jobs.adapters import ADAPTERS, AdapterFactory, StatusAdapter
from modelops_mcp.jobs.datarobot_status import StatusLocationAdapter
from modelops_mcp.jobs.declared import DeclaredAdapter
from modelops_mcp.jobs.pieces_download import PiecesDownloadAdapter
from modelops_mcp.jobs.training_monitor import TrainingMonitorAdapter
from modelops_mcp.spec.catalog import Catalog

log = logging.getLogger(__name__)

BUILTIN_ADAPTERS: dict[str, AdapterFactory] = {
    "training_monitor": TrainingMonitorAdapter,
    "pieces_download": PiecesDownloadAdapter,
    "datarobot_status": StatusLocationAdapter,
}


def build_adapters(catalog: Catalog) -> dict[str, StatusAdapter]:
    adapters: dict[str, StatusAdapter] = {}
    factories = {**BUILTIN_ADAPTERS, **ADAPTERS}  # a registered adapter may replace a shipped one
    for op in catalog.operations.values():
        if op.job is None:
            continue
        name = op.job.adapter
        if name is None:
            adapters[op.tool_name] = DeclaredAdapter(op.job, op, catalog)
        elif name in factories:
            adapters[op.tool_name] = factories[name](op.job, op, catalog)
        else:
            log.warning("%s names an unknown job adapter %r; its jobs are not followed", op.tool_name, name)
    return adapters
