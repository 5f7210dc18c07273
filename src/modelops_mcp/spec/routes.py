"""URLs a backend hands back (a next page, a job's Location) mapped to the documented operation they name.

A URL from a response is data, not an order: it is followed only when it has the configured endpoint's
origin and path prefix and matches a documented route, and then it is sent as that operation, with the same
auth, validation and redaction as any tool call. Nothing else is ever fetched (no SSRF through a backend).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import httpx

from modelops_mcp.core.errors import ToolError, ToolFailure
from modelops_mcp.spec.catalog import Operation

_TEMPLATE = re.compile(r"\{([^}/]+)\}")


def _pattern(path: str) -> re.Pattern[str]:
    parts = _TEMPLATE.split(path)
    # Even indexes are literal text, odd ones parameter names.
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<p{i}>[^/]+)" for i, p in enumerate(parts))
    return re.compile(regex + r"\Z")


def _coerce(raw: list[str], schema: dict[str, Any]) -> Any:
    """Query text back to the JSON type the argument's schema wants."""
    types = schema.get("type")
    kinds = types if isinstance(types, list) else [types]
    if "array" in kinds:
        return raw
    value = raw[-1]
    if "integer" in kinds and re.fullmatch(r"-?\d+", value):
        return int(value)
    if "number" in kinds:
        try:
            return float(value)
        except ValueError:
            return value
    if "boolean" in kinds and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def same_origin(url: httpx.URL, base: httpx.URL) -> bool:
    return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)


def _refuse(code: str, message: str, backend: str, operation: str | None) -> ToolFailure:
    return ToolFailure(ToolError(kind="validation", code=code, message=message, backend=backend, operation=operation))


def route_url(
    operations: Iterable[Operation], base_url: str, url: str, *, backend: str, method: str = "GET"
) -> tuple[Operation, dict[str, Any]]:
    """The operation `url` names under `base_url`, with the arguments its path and query carry."""
    try:
        target = httpx.URL(url)
        base = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError):
        raise _refuse("invalid_url", f"{url!r} is not a URL", backend, None) from None
    if not target.is_absolute_url:
        target = base.join(url)
    prefix = base.path.rstrip("/")
    if not same_origin(target, base) or not (target.path == prefix or target.path.startswith(prefix + "/")):
        raise _refuse(
            "foreign_url",
            f"refused to follow a URL outside {backend}'s configured endpoint ({base.scheme}://{base.netloc.decode()})",
            backend,
            None,
        )
    path = target.path[len(prefix) :] or "/"
    # Literal routes first: /customModels/fromCustomModel/ is not the model "fromCustomModel".
    for op in sorted(operations, key=lambda o: o.path.count("{")):
        if op.method != method:
            continue
        found = _pattern(op.path).match(path)
        if found is None:
            continue
        names = _TEMPLATE.findall(op.path)
        values = [v for k, v in sorted(found.groupdict().items(), key=lambda kv: int(kv[0][1:]))]
        by_wire = {f.wire: f for f in op.fields}
        arguments: dict[str, Any] = {}
        for wire, value in zip(names, values, strict=True):
            arguments[by_wire[wire].arg] = httpx.URL("/" + value).path[1:]  # percent-decoded
        properties = op.input_schema.get("properties", {})
        for wire in target.params:
            field = by_wire.get(wire)
            if field is None or field.location != "query":
                raise _refuse(
                    "unknown_parameter",
                    f"the URL carries the query parameter {wire!r}, which {op.tool_name} does not take",
                    backend,
                    op.tool_name,
                )
            arguments[field.arg] = _coerce(target.params.get_list(wire), properties.get(field.arg, {}))
        return op, arguments
    raise _refuse("unknown_route", f"the URL {target.path} matches no documented {method} route", backend, None)
