"""Request bodies of the emulated Tune the Model API, checked the way its FastAPI models would check them.

Each reader turns a parsed JSON object into a typed value or raises ``TtmError(422, ...)`` with one sentence
naming the offending field. A null counts as "not given", as it does for pydantic's optional fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .tunethemodel_data import CLASSIFIER, MODEL_TYPES, TtmError

__all__ = [
    "MAX_HYPOS",
    "MAX_NUM_CLASSES",
    "MAX_TOKENS",
    "MIN_ROWS",
    "Binding",
    "GenerateRequest",
    "NewFile",
    "NewModel",
    "Rows",
    "parse_binding",
    "parse_classify",
    "parse_generate",
    "parse_json",
    "parse_new_file",
    "parse_new_model",
    "parse_rows",
]

MIN_ROWS = 32
MAX_HYPOS = 10
# Bounds the service does not document; they keep one request from building an enormous answer.
MAX_NUM_CLASSES = 1000
MAX_TOKENS = 2048

_MISSING = object()


def _invalid(sentence: str) -> TtmError:
    return TtmError(422, sentence)


def parse_json(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object; any other body is a 422."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _invalid("The request body must be JSON") from None
    if not isinstance(body, dict):
        raise _invalid("The request body must be a JSON object")
    return body


def _given(body: dict[str, Any], name: str) -> Any:
    value = body.get(name)
    return _MISSING if value is None else value


def _is_int(value: Any) -> bool:
    # JSON true/false are not numbers, although bool is an int subclass in Python.
    return isinstance(value, int) and not isinstance(value, bool)


def _str(body: dict[str, Any], name: str, *, required: bool = False, label: str | None = None) -> str | None:
    value = _given(body, name)
    label = label or name
    if value is _MISSING:
        if required:
            raise _invalid(f"Field {label} is required")
        return None
    if not isinstance(value, str) or not value:
        raise _invalid(f"Field {label} must be a non-empty string")
    return value


def _required_str(body: dict[str, Any], name: str) -> str:
    value = _str(body, name, required=True)
    assert value is not None  # _str raised otherwise
    return value


def _enum(body: dict[str, Any], name: str) -> str:
    value = _given(body, name)
    if value is _MISSING:
        raise _invalid(f"Field {name} is required")
    if value not in MODEL_TYPES:
        raise _invalid(f"Field {name} must be one of {', '.join(MODEL_TYPES)}, got {value!r}")
    return str(value)


def _int(body: dict[str, Any], name: str, *, low: int, high: int | None = None, label: str | None = None) -> int | None:
    value = _given(body, name)
    label = label or name
    if value is _MISSING:
        return None
    if not _is_int(value):
        raise _invalid(f"Field {label} must be an integer")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        raise _invalid(f"Field {label} must be {bounds}, got {value}")
    return int(value)


def _number(body: dict[str, Any], name: str, *, low: float, high: float | None = None) -> float | None:
    """A number in (low, high]; None when not given."""
    value = _given(body, name)
    if value is _MISSING:
        return None
    if not (_is_int(value) or isinstance(value, float)):
        raise _invalid(f"Field {name} must be a number")
    if value <= low or (high is not None and value > high):
        bounds = f"> {low} and <= {high}" if high is not None else f"> {low}"
        raise _invalid(f"Field {name} must be {bounds}, got {value}")
    return float(value)


def _strings(body: dict[str, Any], name: str, *, required: bool, label: str | None = None) -> list[str] | None:
    value = _given(body, name)
    label = label or name
    if value is _MISSING:
        if required:
            raise _invalid(f"Field {label} is required")
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(f"Field {label} must be a list of strings")
    return value


@dataclass(frozen=True)
class NewModel:
    model_type: str
    name: str | None
    num_classes: int | None
    train_iters: int | None
    pretrained_model: str | None


def parse_new_model(body: dict[str, Any]) -> NewModel:
    model_type = _enum(body, "model_type")
    params = _given(body, "model_params")
    if params is _MISSING:
        params = {}
    elif not isinstance(params, dict):
        raise _invalid("Field model_params must be an object")
    num_classes = _int(params, "num_classes", low=2, high=MAX_NUM_CLASSES, label="model_params.num_classes")
    if num_classes is not None and model_type != CLASSIFIER:
        raise _invalid("Field model_params.num_classes is only for classifier models")
    return NewModel(
        model_type=model_type,
        name=_str(body, "name"),
        num_classes=num_classes,
        train_iters=_int(params, "train_iters", low=1, label="model_params.train_iters"),
        pretrained_model=_str(body, "pretrained_model"),
    )


@dataclass(frozen=True)
class NewFile:
    name: str
    task_type: str


def parse_new_file(body: dict[str, Any]) -> NewFile:
    return NewFile(name=_required_str(body, "name"), task_type=_enum(body, "task_type"))


@dataclass(frozen=True)
class Rows:
    inputs: list[str]
    classes: list[int] | None
    outputs: list[str] | None


def parse_rows(body: dict[str, Any], task_type: str) -> Rows:
    """An upload: ``inputs`` with ``classes`` (classifier file) or ``outputs`` (generator file), row for row."""
    inputs = _strings(body, "inputs", required=True)
    assert inputs is not None
    classes: list[int] | None = None
    outputs: list[str] | None = None
    if task_type == CLASSIFIER:
        raw = _given(body, "classes")
        if raw is _MISSING:
            raise _invalid("Field classes is required for a classifier file")
        if not isinstance(raw, list) or not all(_is_int(c) and c >= 0 for c in raw):
            raise _invalid("Field classes must be a list of integers >= 0")
        classes, second, count = raw, "classes", len(raw)
    else:
        outputs = _strings(body, "outputs", required=False)
        if outputs is None:
            raise _invalid("Field outputs is required for a generator file")
        second, count = "outputs", len(outputs)
    if count != len(inputs):
        raise _invalid(f"Fields inputs and {second} must have the same length, got {len(inputs)} and {count}")
    if len(inputs) < MIN_ROWS:
        raise _invalid(f"At least {MIN_ROWS} rows are required, got {len(inputs)}")
    return Rows(inputs=inputs, classes=classes, outputs=outputs)


@dataclass(frozen=True)
class Binding:
    train_file: str
    validate_file: str


def parse_binding(body: dict[str, Any]) -> Binding:
    return Binding(train_file=_required_str(body, "train_file"), validate_file=_required_str(body, "validate_file"))


def parse_classify(body: dict[str, Any]) -> str:
    """The text to classify."""
    value = _given(body, "input")
    if value is _MISSING:
        raise _invalid("Field input is required")
    if not isinstance(value, str):
        raise _invalid("Field input must be a string")
    return value


@dataclass(frozen=True)
class GenerateRequest:
    input: str
    num_hypos: int
    min_tokens: int
    max_tokens: int
    temperature: float
    top_k: int | None
    top_p: float | None
    seed: int | None
    prefix_tokens_only: bool | None
    span_delimiters: list[str] | None


def parse_generate(body: dict[str, Any]) -> GenerateRequest:
    text = parse_classify(body)
    num_hypos = _int(body, "num_hypos", low=1, high=MAX_HYPOS)
    min_tokens = _int(body, "min_tokens", low=1, high=MAX_TOKENS)
    max_tokens = _int(body, "max_tokens", low=1, high=MAX_TOKENS)
    # The SDK's defaults: one hypothesis of 1 to 64 tokens.
    low, high = min_tokens or 1, max_tokens or 64
    if high < low:
        raise _invalid(f"Field max_tokens must be >= min_tokens, got {high} < {low}")
    prefix_only = _given(body, "prefix_tokens_only")
    if prefix_only is not _MISSING and not isinstance(prefix_only, bool):
        raise _invalid("Field prefix_tokens_only must be a boolean")
    seed = _given(body, "seed")
    if seed is not _MISSING and not _is_int(seed):
        raise _invalid("Field seed must be an integer")
    temperature = _number(body, "temperature", low=0.0)
    return GenerateRequest(
        input=text,
        num_hypos=num_hypos or 1,
        min_tokens=low,
        max_tokens=high,
        temperature=1.0 if temperature is None else temperature,
        top_k=_int(body, "top_k", low=0),
        top_p=_number(body, "top_p", low=0.0, high=1.0),
        seed=None if seed is _MISSING else int(seed),
        prefix_tokens_only=prefix_only if isinstance(prefix_only, bool) else None,
        span_delimiters=_strings(body, "span_delimiters", required=False),
    )
