"""DataRobot emulator: custom model versions — multipart uploads, repository and training-data versions,
metadata edits, downloads and dependency builds."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import datarobot_bodies as bodies
from .datarobot_data import ASSIGN_S, FAILING_REPOSITORY, CustomModel, DependencyBuild, Item, ModelVersion
from .datarobot_forms import ModelForm, read_model_form
from .datarobot_http import ApiError, Base, absolute, bool_param, invalid, json_body, paginate
from .datarobot_models import zip_response
from .datarobot_views import build_json, version_json

__all__ = ["VersionHandlers"]

_MAX_ITEMS = 100  # the seed caps a version's items at 100


class VersionHandlers(Base):
    def routes(self) -> list[Route]:
        versions = "/customModels/{customModelId}/versions/"
        one = versions + "{customModelVersionId}/"
        return [
            Route(versions, self.list_versions, methods=["GET"]),
            Route(versions, self.create, methods=["POST"]),
            Route(versions, self.create_from_latest, methods=["PATCH"]),
            Route(versions + "fromRepository/", self.from_repository, methods=["POST"]),
            Route(versions + "fromRepository/", self.from_repository_patch, methods=["PATCH"]),
            Route(versions + "withTrainingData/", self.with_training_data, methods=["PATCH"]),
            Route(one, self.get, methods=["GET"]),
            Route(one, self.update, methods=["PATCH"]),
            Route(one + "download/", self.download, methods=["GET"]),
            Route(one + "dependencyBuild/", self.build_status, methods=["GET"]),
            Route(one + "dependencyBuild/", self.build_start, methods=["POST"]),
            Route(one + "dependencyBuild/", self.build_cancel, methods=["DELETE"]),
            Route(one + "dependencyBuildLog/", self.build_log, methods=["GET"]),
        ]

    # --- making versions -----------------------------------------------------------------------------

    def _environment(
        self, model: CustomModel, env_id: str | None, env_version_id: str | None
    ) -> tuple[str | None, str | None]:
        """(baseEnvironmentId, baseEnvironmentVersionId) as the seed resolves them, or 422."""
        now = self.clock.now()
        previous = model.versions[-1] if model.versions else None
        if env_id is None and env_version_id is None:
            if previous is None:
                why = "Either baseEnvironmentId or baseEnvironmentVersionId is required for a model's first version."
                raise invalid(why, baseEnvironmentId=why)
            return previous.base_env_id, previous.base_env_version_id
        if env_id is None:
            owner = next(
                (
                    e
                    for e in self.state.environments.values()
                    if not e.deleted and any(v.id == env_version_id for v in e.versions)
                ),
                None,
            )
            if owner is None:
                raise invalid(f"Environment version {env_version_id} not found.", baseEnvironmentVersionId="not found")
            return owner.id, env_version_id
        env = self.state.live_environment(env_id)
        if env is None:
            raise invalid(f"Execution environment {env_id} not found.", baseEnvironmentId="not found")
        if env_version_id is not None:
            if not any(v.id == env_version_id for v in env.versions):
                why = f"version {env_version_id} does not belong to environment {env_id}"
                raise invalid(f"The environment {why}.", baseEnvironmentVersionId=why)
            return env_id, env_version_id
        if previous is not None and previous.base_env_id == env_id:
            return env_id, previous.base_env_version_id
        built = [v for v in env.versions if v.build_status(now) == "success"]
        if not built:
            why = f"environment {env_id} has no successfully built version"
            raise invalid(f"The {why}.", baseEnvironmentId=why)
        return env_id, built[-1].id

    def _next_number(self, model: CustomModel, major: bool) -> tuple[int, int]:
        last = model.versions[-1] if model.versions else None
        number = (last.major, last.minor) if last else (0, 0)
        return (number[0] + 1, 0) if major else (number[0], number[1] + 1)

    def _new_items(self, model: CustomModel, files: list[tuple[str, str, bytes]], now: float) -> list[Item]:
        items = []
        for name, path, data in files:
            self.state.uploads.append((name, path, len(data)))
            items.append(Item(self.state.new_id(), name, path, "local", now, data, model.workspace_id))
        return items

    def _make(self, model: CustomModel, form: ModelForm, items: list[Item], base: ModelVersion | None) -> Response:
        now = self.clock.now()
        if len(items) > _MAX_ITEMS:
            raise invalid(f"A version holds at most {_MAX_ITEMS} files.", file=f"at most {_MAX_ITEMS} files")
        env_id, env_version_id = self._environment(model, form.base_env_id, form.base_env_version_id)
        major, minor = self._next_number(model, form.is_major)
        settings = {**(base.settings if base else {}), **form.settings}
        version = ModelVersion(
            self.state.new_id(), model.id, major, minor, now, items, env_id, env_version_id, form.description, settings
        )
        keep = base is not None and form.keep_training_holdout
        version.training_data = form.training_data or (base.training_data if keep and base else None)
        version.holdout_data = form.holdout_data or (base.holdout_data if keep and base else None)
        if form.training_data is not None:
            version.training_assigned_at = now
        self.state.add_version(model, version)
        model.updated = now
        return JSONResponse(version_json(version, now), 201)

    async def create(self, request: Request) -> Response:
        model = self.model(request)
        form = await read_model_form(request, patch=False)
        items = self._new_items(model, form.files, self.clock.now())
        return self._make(model, form, _dedupe(items), None)

    async def create_from_latest(self, request: Request) -> Response:
        model = self.model(request)
        form = await read_model_form(request, patch=True)
        base = model.latest(self.clock.now())
        kept = list(base.items) if base else []
        unknown = [i for i in form.files_to_delete if not any(item.id == i for item in kept)]
        if unknown:
            why = f"no item {unknown[0]} in the latest version"
            raise invalid(f"filesToDelete names {why}.", filesToDelete=why)
        kept = [item for item in kept if item.id not in form.files_to_delete]
        # Carried-over files keep their item ids; an upload to an existing filePath replaces that file.
        items = _dedupe(kept + self._new_items(model, form.files, self.clock.now()))
        return self._make(model, form, items, base)

    def _repository_version(self, request: Request, model: CustomModel, body: dict[str, Any], patch: bool) -> Response:
        # No repository API is emulated: any repositoryId "contains" one README.md, fetched by a job that ends
        # ASSIGN_S later; the version stays invisible until then and the job's 303 points at it.
        now = self.clock.now()
        repo, ref = body["repositoryId"], body.get("ref") or "main"
        if repo.startswith(FAILING_REPOSITORY):
            job = self.state.add_job(
                now, ASSIGN_S, f"/customModels/{model.id}/", "Custom model version from a repository"
            )
            job.error = f"Repository {repo} could not be read: it does not exist or the sandbox has no access to it."
            return self.accepted(request, job)
        env_id, env_version_id = None, None
        if body.get("baseEnvironmentId") or model.versions:
            env_id, env_version_id = self._environment(model, body.get("baseEnvironmentId"), None)
        major, minor = self._next_number(model, body.get("isMajorUpdate", True))
        source = body.get("sourcePath")
        path = (source if isinstance(source, str) else (source or ["README.md"])[0]) or "README.md"
        readme = Item(
            self.state.new_id(),
            "README.md",
            "README.md",
            "github",
            now,
            f"# {repo}\n".encode(),
            model.workspace_id,
            {
                "ref": ref,
                "commitSha": hashlib.sha1(f"{repo}@{ref}".encode()).hexdigest(),
                "repositoryFilePath": path,
                "repositoryLocation": f"https://github.com/sandbox/{repo}",
                "repositoryName": repo,
            },
        )
        base = model.latest(now) if patch else None
        items = _dedupe([*(base.items if base else []), readme])
        version = ModelVersion(self.state.new_id(), model.id, major, minor, now, items, env_id, env_version_id)
        version.ready_at = now + ASSIGN_S
        if body.get("requiredMetadataValues") is not None:
            version.settings["requiredMetadataValues"] = body["requiredMetadataValues"]
        self.state.add_version(model, version)
        location = f"/customModels/{model.id}/versions/{version.id}/"
        job = self.state.add_job(now, ASSIGN_S, location, "Custom model version from a repository")
        return self.accepted(request, job)

    async def from_repository(self, request: Request) -> Response:
        model = self.model(request)
        body = await json_body(request, bodies.FROM_REPOSITORY)
        return self._repository_version(request, model, body, patch=False)

    async def from_repository_patch(self, request: Request) -> Response:
        model = self.model(request)
        body = await json_body(request, bodies.FROM_REPOSITORY)
        return self._repository_version(request, model, body, patch=True)

    async def with_training_data(self, request: Request) -> Response:
        model = self.model(request)
        body = await json_body(request, bodies.VERSION_TRAINING_DATA)
        now = self.clock.now()
        base = model.latest(now)
        if base is None:
            raise invalid(f"Custom model {model.id} has no version to add training data to.")
        major, minor = self._next_number(model, False)
        version = ModelVersion(
            self.state.new_id(),
            model.id,
            major,
            minor,
            now,
            list(base.items),
            base.base_env_id,
            base.base_env_version_id,
            base.description,
            dict(base.settings),
        )
        training = body["trainingData"]
        version.training_data = {
            k: training[k] for k in ("datasetId", "datasetVersionId", "datasetName") if k in training
        }
        version.training_assigned_at = now
        version.holdout_data = body.get("holdoutData", base.holdout_data)
        if "gitModelVersion" in body:
            version.settings["gitModelVersion"] = body["gitModelVersion"]
        self.state.add_version(model, version)
        location = f"/customModels/{model.id}/versions/{version.id}/"
        job = self.state.add_job(now, ASSIGN_S, location, "Training data assignment")
        response = self.accepted(request, job, version_json(version, now))
        return response

    # --- reading and editing -------------------------------------------------------------------------

    async def list_versions(self, request: Request) -> Response:
        model = self.model(request)
        now = self.clock.now()
        sha = request.query_params.get("mainBranchCommitSha")
        versions = [
            v
            for v in model.visible_versions(now)
            if not sha or v.settings.get("gitModelVersion", {}).get("mainBranchCommitSha") == sha
        ]
        return JSONResponse(paginate(request, versions, lambda v: version_json(v, now)))

    async def get(self, request: Request) -> Response:
        now = self.clock.now()
        return JSONResponse(version_json(self.version(request, self.model(request), now), now))

    async def update(self, request: Request) -> Response:
        now = self.clock.now()
        version = self.version(request, self.model(request), now)
        body = await json_body(request, bodies.VERSION_METADATA_UPDATE)
        if "description" in body:
            version.description = body["description"]
        for name in ("gitModelVersion", "requiredMetadataValues"):
            if name in body:
                version.settings[name] = body[name]
        return JSONResponse(version_json(version, now))

    async def download(self, request: Request) -> Response:
        version = self.version(request, self.model(request), self.clock.now())
        bool_param(request, "pps")  # validated; the dependency install script it would add is not emulated
        return zip_response(version.items, version.id)

    # --- dependency builds ---------------------------------------------------------------------------

    def _build(self, request: Request) -> tuple[ModelVersion, DependencyBuild]:
        version = self.version(request, self.model(request), self.clock.now())
        if version.build is None:
            raise ApiError(422, f"No dependency build has been started for custom model version {version.id}")
        return version, version.build

    def _log_url(self, request: Request, version: ModelVersion) -> str:
        return absolute(request, f"/customModels/{version.model_id}/versions/{version.id}/dependencyBuildLog/")

    async def build_start(self, request: Request) -> Response:
        now = self.clock.now()
        version = self.version(request, self.model(request), now)
        if version.build is not None and not version.build.terminal(now):
            raise ApiError(422, f"A dependency build of custom model version {version.id} is already in progress")
        version.build = DependencyBuild(now, version.requirements())
        return JSONResponse(build_json(version.build, self._log_url(request, version), now), 202)

    async def build_status(self, request: Request) -> Response:
        version, build = self._build(request)
        return JSONResponse(build_json(build, self._log_url(request, version), self.clock.now()))

    async def build_cancel(self, request: Request) -> Response:
        _, build = self._build(request)
        now = self.clock.now()
        if build.terminal(now):
            raise ApiError(409, "The dependency build has already reached a terminal state and cannot be cancelled")
        build.cancelled_at = now
        return Response(status_code=204)

    async def build_log(self, request: Request) -> Response:
        version, build = self._build(request)
        now = self.clock.now()
        if not build.terminal(now):
            raise ApiError(404, f"The dependency build of custom model version {version.id} is still in progress")
        return JSONResponse({"data": build.log(now)})


def _dedupe(items: list[Item]) -> list[Item]:
    """One item per filePath: a later item replaces an earlier one at the same path (and moves to the end)."""
    by_path: dict[str, Item] = {}
    for item in items:
        by_path.pop(item.file_path, None)
        by_path[item.file_path] = item
    return list(by_path.values())
