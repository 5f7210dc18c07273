"""DataRobot emulator plumbing: auth, JSON errors, absolute URLs, pagination and request validation.

DataRobot answers every error as JSON ``{"message": ...}`` (422s add ``errors`` by field), builds ``next``,
``previous`` and ``Location`` as absolute URLs, and validates bodies before acting on them; so does this.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .clock import SimClock
from .datarobot_data import CustomModel, Job, ModelVersion
from .datarobot_state import DataRobotState
from .emulator import EmulatorContext

__all__ = [
    "ApiError",
    "Base",
    "TokenAuth",
    "absolute",
    "bool_param",
    "check",
    "enum_param",
    "http_error",
    "int_param",
    "invalid",
    "json_body",
    "not_found",
    "paginate",
]

_SCHEMES = {"bearer": "Bearer", "token": "Token"}
_TRUE, _FALSE = ("true", "True"), ("false", "False")
MAX_LIMIT = 1000  # every list schema caps data at 1000 items


class ApiError(HTTPException):
    """An error answered as ``{"message": ..., **extra}`` (``errors`` for 422s, ``jobId`` for some 404s)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(status, message)
        self.extra = extra


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, f"{kind} {ident} not found")


def invalid(message: str, **errors: str) -> ApiError:
    return ApiError(422, message, errors=errors) if errors else ApiError(422, message)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail
    # The router raises these with bare reason phrases; they read as the service's sentences instead.
    if exc.status_code == 404 and message == "Not Found":
        message = "Not found"
    elif exc.status_code == 405 and message == "Method Not Allowed":
        message = f"Method {request.method} is not allowed on this resource"
    body: dict[str, Any] = {"message": message}
    if isinstance(exc, ApiError):
        body.update(exc.extra)
    return JSONResponse(body, exc.status_code, headers=dict(exc.headers or {}))


class TokenAuth:
    """Checks ``Authorization: Bearer <token>`` or ``Token <token>`` before any route, unknown routes included.

    The docs show Bearer; the official Python client sends Token; both reach the same check.
    """

    def __init__(self, app: ASGIApp, ctx: EmulatorContext, state: DataRobotState) -> None:
        self.app = app
        self.ctx = ctx
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"authorization"), "")
        scheme, _, token = header.strip().partition(" ")
        name = _SCHEMES.get(scheme.lower())
        if name is not None and self.ctx.accepts_key(token.strip()):
            self.state.auth_schemes_seen.add(name)
            await self.app(scope, receive, send)
            return
        await JSONResponse({"message": "Invalid credentials"}, 401)(scope, receive, send)


def absolute(request: Request, path: str) -> str:
    """The absolute URL of ``path`` (a route under the mount), on the host and port the client used."""
    # request.base_url would drop the mount prefix (it keeps the app's own root); the scope's root_path is the
    # prefix the sandbox mounted this emulator under, and request.url keeps the scheme, host and port.
    root = request.scope.get("root_path", "").rstrip("/")
    return str(request.url.replace(path=root + path, query=""))


def int_param(request: Request, name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"The query parameter {name} must be an integer.", **{name: "must be an integer"}) from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise invalid(f"The query parameter {name} must be {bounds}.", **{name: f"must be {bounds}"})
    return value


def bool_param(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw in _TRUE or raw in _FALSE:
        return raw in _TRUE
    raise invalid(f"The query parameter {name} must be true or false.", **{name: "must be one of true, false"})


def enum_param(request: Request, name: str, allowed: Sequence[str]) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        why = f"must be one of {', '.join(allowed)}"
        raise invalid(f"The query parameter {name} {why}.", **{name: why})
    return raw


def paginate(
    request: Request, items: Sequence[Any], render: Callable[[Any], dict[str, Any]], *, total: bool = True
) -> dict[str, Any]:
    """One page of ``items`` under ``offset``/``limit`` with absolute ``next``/``previous`` links."""
    offset = int_param(request, "offset", 0, 0)
    limit = int_param(request, "limit", 100, 1, MAX_LIMIT)
    page = items[offset : offset + limit]
    url = request.url
    following = str(url.include_query_params(offset=offset + limit, limit=limit))
    preceding = str(url.include_query_params(offset=max(0, offset - limit), limit=limit))
    body: dict[str, Any] = {
        "count": len(page),
        "data": [render(item) for item in page],
        "next": following if offset + limit < len(items) else None,
        "previous": preceding if offset > 0 else None,
    }
    if total:
        body["totalCount"] = len(items)
    return body


def _where(error: ValidationError) -> tuple[str, str]:
    """(field, reason) of one schema violation, named the way a client wrote the field."""
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        names = error.validator_value if isinstance(error.validator_value, list) else []
        missing = next((n for n in names if n not in error.instance), "")
        return (f"{path}.{missing}" if path else missing), "This field is required."
    return path or "body", error.message


def check(body: Any, schema: dict[str, Any]) -> None:
    """422 with one reason per invalid field when ``body`` breaks ``schema`` (the seed's request schema)."""
    errors: dict[str, str] = {}
    for error in Draft202012Validator(schema).iter_errors(body):
        where, why = _where(error)
        errors.setdefault(where, why)
    if errors:
        first = sorted(errors)[0]
        raise ApiError(422, f"Invalid field data: {first}: {errors[first]}", errors=errors)


async def json_body(request: Request, schema: dict[str, Any]) -> dict[str, Any]:
    """The request's JSON object, validated against ``schema``; an empty body counts as ``{}``."""
    raw = await request.body()
    if not raw.strip():
        body: Any = {}
    else:
        try:
            body = json.loads(raw)
        except ValueError:
            raise invalid("The request body is not valid JSON.", body="must be a JSON object") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.", body="must be a JSON object")
    check(body, schema)
    return body


class Base:
    """What every group of handlers shares: the state, the clock, and the lookups that answer 404."""

    def __init__(self, state: DataRobotState, clock: SimClock) -> None:
        self.state = state
        self.clock = clock

    def find_model(self, model_id: str) -> CustomModel:
        model = self.state.models.get(model_id)
        if model is None:
            raise not_found("Custom model", model_id)
        return model

    @staticmethod
    def find_version(model: CustomModel, version_id: str, now: float) -> ModelVersion:
        version = model.version(version_id, now)
        if version is None:
            raise not_found("Custom model version", version_id)
        return version

    def model(self, request: Request) -> CustomModel:
        return self.find_model(request.path_params["customModelId"])

    def version(self, request: Request, model: CustomModel, now: float) -> ModelVersion:
        return self.find_version(model, request.path_params["customModelVersionId"], now)

    def accepted(self, request: Request, job: Job, body: dict[str, Any] | None = None) -> JSONResponse:
        """202 with ``Location`` at the job's absolute status URL; the body defaults to ``{"statusId"}``."""
        location = absolute(request, f"/status/{job.id}/")
        return JSONResponse(body if body is not None else {"statusId": job.id}, 202, headers={"Location": location})
