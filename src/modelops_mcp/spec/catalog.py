"""The tool catalog: every documented operation of every loaded document, as the one MCP tool it becomes.

Built by spec/load.py; what the server adds to a documented schema is in spec/inputs.py and spec/outputs.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import mcp_types as types

from modelops_mcp.spec.extension import (
    DiscoverySpec,
    FileSetSpec,
    JobDeclaration,
    LabelsSpec,
    PaginationSpec,
    SessionSpec,
    UploadSpec,
)
from modelops_mcp.spec.flatten import BodyMode, Field

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
AuthStyle = Literal["header", "bearer"]


@dataclass(frozen=True, slots=True)
class AuthSpec:
    """How a backend's credential travels: a header carrying the raw secret, or a bearer token."""

    style: AuthStyle
    header: str
    credential_env: str | None
    # For a bearer scheme: a variable naming another scheme word (DataRobot's client sends `Token <key>`).
    scheme_env: str | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    backend: str
    operation_id: str
    tool_name: str
    method: str
    path: str
    title: str
    description: str
    fields: tuple[Field, ...]
    body_mode: BodyMode
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    wrap_output: bool
    annotations: types.ToolAnnotations
    authenticated: bool
    job: JobDeclaration | None
    source: str
    # The 2xx answer is a file: it is saved to the download directory and described, never inlined.
    download: bool = False
    # The argument that carries the backend's session key, filled in from the remembered session when omitted.
    session_arg: str | None = None
    # Not a tool: an operation the server calls itself (the status route a job's Location points at).
    internal: bool = False
    # Documented 3xx answers: data for the caller (a finished job's Location), not failures.
    redirects: frozenset[int] = frozenset()
    file_set: FileSetSpec | None = None
    # An offset/limit list whose answers link the next page; its tool takes that link back.
    pagination: PaginationSpec | None = None
    upload: UploadSpec | None = None
    # The operation's first OpenAPI tag: its toolset group, selected as `<backend>.<group>`.
    group: str | None = None
    # Arguments that make a call destructive (x-mcp `confirm_when`); empty: the destructiveHint decides.
    confirm_when: tuple[str, ...] = ()
    # The document marks the operation `deprecated: true` (search ranks it below what replaces it).
    deprecated: bool = False
    # Class names the server keeps for this backend's numbered classes (spec/labels.py).
    labels: LabelsSpec | None = None

    @property
    def idempotent(self) -> bool:
        return bool(self.annotations.idempotent_hint)

    def destructive_call(self, arguments: dict[str, Any]) -> bool:
        """Whether this call, with these arguments, is one a user should confirm before it is sent."""
        if not self.annotations.destructive_hint:
            return False
        if not self.confirm_when:
            return True
        return any(arguments.get(name) not in (None, 0, False, "", "0") for name in self.confirm_when)

    def tool(self) -> types.Tool:
        return types.Tool(
            name=self.tool_name,
            title=self.title,
            description=self.description,
            input_schema=self.input_schema,
            output_schema=self.output_schema,
            annotations=self.annotations,
        )


@dataclass(frozen=True, slots=True)
class BackendSpec:
    name: str
    title: str
    source: str
    default_base_url: str
    base_url_env: str | None
    auth: AuthSpec | None
    operations: tuple[Operation, ...]
    document: dict[str, Any] = field(repr=False)
    session: SessionSpec | None = None
    discovery: DiscoverySpec | None = None
    # The document's tags: the backend's toolset groups and what each holds.
    groups: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    backends: dict[str, BackendSpec]
    operations: dict[str, Operation]
    # Each document's path and content digest when every one is a bundled (trusted) document, else None:
    # two catalogs with the same fingerprint were built alike, so what is derived from one (the listing)
    # holds for the other.
    fingerprint: tuple[tuple[str, bytes], ...] | None = None

    def tools(self) -> list[types.Tool]:
        return [op.tool() for op in self.operations.values()]

    def find(self, backend: str, operation_id: str) -> Operation | None:
        spec = self.backends.get(backend)
        if spec is None:
            return None
        return next((op for op in spec.operations if op.operation_id == operation_id), None)

    def every_operation(self) -> list[Operation]:
        """Tools and internal operations alike."""
        return [op for spec in self.backends.values() for op in spec.operations]
