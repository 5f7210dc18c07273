"""DataRobot emulator: execution environments, their versions (multipart docker context uploads) and builds."""

from __future__ import annotations

import re

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import datarobot_bodies as bodies
from .datarobot_data import Environment, EnvVersion, Share
from .datarobot_forms import one, read_form
from .datarobot_http import ApiError, Base, absolute, bool_param, enum_param, invalid, json_body, not_found, paginate
from .datarobot_models import apply_shares
from .datarobot_views import env_json, env_version_json

__all__ = ["EnvironmentHandlers"]

_OBJECT_ID = re.compile(r"[0-9a-f]{24}")
_BUILD_STATUSES = ("submitted", "processing", "failed", "success")


class EnvironmentHandlers(Base):
    def routes(self) -> list[Route]:
        one_env = "/executionEnvironments/{environmentId}/"
        version = one_env + "versions/{environmentVersionId}/"
        return [
            Route("/executionEnvironments/", self.list_envs, methods=["GET"]),
            Route("/executionEnvironments/", self.create, methods=["POST"]),
            Route("/executionEnvironmentsPermadelete/", self.permadelete, methods=["POST"]),
            Route(one_env, self.get, methods=["GET"]),
            Route(one_env, self.update, methods=["PATCH"]),
            Route(one_env, self.delete, methods=["DELETE"]),
            Route(one_env + "accessControl/", self.shares, methods=["GET"]),
            Route(one_env + "accessControl/", self.share, methods=["PATCH"]),
            Route(one_env + "versions/", self.list_versions, methods=["GET"]),
            Route(one_env + "versions/", self.create_version, methods=["POST"]),
            Route(version, self.get_version, methods=["GET"]),
            Route(version + "buildLog/", self.build_log, methods=["GET"]),
            Route(version + "download/", self.download, methods=["GET"]),
        ]

    def env(self, request: Request) -> Environment:
        env_id = request.path_params["environmentId"]
        env = self.state.live_environment(env_id)
        if env is None:
            raise not_found("Execution environment", env_id)
        return env

    def env_version(self, request: Request) -> EnvVersion:
        env = self.env(request)
        version_id = request.path_params["environmentVersionId"]
        version = next((v for v in env.versions if v.id == version_id), None)
        if version is None:
            raise not_found("Execution environment version", version_id)
        return version

    # --- environments --------------------------------------------------------------------------------

    async def list_envs(self, request: Request) -> Response:
        now = self.clock.now()
        search = (request.query_params.get("searchFor") or "").lower()
        use_case = enum_param(request, "useCases", bodies.USE_CASES)
        envs = [e for e in self.state.environments.values() if not e.deleted]
        envs = sorted(reversed(envs), key=lambda e: -e.created)  # creation time descending, as the seed says
        envs = [
            e
            for e in envs
            if (not search or search in e.name.lower() or search in e.description.lower())
            and (use_case is None or use_case in e.use_cases)
        ]
        return JSONResponse(paginate(request, envs, lambda e: env_json(e, now)))

    async def create(self, request: Request) -> Response:
        body = await json_body(request, bodies.ENV_CREATE)
        env_id = body.get("environmentId") or self.state.new_id()
        if env_id in self.state.environments:
            raise ApiError(409, f"An execution environment with id {env_id} already exists")
        if not _OBJECT_ID.fullmatch(env_id):
            raise invalid("environmentId must be 24 hexadecimal digits.", environmentId="must be 24 hex digits")
        env = Environment(
            env_id,
            body["name"],
            body.get("description", ""),
            body.get("programmingLanguage", "other"),
            list(body.get("useCases", ["customModel"])),
            body.get("isPublic", False),
            self.clock.now(),
        )
        self.state.environments[env.id] = env
        location = absolute(request, f"/executionEnvironments/{env.id}/")
        return JSONResponse({"id": env.id}, 201, headers={"Location": location})

    async def get(self, request: Request) -> Response:
        return JSONResponse(env_json(self.env(request), self.clock.now()))

    async def update(self, request: Request) -> Response:
        env = self.env(request)
        body = await json_body(request, bodies.ENV_UPDATE)
        env.name = body.get("name", env.name)
        env.description = body.get("description", env.description)
        env.programming_language = body.get("programmingLanguage", env.programming_language)
        env.use_cases = list(body.get("useCases", env.use_cases))
        return JSONResponse(env_json(env, self.clock.now()))

    async def delete(self, request: Request) -> Response:
        # Nothing is deployed in the sandbox, so the seed's 409 ("currently deployed") never applies.
        self.env(request).deleted = True
        return Response(status_code=204)

    async def permadelete(self, request: Request) -> Response:
        body = await json_body(request, bodies.PERMADELETE)
        ids = body["executionEnvironmentIds"]
        missing = [i for i in ids if i not in self.state.environments]
        if missing:
            raise not_found("Execution environment", missing[0])
        alive = [i for i in ids if not self.state.environments[i].deleted]
        if alive:
            raise ApiError(409, f"Execution environment {alive[0]} has not been deleted; delete it first")
        for env_id in ids:
            del self.state.environments[env_id]
        return Response(status_code=204)

    async def shares(self, request: Request) -> Response:
        env = self.env(request)
        username, user_id = request.query_params.get("username"), request.query_params.get("userId")
        if username and user_id:
            raise ApiError(400, "Give either username or userId, not both")
        shares = [
            s for s in env.shares if (not username or s.username == username) and (not user_id or s.user_id == user_id)
        ]
        return JSONResponse(paginate(request, shares, Share.to_json, total=False))

    async def share(self, request: Request) -> Response:
        env = self.env(request)
        body = await json_body(request, bodies.SHARING_UPDATE)
        env.shares = apply_shares(self, env.shares, body["data"], "execution environment")
        return Response(status_code=204)

    # --- versions ------------------------------------------------------------------------------------

    async def list_versions(self, request: Request) -> Response:
        env = self.env(request)
        now = self.clock.now()
        status = enum_param(request, "buildStatus", _BUILD_STATUSES)
        search = (request.query_params.get("search") or "").lower()
        versions = sorted(reversed(env.versions), key=lambda v: -v.created)  # newest first, as the seed says
        versions = [
            v
            for v in versions
            if (status is None or v.build_status(now) == status)
            and (not search or any(search in s.lower() for s in (v.id, v.image_id, v.label, v.description)))
        ]
        return JSONResponse(paginate(request, versions, lambda v: env_version_json(v, now)))

    async def create_version(self, request: Request) -> Response:
        env = self.env(request)
        form = await read_form(request)
        try:
            uploads = {}
            for name in ("dockerContext", "dockerImage"):
                part = form.get(name)
                if part is not None and not isinstance(part, UploadFile):
                    raise invalid(f"The field {name} must be a file part.", **{name: "must be a file part"})
                if isinstance(part, UploadFile):
                    uploads[name] = (part.filename or f"{name}.tar.gz", await part.read())
            uri = one(form, "dockerImageUri")
            if not uploads and uri is None:
                why = "one of dockerContext, dockerImage or dockerImageUri is required"
                raise invalid(f"An environment version needs {why}.", dockerContext=why)
            version_id = one(form, "environmentVersionId") or self.state.new_id()
            if any(v.id == version_id for e in self.state.environments.values() for v in e.versions):
                raise ApiError(409, f"An execution environment version with id {version_id} already exists")
            label, description = one(form, "label") or "", one(form, "description") or ""
        finally:
            await form.close()
        if len(label) > 50:
            raise invalid("The label must be at most 50 characters.", label="at most 50 characters")
        context, image = uploads.get("dockerContext"), uploads.get("dockerImage")
        version = EnvVersion(
            version_id,
            env.id,
            label,
            description,
            self.clock.now(),
            self.state.new_id(),
            context=context[1] if context else None,
            context_name=context[0] if context else None,
            image=image[1] if image else None,
            image_name=image[0] if image else None,
            image_uri=uri,
        )
        env.versions.append(version)
        location = absolute(request, f"/executionEnvironments/{env.id}/versions/{version.id}/")
        return JSONResponse({"id": version.id}, 202, headers={"Location": location})

    async def get_version(self, request: Request) -> Response:
        return JSONResponse(env_version_json(self.env_version(request), self.clock.now()))

    async def build_log(self, request: Request) -> Response:
        log, error = self.env_version(request).build_log(self.clock.now())
        return JSONResponse({"log": log, "error": error})

    async def download(self, request: Request) -> Response:
        version = self.env_version(request)
        if bool_param(request, "imageFile"):
            data, name = version.image, version.image_name
            if data is None:
                raise ApiError(404, f"Execution environment version {version.id} has no uploaded image")
        else:
            data, name = version.context, version.context_name
            if data is None:
                raise ApiError(404, f"Execution environment version {version.id} has no uploaded docker context")
        headers = {"Content-Disposition": f"attachment; filename={name}"}
        return Response(data, media_type="application/octet-stream", headers=headers)
