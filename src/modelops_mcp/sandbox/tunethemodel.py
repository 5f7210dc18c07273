"""Tune the Model emulator: the ``/v0`` API the official ``tune-the-model`` SDK uses, mounted under ``/tunethemodel``.

The real service is a FastAPI app: errors are ``{"detail": "..."}``, auth is the raw key in
``Authorization`` (no ``Bearer``). Datasets are uploaded by a PUT of JSON rows to a presigned URL that
``POST /v0/files`` hands out; this emulator serves that URL itself (``/_upload/{file_id}``), unauthenticated
like a presigned URL, checked only by its signature.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .clock import SimClock
from .emulator import Emulator, EmulatorContext, EmulatorSpec
from .tunethemodel_bodies import (
    parse_binding,
    parse_classify,
    parse_generate,
    parse_json,
    parse_new_file,
    parse_new_model,
    parse_rows,
)
from .tunethemodel_data import (
    CLASSIFIER,
    GENERATOR,
    READY,
    TtmError,
    TtmModel,
    TtmState,
)
from .tunethemodel_json import file_json, model_json

__all__ = [
    "BEARER_REFUSED",
    "INVALID_KEY",
    "SPEC",
    "UPLOAD_PATH",
    "build",
    "classify_scores",
    "generate_texts",
    "upload_url",
]

INVALID_KEY = "Invalid API key"
# The real service takes the raw key; this names the mistake for clients that send the usual Bearer style.
BEARER_REFUSED = "Invalid API key: send the raw key in Authorization, without Bearer"
UPLOAD_PATH = "/_upload"

Endpoint = Callable[[Request], Awaitable[Response]]

# Words the emulated generators answer with; plain, so a generated text is easy to read in a demo log.
_WORDS = (
    "the model tunes data fast a clear answer with every new token reads well on this small test set "
    "and keeps its tone bright fresh dry oak fruit finish notes of cherry plum spice light body long"
)
_VOCABULARY = _WORDS.split()


def upload_url(request: Request, file_id: str, signature: str) -> str:
    """The absolute presigned URL of a file, on whatever host, port and mount this request came through."""
    root = request.scope.get("root_path", "")  # the mount prefix, plus any root path of the sandbox itself
    return str(request.url.replace(path=f"{root}{UPLOAD_PATH}/{file_id}", query=f"signature={signature}"))


# --- what a ready model answers: deterministic, so tests can compare two calls ---------------------------


def _words(text: str) -> set[str]:
    return {w for w in "".join(c.lower() if c.isalnum() else " " for c in text).split() if len(w) > 2}


def word_evidence(text: str, inputs: list[str], classes: list[int], num_classes: int) -> list[int]:
    """Per class, how many of the text's words appear in that class's training rows: a toy model that
    makes the sandbox's classifier agree with its training data, so a demo's answers read sensibly."""
    seen: list[set[str]] = [set() for _ in range(num_classes)]
    for row, label in zip(inputs, classes, strict=False):
        if 0 <= label < num_classes:
            seen[label] |= _words(row)
    words = _words(text)
    return [len(words & vocabulary) for vocabulary in seen]


def classify_scores(model_id: str, text: str, num_classes: int, evidence: list[int] | None = None) -> list[float]:
    """``num_classes`` scores in [0, 1] with 6 decimals that sum to exactly 1: a hash of (model id, text),
    outweighed by the training data's ``evidence`` (see ``word_evidence``) when there is any."""
    digest = hashlib.shake_256(f"{model_id}\0{text}".encode()).digest(2 * num_classes)
    weights = [1 + int.from_bytes(digest[2 * i : 2 * i + 2], "big") for i in range(num_classes)]
    if evidence:
        weights = [w + 400_000 * e for w, e in zip(weights, evidence, strict=True)]
    # Largest remainder over millionths: rounding each score on its own could sum to 0.999999 or 1.000001.
    total = sum(weights)
    units = [w * 1_000_000 // total for w in weights]
    by_remainder = sorted(range(num_classes), key=lambda i: (-(weights[i] * 1_000_000 % total), i))
    for i in by_remainder[: 1_000_000 - sum(units)]:
        units[i] += 1
    return [u / 1_000_000 for u in units]


def generate_texts(
    model_id: str, text: str, seed: int | None, num_hypos: int, min_tokens: int, max_tokens: int
) -> list[str]:
    """``num_hypos`` texts of ``min_tokens`` to ``max_tokens`` words (at most 16 past the minimum), a hash of
    (model id, text, seed, index): the same request always gets the same answers."""
    texts: list[str] = []
    spread = min(max_tokens, min_tokens + 15) - min_tokens + 1
    for index in range(num_hypos):
        key = f"{model_id}\0{text}\0{seed}\0{index}".encode()
        head = hashlib.sha256(key).digest()
        count = min_tokens + head[0] % spread
        picks = hashlib.shake_256(key + b"\0words").digest(2 * count)
        words = [_VOCABULARY[int.from_bytes(picks[2 * k : 2 * k + 2], "big") % len(_VOCABULARY)] for k in range(count)]
        texts.append(" ".join(words))
    return texts


def _authed(ctx: EmulatorContext, endpoint: Endpoint) -> Endpoint:
    """``endpoint`` behind the API key check. Per route rather than a middleware, as a FastAPI dependency
    would be: an unknown route answers 404 whatever the key, and the upload route stays open."""

    async def checked(request: Request) -> Response:
        key = request.headers.get("authorization")
        if key is not None and key[:7].lower() == "bearer ":
            raise TtmError(401, BEARER_REFUSED)
        if not ctx.accepts_key(key):
            raise TtmError(401, INVALID_KEY)
        return await endpoint(request)

    return checked


async def _json_body(request: Request) -> dict[str, Any]:
    return parse_json(await request.body())


class _Handlers:
    def __init__(self, state: TtmState, clock: SimClock) -> None:
        self.state = state
        self.clock = clock

    def _model(self, request: Request) -> TtmModel:
        return self.state.find_model(request.path_params["model_id"])

    def _model_answer(self, model: TtmModel) -> Response:
        return JSONResponse(model_json(model, self.clock.now()))

    # --- models ---------------------------------------------------------------------------------------

    async def list_models(self, request: Request) -> Response:
        now = self.clock.now()
        return JSONResponse({"models": [model_json(m, now) for m in self.state.models.values()]})

    async def create_model(self, request: Request) -> Response:
        spec = parse_new_model(await _json_body(request))
        model = self.state.create_model(
            self.clock.now(), spec.model_type, spec.name, spec.num_classes, spec.train_iters, spec.pretrained_model
        )
        return self._model_answer(model)

    async def model_status(self, request: Request) -> Response:
        return self._model_answer(self._model(request))

    async def delete_model(self, request: Request) -> Response:
        now = self.clock.now()
        # Rendered before it goes, so the answer shows the model as it was.
        model = self._model(request)
        body = model_json(model, now)
        self.state.delete_model(model.id)
        return JSONResponse(body)

    async def public_models(self, request: Request) -> Response:
        now = self.clock.now()
        return JSONResponse({"models": [model_json(m, now) for m in self.state.public_models.values()]})

    async def bind(self, request: Request) -> Response:
        binding = parse_binding(await _json_body(request))
        model = self._model(request)
        self.state.bind(model, binding.train_file, binding.validate_file, self.clock.now())
        return self._model_answer(model)

    async def fit(self, request: Request) -> Response:
        # The SDK posts no body; whatever comes is ignored, as the real route declares none.
        model = self._model(request)
        self.state.fit(model, self.clock.now())
        return self._model_answer(model)

    def _ready(self, model: TtmModel, model_type: str, action: str) -> None:
        if model.model_type != model_type:
            other = "generate" if model_type == CLASSIFIER else "classify"
            raise TtmError(409, f"Model {model.id} is a {model.model_type}: {action} is for {model_type}s, use {other}")
        status = model.status(self.clock.now())
        if status != READY:
            raise TtmError(409, f"Model {model.id} is not ready ({status}): fit it and wait for Ready")

    async def classify(self, request: Request) -> Response:
        text = parse_classify(await _json_body(request))
        model = self._model(request)
        self._ready(model, CLASSIFIER, "classify")
        assert model.num_classes is not None  # every classifier has one (default 2)
        evidence = None
        trained = self.state.files.get(model.train_file or "")
        if trained is not None and trained.inputs and trained.classes:
            evidence = word_evidence(text, trained.inputs, trained.classes, model.num_classes)
        return JSONResponse({"answer": {"scores": classify_scores(model.id, text, model.num_classes, evidence)}})

    async def generate(self, request: Request) -> Response:
        params = parse_generate(await _json_body(request))
        model = self._model(request)
        self._ready(model, GENERATOR, "generate")
        texts = generate_texts(
            model.id, params.input, params.seed, params.num_hypos, params.min_tokens, params.max_tokens
        )
        return JSONResponse({"answer": {"responses": [{"response": t} for t in texts]}})

    # --- files ----------------------------------------------------------------------------------------

    async def list_files(self, request: Request) -> Response:
        now = self.clock.now()
        return JSONResponse({"files": [file_json(f, now) for f in self.state.files.values()]})

    async def create_file(self, request: Request) -> Response:
        spec = parse_new_file(await _json_body(request))
        now = self.clock.now()
        file = self.state.create_file(now, spec.name, spec.task_type)
        return JSONResponse({**file_json(file, now), "upload_url": upload_url(request, file.id, file.signature)})

    async def file_status(self, request: Request) -> Response:
        return JSONResponse(file_json(self.state.find_file(request.path_params["file_id"]), self.clock.now()))

    async def delete_file(self, request: Request) -> Response:
        now = self.clock.now()
        file = self.state.delete_file(request.path_params["file_id"])
        return JSONResponse(file_json(file, now))

    async def upload(self, request: Request) -> Response:
        file = self.state.find_file(request.path_params["file_id"])
        given = request.query_params.get("signature", "")
        if not hmac.compare_digest(given.encode(), file.signature.encode()):
            raise TtmError(403, "Invalid signature")
        # Like a presigned storage URL, the PUT takes any body: the rows are judged by the loading that
        # follows (FileFailed with the reason), which is where the official client, which never reads
        # this answer (tune_the_model/cli.py:184, resource.py:119), can see a failure.
        try:
            rows = parse_rows(await _json_body(request), file.task_type)
        except TtmError as refused:
            self.state.upload(file, self.clock.now(), [], None, None, error=refused.detail)
        else:
            self.state.upload(file, self.clock.now(), rows.inputs, rows.classes, rows.outputs)
        return JSONResponse({})


async def _detail(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException | TtmError)
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else None
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


def build(ctx: EmulatorContext) -> Emulator:
    state = TtmState()
    h = _Handlers(state, ctx.clock)

    def api(path: str, endpoint: Endpoint, method: str) -> Route:
        return Route("/v0" + path, _authed(ctx, endpoint), methods=[method])

    model = "/models/{model_id}"
    file = "/files/{file_id}"
    routes = [
        api("/models", h.list_models, "GET"),
        api("/models", h.create_model, "POST"),
        api(model + "/status", h.model_status, "GET"),
        api(model + "/delete", h.delete_model, "DELETE"),
        api(model + "/bind", h.bind, "POST"),
        api(model + "/fit", h.fit, "POST"),
        api(model + "/classify", h.classify, "POST"),
        api(model + "/generate", h.generate, "POST"),
        api("/public-models", h.public_models, "GET"),
        api("/files", h.list_files, "GET"),
        api("/files", h.create_file, "POST"),
        api(file + "/status", h.file_status, "GET"),
        api(file + "/delete", h.delete_file, "DELETE"),
        # The presigned upload URL: no API key, the signature in the query is its only check.
        Route(UPLOAD_PATH + "/{file_id}", h.upload, methods=["PUT"]),
    ]
    # An app of its own, so unknown routes and wrong methods answer FastAPI's {"detail": "Not Found"} too.
    app = Starlette(routes=routes, exception_handlers={HTTPException: _detail, TtmError: _detail})
    return Emulator(app=app, state=state)


SPEC = EmulatorSpec(
    name="tunethemodel", prefix="/tunethemodel", url_env="TTM_API_URL", key_env="TTM_API_KEY", build=build
)
