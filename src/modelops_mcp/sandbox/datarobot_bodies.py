"""DataRobot emulator: the seed's JSON request-body schemas, for validating requests (422 on a violation).

Transcribed from the seed's "Body parameter" schemas without their descriptions. Unknown fields are ignored,
as the service's own validators do for these routes.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CONVERSION_CREATE",
    "ENV_CREATE",
    "ENV_UPDATE",
    "FEATURE_IMPACT_CREATE",
    "FROM_REPOSITORY",
    "GIT_MODEL_VERSION",
    "METADATA_VALUES",
    "MODEL_COPY",
    "MODEL_CREATE",
    "MODEL_FROM_TEMPLATE",
    "MODEL_TEST_CREATE",
    "MODEL_UPDATE",
    "PERMADELETE",
    "PREDICTION_EXPLANATIONS",
    "SHARING_UPDATE",
    "TRAINING_DATA",
    "VERSION_METADATA_UPDATE",
    "VERSION_TRAINING_DATA",
]

Schema = dict[str, Any]

MEMORY: Schema = {"type": ["integer", "null"], "minimum": 134217728, "maximum": 15032385536}
REPLICAS: Schema = {"type": ["integer", "null"], "exclusiveMinimum": 0, "maximum": 8}
EGRESS: Schema = {"type": ["string", "null"], "enum": ["NONE", "PUBLIC", None]}
TARGET_TYPES = [
    "Binary",
    "Regression",
    "Multiclass",
    "Anomaly",
    "Transform",
    "TextGeneration",
    "GeoPoint",
    "Unstructured",
    "VectorDatabase",
    "AgenticWorkflow",
]
LANGUAGES = ["python", "r", "java", "julia", "legacy", "other"]
USE_CASES = ["customModel", "notebook", "gpu", "customApplication", "sparkApplication", "customJob"]
ROLES = ["ADMIN", "CONSUMER", "DATA_SCIENTIST", "EDITOR", "OBSERVER", "OWNER", "READ_ONLY", "READ_WRITE", "USER"]


def _obj(required: list[str] | None = None, /, **properties: Schema) -> Schema:
    return {"type": "object", "properties": properties, "required": required or []}


def _str(max_length: int | None = None, nullable: bool = False) -> Schema:
    schema: Schema = {"type": ["string", "null"] if nullable else "string"}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def _enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


_SHA: Schema = {"type": "string", "minLength": 40, "maxLength": 40}
GIT_MODEL_VERSION = _obj(
    ["commitUrl", "mainBranchCommitSha", "pullRequestCommitSha", "refName"],
    commitUrl={"type": "string", "format": "uri"},
    mainBranchCommitSha=_SHA,
    pullRequestCommitSha={**_SHA, "type": ["string", "null"]},
    refName=_str(),
)
_BOOL: Schema = {"type": "boolean"}
_NULLABLE_BOOL: Schema = {"type": ["boolean", "null"]}
METADATA_VALUES: Schema = {
    "type": "array",
    "maxItems": 100,
    "items": _obj(["fieldName", "value"], fieldName=_str(), value=_str(100)),
}
_DATASET = {"datasetId": _str(nullable=True), "datasetName": _str(255, True), "datasetVersionId": _str(nullable=True)}

FEATURE_IMPACT_CREATE = _obj(rowCount={"type": "integer", "minimum": 10, "maximum": 100000})

MODEL_TEST_CREATE = _obj(
    ["customModelId", "customModelVersionId"],
    configuration=_obj(
        errorCheck=_enum("fail", "skip"),
        longRunningService=_enum("fail"),
        nullValueImputation=_enum("skip", "warn", "fail"),
        sideEffects=_enum("skip", "warn", "fail"),
    ),
    customModelId=_str(),
    customModelVersionId=_str(),
    datasetId=_str(),
    datasetVersionId=_str(),
    desiredMemory=MEMORY,
    environmentId=_str(),
    environmentVersionId=_str(),
    maximumMemory=MEMORY,
    networkEgressPolicy=EGRESS,
    replicas=REPLICAS,
    requiresHa=_NULLABLE_BOOL,
    resourceBundleId=_str(nullable=True),
)

_MODEL_COMMON: dict[str, Schema] = {
    "classLabels": {"type": "array", "maxItems": 100, "items": {"type": "string"}},
    "description": _str(10000),
    "desiredMemory": MEMORY,
    "gitModelVersion": GIT_MODEL_VERSION,
    "isTrainingDataForVersionsPermanentlyEnabled": _BOOL,
    "language": _str(500),
    "maximumMemory": MEMORY,
    "name": _str(255),
    "negativeClassLabel": _str(500, True),
    "networkEgressPolicy": {"type": ["string", "null"], "enum": ["NONE", "DR_API_ACCESS", "PUBLIC", None]},
    "positiveClassLabel": _str(500, True),
    "predictionThreshold": {"type": "number", "minimum": 0, "maximum": 1},
    "replicas": REPLICAS,
    "requiresHa": _NULLABLE_BOOL,
    "targetName": _str(500, True),
}
MODEL_CREATE = _obj(
    ["customModelType", "name"],
    **_MODEL_COMMON,
    calibratePredictions=_BOOL,
    customModelType=_enum("training", "inference"),
    playgroundId=_str(nullable=True),
    supportsBinaryClassification=_BOOL,
    supportsRegression=_BOOL,
    targetType=_enum(*TARGET_TYPES),
    userProvidedId=_str(100),
)
MODEL_UPDATE = _obj(**_MODEL_COMMON)
MODEL_COPY = _obj(["customModelId"], customModelId=_str())
MODEL_FROM_TEMPLATE = _obj(
    ["resourceBundleId", "secretConfigId", "templateId"],
    resourceBundleId=_str(),
    secretConfigId=_str(),
    templateId=_str(),
)
PREDICTION_EXPLANATIONS = _obj(
    ["customModelId", "customModelVersionId"],
    customModelId=_str(),
    customModelVersionId=_str(),
    environmentId=_str(),
    environmentVersionId=_str(),
)
SHARING_UPDATE = _obj(
    ["data"],
    data={
        "type": "array",
        "maxItems": 100,
        "items": _obj(
            ["role", "username"],
            canShare=_BOOL,
            role={"type": ["string", "null"], "enum": [*ROLES, None]},
            username=_str(),
        ),
    },
)
TRAINING_DATA = _obj(**_DATASET, partitionColumn=_str(500, True))
FROM_REPOSITORY = _obj(
    ["repositoryId"],
    baseEnvironmentId=_str(),
    isMajorUpdate=_BOOL,
    keepTrainingHoldoutData=_BOOL,
    ref=_str(),
    repositoryId=_str(),
    requiredMetadata={"type": "object"},
    requiredMetadataValues=METADATA_VALUES,
    sourcePath={"oneOf": [_str(), {"type": "array", "maxItems": 100, "items": _str()}]},
)
VERSION_TRAINING_DATA = _obj(
    ["trainingData"],
    gitModelVersion=GIT_MODEL_VERSION,
    holdoutData=_obj(**_DATASET, partitionColumn=_str(500, True)),
    trainingData=_obj(**_DATASET, assignmentInProgress=_BOOL),
)
VERSION_METADATA_UPDATE = _obj(
    description=_str(10000),
    gitModelVersion=GIT_MODEL_VERSION,
    requiredMetadata={"type": "object"},
    requiredMetadataValues=METADATA_VALUES,
)
CONVERSION_CREATE = _obj(["mainProgramItemId"], mainProgramItemId=_str())
_USE_CASES: Schema = {"type": "array", "maxItems": 100, "items": _enum(*USE_CASES)}
ENV_CREATE = _obj(
    ["name"],
    description=_str(10000),
    environmentId=_str(),
    isPublic=_BOOL,
    name=_str(255),
    programmingLanguage=_enum(*LANGUAGES),
    useCases=_USE_CASES,
)
ENV_UPDATE = _obj(description=_str(10000), name=_str(255), programmingLanguage=_enum(*LANGUAGES), useCases=_USE_CASES)
PERMADELETE = _obj(
    ["executionEnvironmentIds"],
    executionEnvironmentIds={"type": "array", "minItems": 1, "maxItems": 10, "items": _str()},
)
