"""Training Module emulator: Numenta NuPIC's single-session FastAPI training server, mounted under ``/training``.

The real server has no API key; the session key in the path is its only check. Requests are validated the
way FastAPI does it (pydantic, before the handler runs), so a malformed request gets a 422 in FastAPI's
shape even when there is no session; everything else answers ``{"detail": ...}`` like an HTTPException.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .emulator import Emulator, EmulatorContext, EmulatorSpec
from .training_data import TrainingError, TrainingState
from .training_datasets import DatasetError

__all__ = ["SPEC", "VERSION", "TrainingConfigParams", "build"]

VERSION = "1.2.0"
_INT: TypeAdapter[int] = TypeAdapter(int)
_BOOL: TypeAdapter[bool] = TypeAdapter(bool)
_STR: TypeAdapter[str] = TypeAdapter(str)
_REQUIRED = object()  # a query parameter without a default
_FILE_FIELDS = ("train_file", "test_file")


class TrainingConfigParams(BaseModel):
    """The body of ``POST /parameters/{key}``: every field optional, unknown fields ignored."""

    model: str | None = None
    task_type: str | None = None
    batch_size: int | None = Field(None, ge=1)
    epochs: int | None = Field(None, ge=1, le=1000)
    eval_metrics: list[str] | None = None
    epochs_per_test_run: int | None = Field(None, ge=1)
    learning_rate: float | None = Field(None, gt=0)
    seed: int | None = None
    init_eval: bool | None = None
    cache_dir: str | None = None
    overwrite_cache: bool | None = None


class _RequestInvalid(Exception):
    """The request failed validation; ``errors`` are FastAPI's 422 ``detail`` items."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _missing(*loc: str) -> dict[str, Any]:
    return {"type": "missing", "loc": list(loc), "msg": "Field required", "input": None}


def _located(exc: ValidationError, *prefix: str) -> list[dict[str, Any]]:
    return [{**error, "loc": [*prefix, *error["loc"]]} for error in exc.errors(include_url=False)]


def _query(request: Request, params: dict[str, tuple[TypeAdapter[Any], object]]) -> dict[str, Any]:
    """Query parameters by name, each validated by its adapter; ``_REQUIRED`` as default means required."""
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for name, (adapter, default) in params.items():
        raw = request.query_params.get(name)
        if raw is None:
            if default is _REQUIRED:
                errors.append(_missing("query", name))
            values[name] = default
            continue
        try:
            values[name] = adapter.validate_python(raw)
        except ValidationError as exc:
            errors += _located(exc, "query", name)
    if errors:
        raise _RequestInvalid(errors)
    return values


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def _config_updates(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        raise _RequestInvalid([_missing("body")])
    content_type = request.headers.get("content-type")
    # FastAPI parses JSON only when the content type says so (or is absent); any other body reaches the
    # model as text and fails its type check.
    body: Any = raw.decode("utf-8", "replace")
    if content_type is None or _is_json(content_type):
        try:
            body = json.loads(raw)
        except UnicodeDecodeError:
            raise HTTPException(400, "There was an error parsing the body") from None
        except json.JSONDecodeError as exc:
            error = {"type": "json_invalid", "loc": ["body", exc.pos], "msg": "JSON decode error", "input": {}}
            raise _RequestInvalid([{**error, "ctx": {"error": exc.msg}}]) from None
    try:
        params = TrainingConfigParams.model_validate(body, from_attributes=True)
    except ValidationError as exc:
        raise _RequestInvalid(_located(exc, "body")) from None
    # A null field reads as "not given", so it leaves the current value alone.
    return params.model_dump(exclude_none=True)


async def _uploaded_files(request: Request) -> list[tuple[str, bytes]]:
    """(file name, bytes) of ``train_file`` and ``test_file``, in that order."""
    files: list[tuple[str, bytes]] = []
    errors: list[dict[str, Any]] = []
    async with request.form() as form:
        for field in _FILE_FIELDS:
            value = form.get(field)
            # FastAPI treats an empty form value like a missing one.
            if value is None or value == "":
                errors.append(_missing("body", field))
            elif isinstance(value, UploadFile):
                files.append((value.filename or field, await value.read()))
            else:
                msg = f"Value error, Expected UploadFile, received: {type(value)}"
                loc = ["body", field]
                errors.append({"type": "value_error", "loc": loc, "msg": msg, "input": value, "ctx": {"error": {}}})
    if errors:
        raise _RequestInvalid(errors)
    return files


def _attachment(filename: str) -> str:
    try:
        filename.encode("latin-1")
    except UnicodeEncodeError:
        # HTTP headers are latin-1; RFC 6266's filename* carries any other name, as Starlette's FileResponse does.
        return f"attachment; filename*=utf-8''{quote(filename)}"
    # Verbatim, "/" included: the real server sends the model name as is and clients must sanitize it.
    return f'attachment; filename="{filename}"'


class _Handlers:
    def __init__(self, state: TrainingState) -> None:
        self.state = state

    def _checked(self, request: Request) -> TrainingState:
        self.state.check_key(request.path_params["key"])
        return self.state

    async def start_session(self, request: Request) -> Response:
        force = _query(request, {"force_restart": (_INT, 0)})["force_restart"]
        key = self.state.start_session(force)
        return JSONResponse({"status": self.state.status, "key": key, "message": "Session started."})

    async def set_parameters(self, request: Request) -> Response:
        updates = await _config_updates(request)
        state = self._checked(request)
        state.configure(updates)
        return JSONResponse(
            {"status": state.status, "key": state.key, "message": "Training config updated.", "config": state.config}
        )

    async def get_parameters(self, request: Request) -> Response:
        state = self.state
        state.require_session()
        return JSONResponse({"status": state.status, "key": state.key, "config": state.config})

    async def upload_dataset(self, request: Request) -> Response:
        train, test = await _uploaded_files(request)
        state = self._checked(request)
        try:
            dataset = state.upload(train, test)
        except DatasetError as exc:
            raise TrainingError(400, f"Error while loading the dataset: {exc}.") from None
        return JSONResponse({"status": state.status, "message": "Dataset uploaded.", "dataset": dataset.to_json()})

    async def preprocess(self, request: Request) -> Response:
        state = self._checked(request)
        state.start_preprocessing()
        return JSONResponse({"status": state.status, "message": "Preprocessing started."})

    async def preprocess_status(self, request: Request) -> Response:
        return JSONResponse(self.state.preprocess_status())

    async def start_training(self, request: Request) -> Response:
        state = self._checked(request)
        epochs = state.start_training()
        return JSONResponse(
            {"status": state.status, "message": f"Training started: {epochs} epochs.", "epochs": epochs}
        )

    async def stop_training(self, request: Request) -> Response:
        wipe = _query(request, {"force_restart": (_INT, 0)})["force_restart"] != 0
        state = self._checked(request)
        done, epochs = state.stop_training(wipe)
        message = f"Training stopped after epoch {done} of {epochs}"
        message += "; the session was wiped." if wipe else "."
        return JSONResponse({"status": state.status, "message": message})

    async def status(self, request: Request) -> Response:
        return JSONResponse(self.state.training_status())

    async def monitor(self, request: Request) -> Response:
        return JSONResponse(self._checked(request).monitor())

    async def model_ready(self, request: Request) -> Response:
        state = self._checked(request)
        return JSONResponse({"status": state.status, "model_ready": state.status == "trained"})

    async def download_model(self, request: Request) -> Response:
        state = self._checked(request)
        archive = state.model_archive()
        disposition = _attachment(f"{state.config['model']}-trained.zip")
        return Response(archive, media_type="application/zip", headers={"Content-Disposition": disposition})

    async def download_results(self, request: Request) -> Response:
        state = self._checked(request)
        return Response(
            state.results_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": _attachment("results.csv")},
        )

    async def healthcheck(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "session": self.state.status, "version": VERSION})

    async def import_model(self, request: Request) -> Response:
        query = _query(request, {"model_type": (_STR, _REQUIRED), "model_name": (_STR, _REQUIRED)})
        state = self._checked(request)
        state.start_import(query["model_type"], query["model_name"])
        message = f"Importing {query['model_name']} ({query['model_type']})."
        return JSONResponse({"status": state.status, "message": message})

    async def import_status(self, request: Request) -> Response:
        return JSONResponse(self.state.import_status())

    async def get_imported_model(self, request: Request) -> Response:
        query = _query(request, {"on_disk": (_BOOL, False), "tokenizer": (_BOOL, False)})
        model = self._checked(request).imported_model(query["on_disk"], query["tokenizer"])
        # "imported" names what the answer describes, whatever the session went on to do since.
        return JSONResponse({"status": "imported", "model": model})


async def _detail(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException | TrainingError)
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else None
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _RequestInvalid)
    return JSONResponse({"detail": exc.errors}, status_code=422)


def build(ctx: EmulatorContext) -> Emulator:
    state = TrainingState(ctx.clock.now)
    h = _Handlers(state)
    routes = [
        Route("/start_session", h.start_session, methods=["GET"]),
        Route("/parameters/{key}", h.set_parameters, methods=["POST"]),
        Route("/parameters", h.get_parameters, methods=["GET"]),
        Route("/upload_dataset/{key}", h.upload_dataset, methods=["POST"]),
        Route("/preprocess/{key}", h.preprocess, methods=["POST"]),
        Route("/preprocess_status", h.preprocess_status, methods=["GET"]),
        Route("/training/start/{key}", h.start_training, methods=["POST"]),
        Route("/training/stop/{key}", h.stop_training, methods=["POST"]),
        Route("/status", h.status, methods=["GET"]),
        Route("/monitor/{key}", h.monitor, methods=["GET"]),
        Route("/model_ready/{key}", h.model_ready, methods=["GET"]),
        Route("/download_model/{key}", h.download_model, methods=["GET"]),
        Route("/download_results/{key}", h.download_results, methods=["GET"]),
        Route("/healthcheck", h.healthcheck, methods=["GET"]),
        Route("/import_model/{key}", h.import_model, methods=["POST"]),
        Route("/import_status", h.import_status, methods=["GET"]),
        Route("/get_imported_model/{key}", h.get_imported_model, methods=["GET"]),
    ]
    # An app of its own, so unknown routes and wrong methods (HTTPExceptions from its router) answer
    # FastAPI's {"detail": "Not Found"} / {"detail": "Method Not Allowed"}.
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _detail, TrainingError: _detail, _RequestInvalid: _invalid},
    )
    return Emulator(app=app, state=state)


SPEC = EmulatorSpec(name="training", prefix="/training", url_env="TRAINING_MODULE_URL", key_env=None, build=build)
