"""Tool arguments → an `httpx.Request`: path, query, header and JSON body fields from one flat object."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from modelops_mcp.tools.catalog import Operation


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def build_request(op: Operation, arguments: dict[str, Any], base_url: str) -> httpx.Request:
    path = op.path
    query: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    body: dict[str, Any] = {}
    body_value: Any = None
    has_body_value = False
    for f in op.fields:
        if f.arg not in arguments:
            continue
        value = arguments[f.arg]
        if f.location == "path":
            # safe="" so a name with "/" cannot climb into another route.
            path = path.replace("{" + f.wire + "}", quote(_text(value), safe=""))
        elif f.location == "query":
            items = value if isinstance(value, list) else [value]
            query.extend((f.wire, _text(item)) for item in items)
        elif f.location == "header":
            headers[f.wire] = _text(value)
        elif op.body_mode == "json_object":
            body[f.wire] = value
        else:
            body_value, has_body_value = value, True

    url = httpx.URL(base_url.rstrip("/") + path, params=query)
    if op.body_mode == "json_object":
        return httpx.Request(op.method, url, headers=headers, json=body)
    if op.body_mode == "json_value" and has_body_value:
        return httpx.Request(op.method, url, headers=headers, json=body_value)
    return httpx.Request(op.method, url, headers=headers)
