"""DataRobot emulator: the custom models API v2 (models, versions, tests, builds, environments, datasets), under
``/datarobot/api/v2`` so a client's base URL ends in ``/api/v2`` as ``DATAROBOT_ENDPOINT`` does.

Every route has a trailing slash. The same path without it answers 404, as DataRobot's own router does,
rather than redirecting: a client that drops the slash finds out at once instead of silently re-sending.
Jobs run on the sandbox's simulated clock (see ``datarobot_data`` for the timings); the state, with the
ids that exist at start, is ``datarobot_state.DataRobotState``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .datarobot_datasets import DatasetHandlers
from .datarobot_envs import EnvironmentHandlers
from .datarobot_http import TokenAuth, http_error
from .datarobot_models import ModelHandlers
from .datarobot_state import DataRobotState
from .datarobot_testing import TestingHandlers
from .datarobot_versions import VersionHandlers
from .emulator import Emulator, EmulatorContext, EmulatorSpec

__all__ = ["SPEC", "VERSION", "build"]

# What GET /version/ reports; the official client checks the major version on connect.
VERSION = {"major": 2, "minor": 36, "versionString": "2.36.0"}


async def _version(request: Request) -> Response:
    return JSONResponse(dict(VERSION))


def build(ctx: EmulatorContext) -> Emulator:
    state = DataRobotState()
    routes: list[BaseRoute] = [Route("/version/", _version, methods=["GET"])]
    for handlers in (
        ModelHandlers(state, ctx.clock),
        VersionHandlers(state, ctx.clock),
        TestingHandlers(state, ctx.clock),
        EnvironmentHandlers(state, ctx.clock),
        DatasetHandlers(state, ctx.clock),
    ):
        routes += handlers.routes()
    app = Starlette(
        routes=routes,
        middleware=[Middleware(TokenAuth, ctx=ctx, state=state)],
        exception_handlers={HTTPException: http_error},
    )
    app.router.redirect_slashes = False  # a path without its trailing slash is a 404 (see the module docstring)
    return Emulator(app=app, state=state)


SPEC = EmulatorSpec(
    name="datarobot",
    prefix="/datarobot/api/v2",
    url_env="DATAROBOT_ENDPOINT",
    key_env="DATAROBOT_API_TOKEN",
    build=build,
)
