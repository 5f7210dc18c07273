"""DataRobot emulator: the AI Catalog's datasets — upload from a file (202 → status → 303), list, get, delete.

``POST /datasets/fromFile/`` is what the official client's ``Dataset.create_from_file`` sends: one multipart
``file`` part; it then follows the ``Location`` to ``/status/{id}/`` until a 303 names ``/datasets/{id}/``.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .datarobot_catalog import INGEST_S, Dataset, dataset_json
from .datarobot_data import MAX_UPLOAD_BYTES
from .datarobot_forms import read_form
from .datarobot_http import ApiError, Base, bool_param, enum_param, invalid, not_found, paginate

__all__ = ["CATEGORIES", "DatasetHandlers"]

CATEGORIES = ("TRAINING", "PREDICTION", "SAMPLE")


class DatasetHandlers(Base):
    def routes(self) -> list[Route]:
        return [
            Route("/datasets/", self.list_datasets, methods=["GET"]),
            Route("/datasets/fromFile/", self.upload, methods=["POST"]),
            Route("/datasets/{datasetId}/", self.get, methods=["GET"]),
            Route("/datasets/{datasetId}/", self.delete, methods=["DELETE"]),
        ]

    def _dataset(self, request: Request) -> Dataset:
        dataset_id = request.path_params["datasetId"]
        dataset = self.state.live_dataset(dataset_id)
        if dataset is None:
            raise not_found("Dataset", dataset_id)
        return dataset

    async def upload(self, request: Request) -> Response:
        form = await read_form(request)
        try:
            part = form.get("file")
            if not isinstance(part, UploadFile):
                why = "This field is required." if part is None else "must be a file part"
                raise invalid(f"file: {why}", file=why)
            categories = [c for c in form.getlist("categories") if isinstance(c, str) and c]
            unknown = [c for c in categories if c not in CATEGORIES]
            if unknown:
                why = f"must be one of {', '.join(CATEGORIES)}"
                raise invalid(f"categories: {unknown[0]} {why}", categories=why)
            data = await part.read()
            name = part.filename or "data.csv"
        finally:
            await form.close()
        if len(data) > MAX_UPLOAD_BYTES:
            raise ApiError(413, f"The file has {len(data)} bytes, more than the {MAX_UPLOAD_BYTES} bytes allowed")
        now = self.clock.now()
        dataset_id = self.state.new_id()
        job = self.state.add_job(now, INGEST_S, f"/datasets/{dataset_id}/", "Dataset upload")
        dataset = Dataset(dataset_id, self.state.new_id(), name, now, data, job, categories)
        job.error = dataset.error  # the job ends in ERROR with this message when ingestion fails
        self.state.datasets[dataset.id] = dataset
        body = {"catalogId": dataset.id, "catalogVersionId": dataset.version_id, "statusId": job.id}
        return self.accepted(request, job, body)

    async def list_datasets(self, request: Request) -> Response:
        now = self.clock.now()
        category = enum_param(request, "category", CATEGORIES)
        order = enum_param(request, "orderBy", ("created", "-created")) or "-created"
        filter_failed = bool_param(request, "filterFailed")
        found = [d for d in self.state.datasets.values() if not d.deleted]  # creation order
        if order == "-created":
            found = sorted(reversed(found), key=lambda d: -d.created)
        found = [
            d
            for d in found
            if (category is None or category in d.categories) and not (filter_failed and d.state(now) == "ERROR")
        ]
        return JSONResponse(paginate(request, found, lambda d: dataset_json(d, now)))

    async def get(self, request: Request) -> Response:
        return JSONResponse(dataset_json(self._dataset(request), self.clock.now()))

    async def delete(self, request: Request) -> Response:
        # A soft delete, as the service does: the dataset can no longer be read, listed or tested on.
        self._dataset(request).deleted = True
        return Response(status_code=204)
