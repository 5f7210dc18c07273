"""The sandbox: every emulator mounted in one Starlette app, with a request log and a simulated clock."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from . import caila, datarobot, pieces, training, tunethemodel
from .clock import SimClock
from .emulator import SANDBOX_API_KEY, Emulator, EmulatorContext, EmulatorSpec
from .fault_middleware import ConnectionAccess, FaultMiddleware
from .faults import Fault, FaultPlan
from .log import RequestLog
from .recorder import RequestLogMiddleware

__all__ = ["CONTROL_PREFIX", "DEFAULT_SPEED", "EMULATORS", "SPEED_ENV", "Sandbox"]

SPEED_ENV = "MODELOPS_SANDBOX_SPEED"
DEFAULT_SPEED = 60.0  # one simulated minute per real second: a 5-minute fit finishes in 5 s of demo
CONTROL_PREFIX = "/_sandbox"

# Every emulator the sandbox serves; adding a backend is one line here.
EMULATORS: tuple[EmulatorSpec, ...] = (caila.SPEC, training.SPEC, pieces.SPEC, tunethemodel.SPEC, datarobot.SPEC)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail, "status": exc.status_code}, exc.status_code, dict(exc.headers or {}))


class Sandbox:
    """Local emulators of the backends, one ASGI app (``Sandbox.app``) to serve them all.

    ``api_keys`` None is sandbox mode: any non-empty key is accepted. A mapping pins the one valid key
    per backend name; a backend missing from it stays in sandbox mode.
    """

    def __init__(
        self,
        speed: float = DEFAULT_SPEED,
        api_keys: Mapping[str, str] | None = None,
        *,
        emulators: Sequence[EmulatorSpec] = EMULATORS,
    ) -> None:
        self.speed = float(speed)
        self.api_keys: dict[str, str] | None = dict(api_keys) if api_keys is not None else None
        self.clock = SimClock(speed)
        self.log = RequestLog()
        self.faults = FaultPlan()
        self.specs: dict[str, EmulatorSpec] = {}
        self.emulators: dict[str, Emulator] = {}
        for spec in emulators:
            if spec.name in self.specs:
                raise ValueError(f"two emulators are named {spec.name!r}")
            key = self.api_keys.get(spec.name) if self.api_keys is not None else None
            self.specs[spec.name] = spec
            self.emulators[spec.name] = spec.build(EmulatorContext(name=spec.name, clock=self.clock, api_key=key))
        self.app: ASGIApp = ConnectionAccess(self._build_app())

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, api_keys: Mapping[str, str] | None = None
    ) -> Sandbox:
        """A sandbox whose clock speed comes from ``MODELOPS_SANDBOX_SPEED`` (default 60)."""
        env = os.environ if environ is None else environ
        raw = env.get(SPEED_ENV, "").strip()
        if not raw:
            return cls(DEFAULT_SPEED, api_keys)
        try:
            speed = float(raw)
        except ValueError:
            raise ValueError(f"{SPEED_ENV} must be a number >= 0, got {raw!r}") from None
        if not math.isfinite(speed) or speed < 0:
            raise ValueError(f"{SPEED_ENV} must be a number >= 0, got {raw!r}")
        return cls(speed, api_keys)

    def state(self, backend: str) -> object:
        """The mutable state of one emulator (e.g. ``caila_data.CailaState``), for tests to inspect."""
        return self.emulators[backend].state

    def env(self, base_url: str) -> dict[str, str]:
        """Environment variables that point a client at this sandbox served at ``base_url``."""
        root = base_url.rstrip("/")
        env: dict[str, str] = {}
        for spec in self.specs.values():
            env[spec.url_env] = root + spec.prefix
            if spec.key_env is not None:
                pinned = self.api_keys.get(spec.name) if self.api_keys is not None else None
                env[spec.key_env] = pinned or SANDBOX_API_KEY
        return env

    # --- control endpoints: for tests and the demo, never part of an emulated API -------------------

    async def _health(self, request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "backends": {name: spec.prefix for name, spec in self.specs.items()},
                "speed": self.speed,
                "clock": self.clock.now(),
            }
        )

    async def _requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            return JSONResponse({"cleared": self.log.clear()})
        entries = self.log.entries(request.query_params.get("backend") or None)
        return JSONResponse({"count": len(entries), "requests": [e.to_json() for e in entries]})

    async def _clock(self, request: Request) -> Response:
        return JSONResponse({"now": self.clock.now(), "speed": self.clock.speed})

    async def _advance(self, request: Request) -> Response:
        try:
            payload = await request.json()
        except ValueError:
            return _error(400, 'body must be JSON like {"seconds": 60}')
        seconds = payload.get("seconds") if isinstance(payload, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            return _error(400, 'body must be JSON like {"seconds": 60}')
        try:
            now = self.clock.advance(float(seconds))
        except ValueError as exc:
            return _error(400, str(exc))
        return JSONResponse({"now": now, "speed": self.clock.speed})

    async def _faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            return JSONResponse({"cleared": self.faults.clear()})
        if request.method == "GET":
            return JSONResponse({"faults": self.faults.to_json()})
        try:
            payload = await request.json()
            fault = self.faults.add(Fault.from_json(payload))
        except (ValueError, TypeError) as exc:
            return _error(400, f"not a fault: {exc}")
        return JSONResponse(fault.to_json(), status_code=201)

    def _build_app(self) -> Starlette:
        routes: list[BaseRoute] = [
            Route(CONTROL_PREFIX + "/health", self._health, methods=["GET"]),
            Route(CONTROL_PREFIX + "/requests", self._requests, methods=["GET", "DELETE"]),
            Route(CONTROL_PREFIX + "/clock", self._clock, methods=["GET"]),
            Route(CONTROL_PREFIX + "/clock/advance", self._advance, methods=["POST"]),
            Route(CONTROL_PREFIX + "/faults", self._faults, methods=["GET", "POST", "DELETE"]),
        ]
        routes += [Mount(spec.prefix, app=self.emulators[name].app) for name, spec in self.specs.items()]
        mounts = [(spec.prefix, name) for name, spec in self.specs.items()]
        log_mw = Middleware(RequestLogMiddleware, log=self.log, mounts=mounts, control_prefix=CONTROL_PREFIX)
        # Inside the log: a request answered by a fault is still logged, so tests can count retries.
        fault_mw = Middleware(FaultMiddleware, plan=self.faults, mounts=mounts)
        return Starlette(routes=routes, middleware=[log_mw, fault_mw], exception_handlers={HTTPException: _http_error})
