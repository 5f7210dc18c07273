"""Caila (Just AI) emulator: the `/api/mlpgate` operations of the fit flow, mounted under ``/caila``.

Covers what the seed walks through — create a derived model, list fit configs and datasets, start a fit,
poll the job — with the auth, status codes and error bodies a Spring Boot service answers with.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .caila_data import (
    Account,
    CailaState,
    FitConfig,
    Model,
    dataset_info,
    fit_config_data,
    job_status,
    model_info,
)
from .clock import SimClock
from .emulator import Emulator, EmulatorContext, EmulatorSpec, route_path

__all__ = ["API_KEY_HEADER", "SPEC", "build", "spring_error"]

API_KEY_HEADER = "MLP-API-KEY"
_API = "/api/mlpgate"
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_LONG = re.compile(r"-?\d+")
# Spring's String → Boolean conversion accepts these spellings (case-insensitively).
_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


def spring_error(status: int, message: str, path: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """An error in Spring Boot's default shape, which is what the Caila gateway (a Spring service) sends."""
    body = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "status": status,
        "error": HTTPStatus(status).phrase,
        "message": message,
        "path": path,
    }
    return JSONResponse(body, status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    path = route_path(request.scope)
    message = exc.detail
    # The router raises these with a bare reason phrase; Spring words them like this.
    if exc.status_code == 404 and message == HTTPStatus.NOT_FOUND.phrase:
        message = f"No endpoint {request.method} {path}."
    elif exc.status_code == 405 and message == HTTPStatus.METHOD_NOT_ALLOWED.phrase:
        message = f"Request method '{request.method}' is not supported"
    return spring_error(exc.status_code, message, path, dict(exc.headers or {}))


class _ApiKeyAuth:
    """Rejects a request without a valid ``MLP-API-KEY`` before any route runs, unknown routes included."""

    def __init__(self, app: ASGIApp, ctx: EmulatorContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = API_KEY_HEADER.lower().encode("latin-1")
        key = next((v.decode("latin-1") for k, v in scope["headers"] if k.lower() == name), None)
        if self.ctx.accepts_key(key):
            await self.app(scope, receive, send)
            return
        # The wrong key is echoed on purpose: the MCP server must redact secrets from backend errors,
        # and this is how its tests see one come back.
        message = f"Required header '{API_KEY_HEADER}' is missing" if not key else f"API key '{key}' is not valid"
        await spring_error(401, message, route_path(scope))(scope, receive, send)


def _bad_request(message: str) -> HTTPException:
    return HTTPException(400, message)


def _conversion_failed(java_type: str, name: str, raw: str) -> str:
    return f"Failed to convert value of type 'java.lang.String' to required type '{java_type}' for '{name}': {raw!r}"


def _parse_bool(raw: str | None, name: str) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise _bad_request(_conversion_failed("boolean", name, raw))


def _parse_long(raw: str, name: str) -> int:
    if not _LONG.fullmatch(raw) or not _INT64_MIN <= int(raw) <= _INT64_MAX:
        raise _bad_request(_conversion_failed("long", name, raw))
    return int(raw)


def _is_long(value: object) -> bool:
    # bool is an int subclass in Python; JSON true is not a number to Jackson.
    return isinstance(value, int) and not isinstance(value, bool) and _INT64_MIN <= value <= _INT64_MAX


class _Handlers:
    def __init__(self, state: CailaState, clock: SimClock) -> None:
        self.state = state
        self.clock = clock

    def _account(self, request: Request) -> Account:
        ref = request.path_params["account"]
        account = self.state.find_account(ref)
        if account is None:
            raise HTTPException(404, f"Account '{ref}' not found")
        return account

    def _model(self, request: Request) -> tuple[Account, Model]:
        account = self._account(request)
        ref = request.path_params["model"]
        model = self.state.find_model(account, ref)
        if model is None:
            raise HTTPException(404, f"Model '{ref}' not found in account '{account.name}'")
        return account, model

    async def derived(self, request: Request) -> Response:
        # Spring binds query parameters before the controller runs, so their 400s come before any 404.
        name = request.query_params.get("name", "")
        if not name.strip():
            raise _bad_request("Required request parameter 'name' for method parameter type String is not present")
        hidden = _parse_bool(request.query_params.get("hidden"), "hidden")
        account, base = self._model(request)
        if not base.fittable:
            raise _bad_request(f"Model '{base.name}' is not fittable, so no derived model can be created from it")
        if any(m.account_id == account.account_id and m.name == name for m in self.state.models):
            raise HTTPException(409, f"Model with name '{name}' already exists in account '{account.name}'")
        model = self.state.create_derived(account, base, name, hidden=bool(hidden))
        return JSONResponse(model_info(model, account))

    async def fit_configs(self, request: Request) -> Response:
        _, model = self._model(request)
        return JSONResponse([fit_config_data(c) for c in self.state.configs_of(model)])

    async def own_account(self, request: Request) -> Response:
        # GET /api/mlpgate/account (the vendor document's ensureAccount): the key's own account, as
        # AccountInfoData. Every sandbox key belongs to the first account.
        account = self.state.accounts[0]
        limits = {
            "baseModelInstanceLimit": 10,
            "derivedModelInstanceLimit": 10,
            "gpuModelInstanceLimit": 1,
            "cpuLimit": "8",
            "memoryLimit": "32Gi",
            "ephemeralDiskLimit": "20Gi",
            "fitPerMinute": 10,
            "predictPerSec": 100,
        }
        return JSONResponse(
            {
                "accountId": account.account_id,
                "shortName": account.name,
                "displayName": account.display_name,
                "language": "EN",
                "limits": limits,
            }
        )

    async def datasets(self, request: Request) -> Response:
        account = self._account(request)
        return JSONResponse([dataset_info(d, account) for d in self.state.datasets_of(account)])

    async def _fit_request(self, request: Request) -> dict[str, Any]:
        content_type = request.headers.get("content-type", "")
        if "json" not in content_type.lower():
            shown = content_type or "application/octet-stream"
            raise HTTPException(415, f"Content-Type '{shown}' is not supported")
        try:
            body = json.loads(await request.body())
        except ValueError as exc:
            raise _bad_request(f"JSON parse error: {exc}") from None
        if not isinstance(body, dict):
            raise _bad_request("JSON parse error: FitRequestData must be a JSON object")
        if body.get("datasetId") is None:
            raise _bad_request("JSON parse error: missing required field 'datasetId' of FitRequestData")
        for name in ("datasetId", "configId"):
            if body.get(name) is not None and not _is_long(body[name]):
                raise _bad_request(f"JSON parse error: '{name}' must be an integer (int64), got {body[name]!r}")
        if body.get("config") is not None and not isinstance(body["config"], dict):
            raise _bad_request("JSON parse error: 'config' must be a JSON object")
        if body.get("billingToken") is not None and not isinstance(body["billingToken"], str):
            raise _bad_request("JSON parse error: 'billingToken' must be a string")
        return body

    async def fit(self, request: Request) -> Response:
        body = await self._fit_request(request)
        account, model = self._model(request)
        config_id, inline = body.get("configId"), body.get("config")
        if config_id is not None and inline is not None:
            raise _bad_request("Pass config or configId, not both")
        if not model.fittable:
            raise _bad_request(f"Model '{model.name}' is not fittable")
        dataset = self.state.visible_dataset(account, body["datasetId"])
        if dataset is None:
            raise HTTPException(404, f"Dataset {body['datasetId']} not found in account '{account.name}'")
        config: FitConfig | None = None
        configs = self.state.configs_of(model)
        if config_id is not None:
            config = next((c for c in configs if c.config_id == config_id), None)
            if config is None:
                raise HTTPException(404, f"Fit config {config_id} not found for model '{model.name}'")
        elif inline is None:
            config = next((c for c in configs if c.is_default), None)
            if config is None:
                raise _bad_request(f"Model '{model.name}' has no default fit config; pass config or configId")
        job = self.state.start_fit(model, dataset, config, inline, body.get("billingToken"), self.clock.now())
        return JSONResponse(job_status(job, self.clock.now()))

    async def job(self, request: Request) -> Response:
        job_id = _parse_long(request.path_params["job_id"], "jobId")
        account = self._account(request)
        job = self.state.jobs.get(job_id)
        # A job is visible only through the account that owns it, as with every other Caila resource.
        if job is None or job.account_id != account.account_id:
            raise HTTPException(404, f"Job {job_id} not found in account '{account.name}'")
        return JSONResponse(job_status(job, self.clock.now()))


def build(ctx: EmulatorContext) -> Emulator:
    state = CailaState()
    h = _Handlers(state, ctx.clock)
    model = _API + "/account/{account}/model/{model}"
    routes = [
        Route(model + "/derived", h.derived, methods=["POST"]),
        Route(model + "/fit-config", h.fit_configs, methods=["GET"]),
        Route(model + "/fit", h.fit, methods=["POST"]),
        Route(_API + "/account", h.own_account, methods=["GET"]),
        Route(_API + "/account/{account}/dataset", h.datasets, methods=["GET"]),
        Route(_API + "/account/{account}/job/{job_id}", h.job, methods=["GET"]),
    ]
    # A Starlette app of its own, so that unknown routes and wrong methods (raised by its router as
    # HTTPException) also come back as Spring-style JSON.
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_ApiKeyAuth, ctx=ctx)],
        exception_handlers={HTTPException: _http_error},
    )
    return Emulator(app=app, state=state)


SPEC = EmulatorSpec(name="caila", prefix="/caila", url_env="CAILA_BASE_URL", key_env="CAILA_API_KEY", build=build)
