"""Pieces OS emulator: the local model API (list, download, load, update) mounted under ``/pieces``.

Pieces OS is a local Dart server without auth; its errors are plain-text sentences. Download progress is
reported over a WebSocket, which this emulator serves too, driven by the sandbox's simulated clock.

Pieces' own clients open that socket *before* they start the download and never reconnect (the
``ModelProgressController`` of its TypeScript examples opens one per model from the models snapshot and
shows ``INITIALIZED`` "when you first press the button to download", then the percentages). So a socket
opened on a model that is not downloading stays open, says ``INITIALIZED`` when a download starts, then
``IN-PROGRESS`` frames, then ``COMPLETED``, ``FAILED`` or ``CANCELED``.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from .clock import SimClock
from .emulator import Emulator, EmulatorContext, EmulatorSpec
from .pieces_data import (
    COMPLETED,
    IN_PROGRESS,
    INITIALIZED,
    MODEL_TYPES,
    UNKNOWN,
    Download,
    PiecesModel,
    PiecesState,
    model_json,
)

__all__ = ["SPEC", "TICK", "build"]

# Real seconds between two looks at the clock on a progress socket: often enough to feel live, and a
# sleep, so a socket never spins.
TICK = 0.02

_BAD_MODEL = "The body must be a Model with an id."
_TOKEN_FIELDS = ("total", "input", "output")
_DROP_CODE, _DROP_REASON = 1011, "dropped by the sandbox"


async def _text_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return PlainTextResponse(exc.detail, exc.status_code, headers=dict(exc.headers or {}))


def _number(percent: float) -> int | float:
    # Whole percentages go out as JSON integers (100, not 100.0), as the vendor's frames show them.
    return int(percent) if percent.is_integer() else percent


def _updates(body: dict[str, Any]) -> dict[str, Any]:
    """The fields of a Model body that ``update`` applies; a null counts as not given."""
    given = {k: body.get(k) for k in ("name", "description", "type", "usage", "maxTokens")}
    changes = {k: v for k, v in given.items() if v is not None}
    for name in ("name", "description", "usage"):
        if name in changes and not isinstance(changes[name], str):
            raise HTTPException(400, f"The field {name} must be a string.")
    if "type" in changes and changes["type"] not in MODEL_TYPES:
        raise HTTPException(400, f"The field type must be one of {', '.join(MODEL_TYPES)}.")
    tokens = changes.get("maxTokens")
    if tokens is not None:
        valid = isinstance(tokens, dict) and all(
            tokens.get(k) is None or (isinstance(tokens[k], int) and not isinstance(tokens[k], bool))
            for k in _TOKEN_FIELDS
        )
        if not valid:
            raise HTTPException(400, "The field maxTokens must be an object of integers total, input and output.")
    return changes


def _apply(model: PiecesModel, changes: dict[str, Any]) -> None:
    model.name = changes.get("name", model.name)
    model.description = changes.get("description", model.description)
    model.type = changes.get("type", model.type)
    model.usage = changes.get("usage", model.usage)
    for name, value in changes.get("maxTokens", {}).items():
        if name in _TOKEN_FIELDS and value is not None:
            setattr(model.max_tokens, name, value)


class _Frames:
    """Sends the frames of one progress socket, honouring the ``drop_sockets_after`` knob."""

    def __init__(self, ws: WebSocket, state: PiecesState) -> None:
        self.ws = ws
        self.state = state
        self.sent = 0

    def _limit_reached(self) -> bool:
        limit = self.state.drop_sockets_after
        return limit is not None and self.sent >= limit

    async def send(self, frame: dict[str, Any]) -> bool:
        """Send ``frame``; False when the knob dropped the socket instead of it, or right after it."""
        if not self._limit_reached():
            await self.ws.send_json(frame)
            self.sent += 1
            if not self._limit_reached():
                return True
        await self.ws.close(_DROP_CODE, _DROP_REASON)
        return False

    async def finish(self, frame: dict[str, Any]) -> None:
        if await self.send(frame):
            await self.ws.close(1000)


async def _until_client_leaves(ws: WebSocket, scope: anyio.CancelScope) -> None:
    # A frozen clock may keep a download "running" forever; watching for the client's close is what lets
    # such a socket end when nobody listens any more. Frames from the client carry nothing and are ignored.
    while (await ws.receive())["type"] != "websocket.disconnect":
        pass
    scope.cancel()


class _Handlers:
    def __init__(self, state: PiecesState, clock: SimClock) -> None:
        self.state = state
        self.clock = clock

    def _model(self, request: Request, now: float) -> PiecesModel:
        model_id = request.path_params["model_id"]
        model = self.state.find(model_id, now)
        if model is None:
            raise HTTPException(404, f"Model {model_id} not found.")
        return model

    async def health(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def models(self, request: Request) -> Response:
        self.state.settle(self.clock.now())
        return JSONResponse({"iterable": [model_json(m) for m in self.state.models]})

    async def model(self, request: Request) -> Response:
        return JSONResponse(model_json(self._model(request, self.clock.now())))

    async def download(self, request: Request) -> Response:
        now = self.clock.now()
        model = self._model(request, now)
        if model.cloud:
            raise HTTPException(400, f"{model.name} is a cloud model; cloud models are not downloaded.")
        if not model.downloaded and not model.downloading:
            model.start_download(now)
        return JSONResponse(model_json(model))

    async def cancel(self, request: Request) -> Response:
        now = self.clock.now()
        model = self._model(request, now)
        model.cancel_download(now)
        return JSONResponse(model_json(model))

    async def load(self, request: Request) -> Response:
        model = self._model(request, self.clock.now())
        if model.cloud:
            raise HTTPException(400, f"{model.name} is a cloud model; only local models are loaded.")
        if not model.downloaded:
            raise HTTPException(409, f"Model {model.name} is not downloaded: download it before loading it.")
        self.state.load(model)
        return JSONResponse(model_json(model))

    async def unload(self, request: Request) -> Response:
        model = self._model(request, self.clock.now())
        model.loaded = False
        return JSONResponse(model_json(model))

    async def update(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise HTTPException(400, _BAD_MODEL)
        model = self.state.find(body["id"], self.clock.now())
        if model is None:
            raise HTTPException(404, f"Model {body['id']} not found.")
        if not model.custom:
            raise HTTPException(403, f"Only custom models can be updated (custom: true); {model.name} is not custom.")
        _apply(model, _updates(body))
        return JSONResponse(model_json(model))

    async def progress(self, ws: WebSocket) -> None:
        await ws.accept()
        self.state.sockets_opened += 1
        self.state.sockets_alive += 1
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_until_client_leaves, ws, tg.cancel_scope)
                await self._report(ws)
                tg.cancel_scope.cancel()
        finally:
            self.state.sockets_alive -= 1

    async def _report(self, ws: WebSocket) -> None:
        frames = _Frames(ws, self.state)
        try:
            model = self.state.find(ws.path_params["model_id"], self.clock.now())
            if model is None:
                await ws.close(1008, "model not found")
            elif model.download is not None:
                await self._follow(frames, model.download)
            elif model.downloaded:
                await frames.finish({"status": COMPLETED, "percentage": 100})
            elif model.cloud:
                await frames.finish({"status": UNKNOWN})  # never downloaded: nothing will ever be reported
            else:
                download = await self._until_a_download_starts(model)
                if await frames.send({"status": INITIALIZED}):
                    await self._follow(frames, download)
        except WebSocketDisconnect:
            pass  # the client left while a frame was going out; nobody is left to tell

    async def _until_a_download_starts(self, model: PiecesModel) -> Download:
        """The next download of ``model``; the socket waits (open, silent) until the client starts one."""
        before = model.last_download
        # Polled like the clock in _follow: the state is plain data shared by the routes, with no events.
        while (started := model.last_download) is before or started is None:  # noqa: ASYNC110
            await anyio.sleep(TICK)
        return started

    async def _follow(self, frames: _Frames, download: Download) -> None:
        last: float | None = None
        while True:
            status, percent = download.progress(self.clock.now())
            frame = {"status": status, "percentage": _number(percent)}
            if status != IN_PROGRESS:
                await frames.finish(frame)
                return
            if percent != last:
                if not await frames.send(frame):
                    return
                last = percent
            await anyio.sleep(TICK)


def build(ctx: EmulatorContext) -> Emulator:
    state = PiecesState()
    h = _Handlers(state, ctx.clock)
    model = "/model/{model_id}"
    routes: list[BaseRoute] = [
        Route("/.well-known/health", h.health, methods=["GET"]),
        Route("/models", h.models, methods=["GET"]),
        Route("/model/update", h.update, methods=["POST"]),
        Route(model, h.model, methods=["GET"]),
        Route(model + "/download", h.download, methods=["POST"]),
        Route(model + "/download/cancel", h.cancel, methods=["POST"]),
        Route(model + "/load", h.load, methods=["POST"]),
        Route(model + "/unload", h.unload, methods=["POST"]),
        WebSocketRoute(model + "/download/progress", h.progress),
    ]
    # A Starlette app of its own, so that unknown routes and wrong methods also answer in plain text.
    app = Starlette(routes=routes, exception_handlers={HTTPException: _text_error})
    return Emulator(app=app, state=state)


SPEC = EmulatorSpec(name="pieces", prefix="/pieces", url_env="PIECES_OS_URL", key_env=None, build=build)
