"""The `x-mcp` extension keys of a schema document (documented in docs/schemas.md), as validated models."""

from __future__ import annotations

import re
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from modelops_mcp.spec.openapi import SchemaError, pointer_join

TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
BACKEND_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# OpenAPI runtime expressions, as used by Links: where a job's remote id comes from.
RUNTIME_EXPRESSION = re.compile(
    r"^\$(response\.body#(/[^/]*)*|response\.header\.[A-Za-z0-9-]+|"
    r"request\.(path|query|header)\.[A-Za-z0-9_.-]+|request\.body#(/[^/]*)*)$"
)
M = TypeVar("M", bound="BaseModel")
JobStatus = Literal["working", "input_required", "completed", "failed", "cancelled"]


class _Strict(BaseModel):
    # Unknown keys are typos in hand-curated documents: refuse them rather than silently ignore.
    model_config = ConfigDict(extra="forbid", frozen=True)


class SessionSpec(_Strict):
    """A backend whose calls carry a session key: the server remembers the key the start operation returned."""

    argument: str  # the tool argument (a path parameter) that carries the key
    start: str  # operationId of the call that starts a session
    value: str  # where its answer holds the key (a runtime expression)

    @field_validator("value")
    @classmethod
    def _expression(cls, value: str) -> str:
        if not RUNTIME_EXPRESSION.match(value) or not value.startswith("$response."):
            raise ValueError(f"{value!r} is not a $response runtime expression")
        return value


class DiscoverySpec(_Strict):
    """A local service found by probing ports of the default server's host when its URL is not configured."""

    path: str  # answered with a 2xx by a running service
    ports: list[int | str]  # single ports, or "low-high" ranges, in preference order

    @field_validator("ports")
    @classmethod
    def _ports(cls, value: list[int | str]) -> list[int | str]:
        for port in value:
            low, _, high = str(port).partition("-")
            if not low.isdigit() or (high and not high.isdigit()) or not 0 < int(low) <= int(high or low) <= 65535:
                raise ValueError(f"{port!r} is not a port or a low-high port range")
        if sum(len(expand_ports([p])) for p in value) > 256:
            raise ValueError("at most 256 ports may be probed")
        return value


def expand_ports(ports: list[int | str]) -> list[int]:
    out: list[int] = []
    for port in ports:
        low, _, high = str(port).partition("-")
        out.extend(range(int(low), int(high or low) + 1))
    return out


class PaginationSpec(_Strict):
    """Offset/limit lists whose answers carry the URL of the next page (every GET with `offset` and `next`)."""

    offset: str = "offset"  # query parameter names
    limit: str = "limit"
    default_limit: int = Field(default=100, ge=1)
    next: str = "/next"  # pointer to the next page's URL in the answer
    argument: str = "next_page"  # the tool argument that takes that URL back


class DocumentExtension(_Strict):
    backend: str
    title: str | None = None
    base_url_env: str | None = None
    open_world: bool = True
    session: SessionSpec | None = None
    discovery: DiscoverySpec | None = None
    pagination: PaginationSpec | None = None

    @field_validator("backend")
    @classmethod
    def _backend_name(cls, value: str) -> str:
        if not BACKEND_NAME.match(value):
            raise ValueError(f"backend name {value!r} must match {BACKEND_NAME.pattern}")
        return value


class Annotations(_Strict):
    readOnlyHint: bool | None = None
    destructiveHint: bool | None = None
    idempotentHint: bool | None = None
    openWorldHint: bool | None = None


class OperationRef(_Strict):
    operation: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class StatusRule(_Strict):
    when: dict[str, Any]
    status: JobStatus

    @field_validator("when")
    @classmethod
    def _pointers(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("a rule needs at least one pointer to match")
        for pointer in value:
            if not pointer.startswith("/"):
                raise ValueError(f"{pointer!r} is not a JSON pointer")
        return value


class ProgressSpec(_Strict):
    pointer: str
    # The figure that means done: 1 for a fraction, 100 for a percentage, the epoch count for epochs.
    scale: float = Field(default=1.0, gt=0)


class ResolveSpec(OperationRef):
    """An id the start answer lacks, looked up by a call when first needed (e.g. the test a status job runs)."""

    value: str  # JSON pointer into that call's answer

    @field_validator("value")
    @classmethod
    def _pointer(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"{value!r} is not a JSON pointer")
        return value


class JobDeclaration(_Strict):
    ids: dict[str, str]
    status: OperationRef | None = None
    rules: list[StatusRule] = Field(default_factory=list)
    state: str | None = None
    message: str | None = None
    progress: ProgressSpec | str | None = None
    cancel: OperationRef | None = None
    adapter: str | None = None
    resolve: dict[str, ResolveSpec] = Field(default_factory=dict)

    @field_validator("ids")
    @classmethod
    def _expressions(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("a job needs at least one remote id")
        for name, expression in value.items():
            if not RUNTIME_EXPRESSION.match(expression):
                raise ValueError(f"id {name!r}: {expression!r} is not an OpenAPI runtime expression")
        return value


class FileSetSpec(_Strict):
    """A multipart body taking any number of files, each part paired with a field naming its relative path.

    The tool takes one argument, a list of local files or folders; a folder contributes every file under it,
    each with its path relative to the folder.
    """

    part: str  # the repeated file part, e.g. "file"
    path_field: str  # the repeated field giving each part's relative path, e.g. "filePath"
    argument: str = "files"
    max_files: int = Field(default=1000, ge=1)


class UploadSpec(_Strict):
    """After the call, send a payload built from the tool's own arguments to a URL its answer gives
    (Tune the Model's presigned `upload_url`). The extra arguments are the tool's, never sent in the call."""

    url: str  # a $response.body runtime expression
    method: Literal["PUT", "POST"] = "PUT"
    payload: str  # name of the payload builder (calls/payloads.py)
    arguments: dict[str, dict[str, Any]]  # JSON Schemas of the builder's arguments
    then: OperationRef | None = None  # read back the result; `{name}` takes fields of the first answer

    @field_validator("url")
    @classmethod
    def _expression(cls, value: str) -> str:
        if not value.startswith("$response.body#") or not RUNTIME_EXPRESSION.match(value):
            raise ValueError(f"{value!r} is not a $response.body runtime expression")
        return value


class LabelRef(_Strict):
    record: str  # what the id names, e.g. "file" or "model"
    id: str  # a runtime expression for that id in this call

    @field_validator("id")
    @classmethod
    def _expression(cls, value: str) -> str:
        if not RUNTIME_EXPRESSION.match(value):
            raise ValueError(f"{value!r} is not an OpenAPI runtime expression")
        return value


class LabelsSpec(LabelRef):
    """Class names the server keeps for a backend that answers classes by number (spec/labels.py): an upload
    records its names under `record`/`id`, `copy_from` copies another record's names to this one (a model
    bound to its train file), `scores` (a JSON pointer into the answer) gets `classes` added beside it."""

    copy_from: LabelRef | None = None
    scores: str | None = None

    @field_validator("scores")
    @classmethod
    def _pointer(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError(f"{value!r} is not a JSON pointer")
        return value


class OperationExtension(_Strict):
    tool: str
    title: str | None = None
    annotations: Annotations | None = None
    job: JobDeclaration | None = None
    # Used by the server itself (a job's status route), not listed as a tool.
    internal: bool = False
    files: FileSetSpec | None = None
    upload: UploadSpec | None = None
    labels: LabelsSpec | None = None
    # Confirm a destructive call only when one of these arguments is set (not 0, false or empty), e.g. a
    # `force_restart` that wipes state; without it every call of a destructive tool is confirmed.
    confirm_when: list[str] = Field(default_factory=list)

    @field_validator("tool")
    @classmethod
    def _tool_name(cls, value: str) -> str:
        if not TOOL_NAME.match(value):
            raise ValueError(f"tool name {value!r} must be snake_case, at most 64 characters")
        return value


def parse(model: type[M], raw: Any, source: str, pointer: str) -> M:
    """Validate an `x-mcp` object, turning the first pydantic error into a located `SchemaError`."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = pointer_join(pointer, *(str(part) for part in first["loc"]))
        raise SchemaError(source, where, first["msg"]) from None
