"""A backend's successful answer, parsed, and the OpenAPI runtime expressions read against one call.

What comes after a call reads its answer through these: a job's remote ids (`evaluate`), the arguments of
a follow-up call filled from them (`fill_arguments`: a status check, an upload's read-back), class names
remembered for a record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from modelops_mcp.spec.catalog import Operation
from modelops_mcp.spec.extension import OperationRef
from modelops_mcp.spec.openapi import MISSING, resolve_pointer

_TEMPLATE = re.compile(r"\{([A-Za-z0-9_]+)\}")


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful backend answer, parsed: what adapters read ids and states from."""

    status: int
    body: Any
    headers: httpx.Headers


def _arg_for(op: Operation, location: str, wire: str) -> str | None:
    return next((f.arg for f in op.fields if f.location == location and f.wire == wire), None)


def evaluate(expression: str, op: Operation, arguments: dict[str, Any], reply: Reply) -> Any:
    """An OpenAPI runtime expression (the subset the extension accepts) against one start call."""
    if expression.startswith("$response.body#"):
        return resolve_pointer(reply.body, expression[len("$response.body#") :])
    if expression.startswith("$response.header."):
        value = reply.headers.get(expression[len("$response.header.") :])
        return MISSING if value is None else value
    if expression.startswith("$request.body#"):
        body = {f.wire: arguments[f.arg] for f in op.fields if f.location == "body" and f.arg in arguments}
        return resolve_pointer(body, expression[len("$request.body#") :])
    location, _, wire = expression[len("$request.") :].partition(".")
    arg = _arg_for(op, location, wire)
    return arguments.get(arg, MISSING) if arg is not None else MISSING


def fill_arguments(target: Operation, ref: OperationRef, remote: dict[str, Any]) -> dict[str, Any]:
    """Fill `{id}` templates from the remote ids; a lone template keeps the id's JSON type."""
    properties = target.input_schema.get("properties", {})
    out: dict[str, Any] = {}
    for name, template in ref.arguments.items():
        if isinstance(template, str) and (whole := _TEMPLATE.fullmatch(template)):
            value = remote.get(whole.group(1))
            # A numeric id sent to a string parameter (Caila's `account` is "id or name") stays valid.
            if properties.get(name, {}).get("type") == "string" and not isinstance(value, str):
                value = str(value)
            out[name] = value
        elif isinstance(template, str):
            out[name] = _TEMPLATE.sub(lambda m: str(remote.get(m.group(1), "")), template)
        else:
            out[name] = template
    return out
