"""DataRobot emulator: reading the multipart/form-data bodies that create versions (model and environment).

Form fields arrive as strings, so each is converted and range-checked here the way the seed's body schema
describes it; a bad one answers 422 with ``errors`` naming the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from .datarobot_bodies import GIT_MODEL_VERSION, METADATA_VALUES
from .datarobot_data import MAX_UPLOAD_BYTES
from .datarobot_http import ApiError, check, invalid

__all__ = ["ModelForm", "read_form", "read_model_form"]

_TRUE, _FALSE = ("true", "True"), ("false", "False")
_MEMORY = (134217728, 15032385536)
# Fields a version echoes back in its responses: (name, kind, bounds or allowed values).
_SETTINGS: tuple[tuple[str, str, Any], ...] = (
    ("maximumMemory", "int", _MEMORY),
    ("desiredMemory", "int", _MEMORY),
    ("replicas", "int", (1, 8)),
    ("requiresHa", "bool", None),
    ("networkEgressPolicy", "enum", ("NONE", "PUBLIC")),
    ("resourceBundleId", "str", None),
)
# Fields sent as JSON strings that a version echoes back: (name, JSON type, the seed's schema for the value).
_JSON_SETTINGS: tuple[tuple[str, type, dict[str, Any]], ...] = (
    ("requiredMetadataValues", list, METADATA_VALUES),
    ("gitModelVersion", dict, GIT_MODEL_VERSION),
)
_DATASET_KEYS = ("datasetId", "datasetVersionId", "datasetName", "partitionColumn")


@dataclass
class ModelForm:
    """A custom model version request: files paired with their filePath, and the converted fields."""

    files: list[tuple[str, str, bytes]]  # (file name, filePath, bytes), in the order sent
    is_major: bool
    base_env_id: str | None
    base_env_version_id: str | None
    settings: dict[str, Any] = field(default_factory=dict)
    training_data: dict[str, Any] | None = None
    holdout_data: dict[str, Any] | None = None
    keep_training_holdout: bool = True
    files_to_delete: list[str] = field(default_factory=list)
    description: str | None = None


async def read_form(request: Request) -> FormData:
    """The request's form; a JSON object body is taken as a form without files (clients send both)."""
    length = request.headers.get("content-length", "")
    # Refused before parsing: 1 MiB of slack covers the multipart framing and the other fields.
    if length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 1024 * 1024:
        raise _too_large(int(length))
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            payload = json.loads(await request.body() or b"{}")
        except ValueError:
            raise invalid("The request body is not valid JSON.", body="must be a JSON object") from None
        if not isinstance(payload, dict):
            raise invalid("The request body must be a JSON object.", body="must be a JSON object")
        # Booleans as "True"/"False" (what isMajorUpdate accepts), objects as the JSON strings a form carries.
        fields: list[tuple[str, str | UploadFile]] = [
            (k, v if isinstance(v, str) else str(v) if isinstance(v, bool) else json.dumps(v))
            for k, v in payload.items()
            if v is not None
        ]
        return FormData(fields)
    return await request.form(max_files=1000, max_fields=1000)


def _too_large(size: int) -> ApiError:
    return ApiError(413, f"The uploaded files total {size} bytes, more than the {MAX_UPLOAD_BYTES} bytes allowed")


def one(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is None or (isinstance(value, str) and value == ""):
        return None
    if not isinstance(value, str):
        raise invalid(f"The field {name} must be a text field, not a file.", **{name: "must be a text field"})
    return value


def _bool(form: FormData, name: str) -> bool | None:
    raw = one(form, name)
    if raw is None:
        return None
    if raw not in _TRUE + _FALSE:
        raise invalid(f"The field {name} must be true or false.", **{name: "must be one of true, True, false, False"})
    return raw in _TRUE


def _json(form: FormData, name: str, kind: type) -> Any:
    raw = one(form, name)
    if raw is None or raw == "null":
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, kind):
        what = "a JSON object" if kind is dict else "a JSON array"
        raise invalid(f"The field {name} must be {what}.", **{name: f"must be {what}"})
    return value


def _setting(form: FormData, name: str, kind: str, rule: Any) -> Any:
    if kind == "bool":
        return _bool(form, name)
    raw = one(form, name)
    if raw is None or raw == "null":
        return None
    if kind == "enum" and raw not in rule:
        raise invalid(f"The field {name} must be one of {', '.join(rule)}.", **{name: f"must be one of {rule}"})
    if kind != "int":
        return raw
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"The field {name} must be an integer.", **{name: "must be an integer"}) from None
    if not rule[0] <= value <= rule[1]:
        why = f"must be between {rule[0]} and {rule[1]}"
        raise invalid(f"The field {name} {why}.", **{name: why})
    return value


def _dataset(form: FormData, name: str) -> dict[str, Any] | None:
    value = _json(form, name, dict)
    # A version's trainingData has no partitionColumn in the seed's response schema; holdoutData has one.
    keys = _DATASET_KEYS if name == "holdoutData" else _DATASET_KEYS[:3]
    return None if value is None else {k: value.get(k) for k in keys if k in value}


async def _files(form: FormData) -> list[tuple[str, str, bytes]]:
    parts = form.getlist("file")
    paths = [p for p in form.getlist("filePath") if isinstance(p, str)]
    if any(not isinstance(p, UploadFile) for p in parts):
        raise invalid("Every file field must be a file part.", file="must be a file part")
    if len(parts) != len(paths):
        why = f"{len(parts)} file parts came with {len(paths)} filePath values; send one filePath per file"
        raise invalid(f"Each file needs a filePath: {why}.", filePath=why)
    out: list[tuple[str, str, bytes]] = []
    total = 0
    for part, path in zip(parts, paths, strict=True):
        assert isinstance(part, UploadFile)
        clean = path.strip().replace("\\", "/")
        if not clean or clean.startswith("/") or ".." in clean.split("/"):
            why = f"{path!r} must be a relative path inside the model"
            raise invalid(f"The filePath {why}.", filePath=why)
        data = await part.read()
        total += len(data)
        if total > MAX_UPLOAD_BYTES:
            raise _too_large(total)
        out.append((part.filename or clean.rsplit("/", 1)[-1], clean, data))
    return out


async def read_model_form(request: Request, *, patch: bool) -> ModelForm:
    """The fields of POST/PATCH ``/customModels/{id}/versions/``, files read into memory."""
    form = await read_form(request)
    try:
        files = await _files(form)
        is_major = _bool(form, "isMajorUpdate")
        if is_major is None:
            raise invalid("isMajorUpdate is required.", isMajorUpdate="This field is required.")
        result = ModelForm(files, is_major, one(form, "baseEnvironmentId"), one(form, "baseEnvironmentVersionId"))
        for name, kind, rule in _SETTINGS:
            value = _setting(form, name, kind, rule)
            if value is not None:
                result.settings[name] = value
        for name, json_type, schema in _JSON_SETTINGS:
            value = _json(form, name, json_type)
            if value is not None:
                check({name: value}, {"type": "object", "properties": {name: schema}})
                result.settings[name] = value
        result.training_data = _dataset(form, "trainingData")
        result.holdout_data = _dataset(form, "holdoutData")
        result.keep_training_holdout = _bool(form, "keepTrainingHoldoutData") is not False
        result.description = one(form, "description")
        if patch:
            for raw in form.getlist("filesToDelete"):
                if isinstance(raw, str):
                    result.files_to_delete += [part.strip() for part in raw.split(",") if part.strip()]
        return result
    finally:
        await form.close()
