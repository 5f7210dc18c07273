"""DataRobot emulator: the JSON bodies of custom models, versions, tests, builds and environments.

Shapes follow the seed's response schemas: every required field present with its type, optional fields only
when they have a value (several are non-nullable strings in responses although requests may send null).
"""

from __future__ import annotations

import re
from typing import Any

from .datarobot_checks import ModelTest
from .datarobot_data import (
    ASSIGN_S,
    OWNER_USERNAME,
    CustomModel,
    DependencyBuild,
    Environment,
    EnvVersion,
    Item,
    ModelVersion,
    iso,
)

__all__ = [
    "build_json",
    "env_json",
    "env_version_json",
    "item_json",
    "model_json",
    "parse_dependencies",
    "test_json",
    "version_json",
]

_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)$")
_CONSTRAINT = re.compile(r"^(<=|>=|==|<|>)\s*(\S+)$")


def parse_dependencies(text: str) -> list[dict[str, Any]]:
    """One entry per requirement line of a requirements.txt (comments, blanks and options skipped).

    Constraints with an operator the seed's enum lacks (``~=``, ``!=``) are left out rather than refused,
    so any pip-valid file uploads.
    """
    out: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        match = _REQUIREMENT.match(line.split(";")[0].strip()) if line and not line.startswith(("#", "-")) else None
        if match is None:
            continue
        constraints = []
        for part in match[3].split(","):
            found = _CONSTRAINT.match(part.strip())
            if found:
                constraints.append({"constraintType": found[1], "version": found[2]})
        entry: dict[str, Any] = {"packageName": match[1], "line": line, "lineNumber": number}
        entry["constraints"] = constraints
        if match[2]:
            entry["extras"] = match[2]
        out.append(entry)
    return out


def item_json(item: Item) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": item.id,
        "fileName": item.file_name,
        "filePath": item.file_path,
        "fileSource": item.file_source,
        "created": iso(item.created),
        "storagePath": f"custom_models/{item.workspace_id}/{item.id}",
        "workspaceId": item.workspace_id,
    }
    body.update(item.repository)
    return body


def _assignment(data: dict[str, Any], assigned_at: float | None, now: float) -> dict[str, Any]:
    in_progress = assigned_at is not None and now < assigned_at + ASSIGN_S
    return {**data, "assignmentInProgress": in_progress}


def version_json(version: ModelVersion, now: float) -> dict[str, Any]:
    requirements = next((i for i in version.items if i.file_path == "requirements.txt"), None)
    body: dict[str, Any] = {
        "id": version.id,
        "customModelId": version.model_id,
        "created": iso(version.created),
        "description": version.description,
        "isFrozen": False,
        "items": [item_json(i) for i in version.items],
        "label": version.label,
        "versionMajor": version.major,
        "versionMinor": version.minor,
        "baseEnvironmentId": version.base_env_id,
        "baseEnvironmentVersionId": version.base_env_version_id,
        "dependencies": parse_dependencies(requirements.data.decode("utf-8", "replace")) if requirements else [],
        "requiredMetadataValues": [],
    }
    body.update(version.settings)
    if version.training_data is not None:
        body["trainingData"] = _assignment(version.training_data, version.training_assigned_at, now)
    if version.holdout_data is not None:
        body["holdoutData"] = version.holdout_data
    return body


def model_json(model: CustomModel, now: float) -> dict[str, Any]:
    latest = model.latest(now)
    supports_binary = model.fields.get("supportsBinaryClassification", model.target_type == "Binary")
    supports_regression = model.fields.get("supportsRegression", model.target_type == "Regression")
    body: dict[str, Any] = {
        "id": model.id,
        "name": model.name,
        "customModelType": model.custom_model_type,
        "targetType": model.target_type,
        "description": model.description,
        "language": model.language,
        "created": iso(model.created),
        "updated": iso(model.updated),
        "createdBy": OWNER_USERNAME,
        "deploymentsCount": 0,
        # null for a model without versions, as the service sends it; the official client declares it
        # t.Or(CustomModelVersion.schema, t.Null()) (datarobot 3.20.0, models/custom_model.py:46).
        "latestVersion": version_json(latest, now) if latest is not None else None,
        "supportsBinaryClassification": supports_binary,
        "supportsRegression": supports_regression,
        "template": dict(model.template),
    }
    body.update({k: v for k, v in model.fields.items() if v is not None})
    body["supportsBinaryClassification"] = bool(body["supportsBinaryClassification"])
    body["supportsRegression"] = bool(body["supportsRegression"])
    # Always present: the official client requires it (datarobot 3.20.0, models/custom_model.py:438).
    body["trainingDataAssignmentInProgress"] = False
    if model.training_data is not None:
        assignment = _assignment(model.training_data, model.training_assigned_at, now)
        body["trainingDatasetId"] = assignment.get("datasetId")
        body["trainingDatasetVersionId"] = assignment.get("datasetVersionId")
        body["trainingDataPartitionColumn"] = assignment.get("partitionColumn")
        body["trainingDataFileName"] = assignment.get("datasetName")
        body["trainingDataAssignmentInProgress"] = assignment["assignmentInProgress"]
    return body


def build_json(build: DependencyBuild, log_url: str, now: float) -> dict[str, Any]:
    ended = build.ended(now)
    return {
        "buildStatus": build.status(now),
        "buildStart": iso(build.started),
        "buildEnd": iso(ended) if ended is not None else None,
        "buildLogLocation": log_url if ended is not None else None,
    }


def test_json(test: ModelTest, now: float) -> dict[str, Any]:
    completed = test.completed_at(now)
    body: dict[str, Any] = {
        "id": test.id,
        "created": iso(test.started),
        # Required as a string by the seed: empty while the test runs.
        "completedAt": iso(completed) if completed is not None else "",
        "createdBy": OWNER_USERNAME,
        "customModel": {"id": test.model_id, "name": test.model_name},
        "customModelVersion": {"id": test.version_id, "label": test.version_label},
        "customModelImageId": test.image_id,
        "imageType": "customModelImage",
        "datasetId": test.dataset_id,
        "datasetVersionId": test.dataset_version_id,
        "executionEnvironment": {"id": test.env_id, "name": test.env_name},
        "executionEnvironmentVersion": {"id": test.env_version_id, "label": test.env_version_label},
        "overallStatus": test.overall(now),
        "testingStatus": test.checks(now),
    }
    body.update(test.settings)
    return body


def env_version_json(version: EnvVersion, now: float) -> dict[str, Any]:
    return {
        "id": version.id,
        "environmentId": version.environment_id,
        "label": version.label,
        "description": version.description,
        "created": iso(version.created),
        "buildStatus": version.build_status(now),
        "buildId": None,
        "imageId": version.image_id,
        "dockerContext": version.context_name,
        "dockerContextSize": len(version.context) if version.context is not None else None,
        "dockerImage": version.image_name,
        "dockerImageSize": len(version.image) if version.image is not None else None,
        "sourceDockerImageUri": version.image_uri,
    }


def env_json(env: Environment, now: float) -> dict[str, Any]:
    built = [v for v in env.versions if v.build_status(now) == "success"]
    latest = env.versions[-1] if env.versions else None
    return {
        "id": env.id,
        "name": env.name,
        "description": env.description,
        "programmingLanguage": env.programming_language,
        "useCases": list(env.use_cases),
        "isPublic": env.is_public,
        "created": iso(env.created),
        "username": OWNER_USERNAME,
        "deploymentsCount": 0,
        # null when there is none, as for custom models: the official client takes null as missing, and refuses
        # a stand-in whose id is blank (datarobot 3.20.0, models/execution_environment.py:107-108 and
        # models/execution_environment_version.py:79).
        "latestVersion": env_version_json(latest, now) if latest else None,
        "latestSuccessfulVersion": env_version_json(built[-1], now) if built else None,
    }
