"""DataRobot emulator: datasets of the AI Catalog, as ``Dataset.create_from_file`` of the official client makes them.

An upload answers 202 at once; the dataset is listed straight away with ``processingState: RUNNING`` and is
ingested ``INGEST_S`` later (``COMPLETED``, with its row and column counts). A file with no data rows fails
ingestion (``ERROR``), so a failed upload job can be reached. Like every job here, the state is a pure function
of the simulated time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from .datarobot_data import OWNER_USERNAME, Job, iso

__all__ = ["INGEST_S", "NO_ROWS", "Dataset", "dataset_json"]

INGEST_S = 5.0  # simulated seconds from the upload to a COMPLETED dataset
NO_ROWS = "The file has no data rows: a dataset needs a header line and at least one row"


def _shape(data: bytes) -> tuple[int, int]:
    """(rows, columns) of a CSV file: the header line names the columns, every other line is a row."""
    text = data.decode("utf-8", "replace")
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        return 0, 0
    return len(rows) - 1, len(rows[0])


@dataclass
class Dataset:
    id: str
    version_id: str
    name: str
    created: float
    data: bytes
    job: Job  # the upload's /status/{id}/ entry
    categories: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def error(self) -> str | None:
        return NO_ROWS if _shape(self.data)[0] == 0 else None

    def state(self, now: float) -> str:
        if now < self.created + INGEST_S:
            return "RUNNING"
        return "ERROR" if self.error else "COMPLETED"


def dataset_json(dataset: Dataset, now: float) -> dict[str, Any]:
    """The catalog item as ``GET /datasets/`` and ``GET /datasets/{id}/`` answer it.

    The official client requires datasetId, versionId, name, categories, creationDate, isDataEngineEligible,
    isLatestVersion, isSnapshot and processingState (datarobot 3.20.0, models/dataset.py, _base_dataset_schema).
    """
    state = dataset.state(now)
    body: dict[str, Any] = {
        "datasetId": dataset.id,
        "versionId": dataset.version_id,
        "name": dataset.name,
        "categories": list(dataset.categories),
        "creationDate": iso(dataset.created),
        "createdBy": OWNER_USERNAME,
        "dataPersisted": True,
        "isDataEngineEligible": True,
        "isLatestVersion": True,
        "isSnapshot": True,
        "datasetSize": len(dataset.data),
        "processingState": state,
        "uri": dataset.name,
        "error": dataset.error if state == "ERROR" else "",
    }
    if state == "COMPLETED":
        rows, columns = _shape(dataset.data)
        body["rowCount"] = rows
        body["columnCount"] = columns
    return body
