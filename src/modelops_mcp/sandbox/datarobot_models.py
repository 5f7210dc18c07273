"""DataRobot emulator: custom models — CRUD, copies, templates, sharing, training data, downloads, limits."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import datarobot_bodies as bodies
from .datarobot_data import ASSIGN_S, CustomModel, Item, ModelVersion, Share
from .datarobot_http import ApiError, Base, bool_param, enum_param, invalid, json_body, paginate
from .datarobot_state import PYTHON_ENV_ID
from .datarobot_views import model_json

__all__ = ["LIMITS", "ModelHandlers", "zip_response"]

# GET /customModelLimits/ answers these fixed values.
LIMITS = {
    "maxCustomModelTestingParallelUsers": 5,
    "maxCustomModelContainerSize": 4 * 1024**3,
    "desiredCustomModelContainerSize": 2 * 1024**3,
    "maxCustomModelReplicasPerDeployment": 4,
}
# Optional request fields a custom model echoes back in its responses.
_ECHOED = (
    "calibratePredictions",
    "classLabels",
    "desiredMemory",
    "gitModelVersion",
    "isTrainingDataForVersionsPermanentlyEnabled",
    "maximumMemory",
    "negativeClassLabel",
    "networkEgressPolicy",
    "playgroundId",
    "positiveClassLabel",
    "predictionThreshold",
    "replicas",
    "requiresHa",
    "supportsBinaryClassification",
    "supportsRegression",
    "targetName",
    "userProvidedId",
)
_TEMPLATE_CUSTOM_PY = b'''"""Generated from a model template: forwards chat completions to the hosted model."""


def load_model(code_dir: str):
    return None


def chat(completion_create_params, model):
    # The sandbox's stand-in for the hosted model: it answers with the last message, so a reply can be read back.
    last = completion_create_params["messages"][-1]["content"]
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": last}}]}
'''


def zip_response(items: list[Item], version_id: str) -> Response:
    """The version's files as a real zip archive, downloaded as ``model-<versionId>.zip``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in items:
            archive.writestr(item.file_path, item.data)
    headers = {"Content-Disposition": f"attachment; filename=model-{version_id}.zip"}
    return Response(buffer.getvalue(), media_type="application/zip", headers=headers)


def _apply_fields(model: CustomModel, body: dict[str, Any]) -> None:
    for name in ("name", "description", "language"):
        if isinstance(body.get(name), str):
            setattr(model, name, body[name])
    for name in _ECHOED:
        if name in body:
            if body[name] is None:
                model.fields.pop(name, None)  # null clears: several of these are non-nullable in responses
            else:
                model.fields[name] = body[name]


class ModelHandlers(Base):
    def routes(self) -> list[Route]:
        one = "/customModels/{customModelId}/"
        return [
            Route("/customModels/", self.list_models, methods=["GET"]),
            Route("/customModels/", self.create, methods=["POST"]),
            Route("/customModels/fromCustomModel/", self.copy, methods=["POST"]),
            Route("/customModels/fromModelTemplate/", self.from_template, methods=["POST"]),
            Route("/customModels/predictionExplanationsInitialization/", self.explanations, methods=["POST"]),
            Route("/customModelLimits/", self.limits, methods=["GET"]),
            Route(one, self.get, methods=["GET"]),
            Route(one, self.update, methods=["PATCH"]),
            Route(one, self.delete, methods=["DELETE"]),
            Route(one + "accessControl/", self.shares, methods=["GET"]),
            Route(one + "accessControl/", self.share, methods=["PATCH"]),
            Route(one + "download/", self.download, methods=["GET"]),
            Route(one + "trainingData/", self.training_data, methods=["PATCH"]),
            Route(
                one + "versions/{customModelVersionId}/predictionExplanationsInitialization/",
                self.version_explanations,
                methods=["POST"],
            ),
        ]

    async def list_models(self, request: Request) -> Response:
        now = self.clock.now()
        kind = enum_param(request, "customModelType", ("training", "inference"))
        target = enum_param(request, "targetType", bodies.TARGET_TYPES)
        deployed = bool_param(request, "isDeployed")
        order = enum_param(request, "orderBy", ("created", "-created", "updated", "-updated")) or "-created"
        search = (request.query_params.get("searchFor") or "").lower()
        models = list(self.state.models.values())  # creation order
        key = order.lstrip("-")
        if order.startswith("-"):
            # Newest first (the seed's default); reversing first keeps the later of two equal times first.
            models = sorted(reversed(models), key=lambda m: -getattr(m, key))
        else:
            models = sorted(models, key=lambda m: getattr(m, key))
        models = [
            m
            for m in models
            if (kind is None or m.custom_model_type == kind)
            and (target is None or m.target_type == target)
            and not deployed  # nothing is ever deployed in the sandbox
            and (not search or any(search in s.lower() for s in (m.name, m.description, m.language)))
        ]
        return JSONResponse(paginate(request, models, lambda m: model_json(m, now)))

    def _new_model(self, body: dict[str, Any], now: float) -> CustomModel:
        # A model without targetType (a training task, say) reads as the kind of target it supports.
        target = body.get("targetType") or ("Binary" if body.get("supportsBinaryClassification") else "Regression")
        model = CustomModel(
            self.state.new_id(),
            body["name"],
            body.get("customModelType", "inference"),
            target,
            now,
            now,
            self.state.new_id(),
        )
        _apply_fields(model, body)
        self.state.models[model.id] = model
        return model

    async def create(self, request: Request) -> Response:
        body = await json_body(request, bodies.MODEL_CREATE)
        model = self._new_model(body, self.clock.now())
        return JSONResponse(model_json(model, self.clock.now()), 201)

    async def get(self, request: Request) -> Response:
        return JSONResponse(model_json(self.model(request), self.clock.now()))

    async def update(self, request: Request) -> Response:
        model = self.model(request)
        body = await json_body(request, bodies.MODEL_UPDATE)
        now = self.clock.now()
        _apply_fields(model, body)
        model.updated = now
        return JSONResponse(model_json(model, now), 201)  # the seed documents 201 for this PATCH

    async def delete(self, request: Request) -> Response:
        model = self.model(request)
        now = self.clock.now()
        if any(t.model_id == model.id and t.running(now) for t in self.state.tests.values()):
            raise ApiError(409, f"Custom model {model.id} is being tested; cancel the test before deleting it")
        self.state.remove_model(model)
        return Response(status_code=204)

    async def copy(self, request: Request) -> Response:
        body = await json_body(request, bodies.MODEL_COPY)
        source = self.find_model(body["customModelId"])
        now = self.clock.now()
        model = CustomModel(
            self.state.new_id(),
            source.name,
            source.custom_model_type,
            source.target_type,
            now,
            now,
            self.state.new_id(),
            source.description,
            source.language,
            dict(source.fields),
            dict(source.template),
        )
        self.state.models[model.id] = model
        for old in source.visible_versions(now):
            items = [item.copy(self.state.new_id(), model.workspace_id) for item in old.items]
            version = ModelVersion(
                self.state.new_id(),
                model.id,
                old.major,
                old.minor,
                now,
                items,
                old.base_env_id,
                old.base_env_version_id,
                old.description,
                dict(old.settings),
                old.training_data,
                old.holdout_data,
            )
            self.state.add_version(model, version)
        return JSONResponse(model_json(model, now), 201)

    async def from_template(self, request: Request) -> Response:
        # No template catalogue is emulated: any templateId makes a text-generation model with one version
        # on the Python drop-in environment.
        body = await json_body(request, bodies.MODEL_FROM_TEMPLATE)
        now = self.clock.now()
        model = self._new_model(
            {"name": f"Model from template {body['templateId']}", "targetType": "TextGeneration"}, now
        )
        model.template = {"modelType": "nimModel", "templateId": body["templateId"]}
        model.fields["resourceBundleId"] = body["resourceBundleId"]
        env = self.state.environments[PYTHON_ENV_ID]
        built = [v for v in env.versions if v.build_status(now) == "success"]
        item = Item(
            self.state.new_id(), "custom.py", "custom.py", "local", now, _TEMPLATE_CUSTOM_PY, model.workspace_id
        )
        version = ModelVersion(
            self.state.new_id(),
            model.id,
            1,
            0,
            now,
            [item],
            env.id,
            built[-1].id if built else None,
            settings={"resourceBundleId": body["resourceBundleId"]},
        )
        self.state.add_version(model, version)
        return JSONResponse({"customModelId": model.id, "customModelVersionId": version.id}, 201)

    async def explanations(self, request: Request) -> Response:
        body = await json_body(request, bodies.PREDICTION_EXPLANATIONS)
        model = self.find_model(body["customModelId"])
        now = self.clock.now()
        self.find_version(model, body["customModelVersionId"], now)
        job = self.state.add_job(now, ASSIGN_S, f"/customModels/{model.id}/", "Prediction explanations initialization")
        return self.accepted(request, job)

    async def version_explanations(self, request: Request) -> Response:
        model = self.model(request)
        now = self.clock.now()
        version = self.version(request, model, now)
        location = f"/customModels/{model.id}/versions/{version.id}/"
        job = self.state.add_job(now, ASSIGN_S, location, "Prediction explanations initialization")
        return self.accepted(request, job)

    async def limits(self, request: Request) -> Response:
        return JSONResponse(dict(LIMITS))

    async def shares(self, request: Request) -> Response:
        model = self.model(request)
        return JSONResponse(paginate(request, model.shares, Share.to_json, total=False))

    async def share(self, request: Request) -> Response:
        model = self.model(request)
        body = await json_body(request, bodies.SHARING_UPDATE)
        model.shares = apply_shares(self, model.shares, body["data"], "custom model")
        return Response(status_code=204)

    async def download(self, request: Request) -> Response:
        model = self.model(request)
        bool_param(request, "pps")  # validated; the dependency install script it would add is not emulated
        latest = model.latest(self.clock.now())
        if latest is None:
            raise ApiError(404, f"Custom model {model.id} has no version to download")
        return zip_response(latest.items, latest.id)

    async def training_data(self, request: Request) -> Response:
        model = self.model(request)
        body = await json_body(request, bodies.TRAINING_DATA)
        now = self.clock.now()
        if not body.get("datasetId"):
            raise invalid("A datasetId is required to assign training data.", datasetId="This field is required.")
        model.training_data = {
            k: body.get(k) for k in ("datasetId", "datasetVersionId", "datasetName", "partitionColumn")
        }
        model.training_assigned_at = now
        job = self.state.add_job(now, ASSIGN_S, f"/customModels/{model.id}/", "Training data assignment")
        return self.accepted(request, job)


def apply_shares(base: Base, shares: list[Share], changes: list[dict[str, Any]], kind: str) -> list[Share]:
    """The access list after ``changes`` (role null removes a user); 409 if it would leave no owner."""
    result = {s.username: Share(s.username, s.user_id, s.role, s.can_share) for s in shares}
    for change in changes:
        username, role = change["username"], change["role"]
        if role is None:
            result.pop(username, None)
            continue
        existing = result.get(username)
        # Any username is a valid user in the sandbox; a new one gets a fresh user id.
        user_id = existing.user_id if existing else base.state.new_id()
        result[username] = Share(username, user_id, role, change.get("canShare", True))
    if not any(s.role == "OWNER" for s in result.values()):
        raise ApiError(409, f"The request would leave the {kind} without an owner")
    return list(result.values())
