"""Tool arguments → an `httpx.Request`: path, query, header, JSON and multipart body fields from one flat object."""

from __future__ import annotations

import functools
import json
import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx

from modelops_mcp.http.file_body import read_off_loop
from modelops_mcp.spec.catalog import Operation


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _file_part(path: Path, handle: IO[bytes]) -> tuple[str, IO[bytes], str]:
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return path.name, handle, content_type


# URLs parsed lately, by their text and query: a job's status poll asks for the same URL every few seconds,
# and parsing it was a twentieth of a poll's CPU. More than the jobs a server follows at once (an httpx.URL
# is immutable, so one may serve many requests).
_PARSED_URLS = 16_384


@functools.lru_cache(maxsize=_PARSED_URLS)
def _url(text: str, query: tuple[tuple[str, str], ...]) -> httpx.URL:
    return httpx.URL(text, params=query)


# A file set's members: the path the backend files it under, the checked local file, an open handle.
SetMember = tuple[str, Path, IO[bytes]]


def build_request(
    op: Operation,
    arguments: dict[str, Any],
    base_url: str,
    files: Mapping[str, tuple[Path, IO[bytes]]] | None = None,
    file_sets: Mapping[str, list[SetMember]] | None = None,
) -> httpx.Request:
    """`files` maps each file argument to its checked path and an open handle (streamed, not read here);
    `file_sets` each file-set argument to its members. `httpx.InvalidURL` for arguments no URL can carry."""
    path = op.path
    query: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    body: dict[str, Any] = {}
    form: dict[str, str | list[str]] = {}
    parts: list[tuple[str, tuple[str, IO[bytes], str]]] = []
    body_value: Any = None
    has_body_value = False
    for f in op.fields:
        if f.arg not in arguments:
            continue
        value = arguments[f.arg]
        if f.location == "local":
            continue
        if f.location == "path":
            segment = _text(value)
            if segment in (".", ".."):
                # A dot segment is resolved away by the URL (…/models/../ is …/), sending the call to another route.
                raise httpx.InvalidURL(f"`{f.arg}` cannot be {segment!r}: as a path segment it would change the route")
            # safe="" so a name with "/" cannot climb into another route.
            path = path.replace("{" + f.wire + "}", quote(segment, safe=""))
        elif f.location == "query":
            items = value if isinstance(value, list) else [value]
            query.extend((f.wire, _text(item)) for item in items)
        elif f.location == "header":
            headers[f.wire] = _text(value)
        elif op.body_mode == "json_object":
            body[f.wire] = value
        elif op.body_mode == "multipart":
            if f.file:
                if files is None or f.arg not in files:
                    raise ValueError(f"file argument {f.arg} was not opened")
                parts.append((f.wire, _file_part(*files[f.arg])))
            elif f.file_set and op.file_set is not None:
                if file_sets is None or f.arg not in file_sets:
                    raise ValueError(f"file-set argument {f.arg} was not opened")
                # One file part and one path field per file, in the same order: the backend pairs them up.
                members = file_sets[f.arg]
                parts.extend((op.file_set.part, _file_part(path, handle)) for _, path, handle in members)
                form[op.file_set.path_field] = [relative for relative, _, _ in members]
            elif isinstance(value, list):
                form[f.wire] = [_text(item) for item in value]  # a repeated form field
            else:
                form[f.wire] = _text(value)
        else:
            body_value, has_body_value = value, True

    url = _url(base_url.rstrip("/") + path, tuple(query))
    if op.body_mode == "json_object":
        return httpx.Request(op.method, url, headers=headers, json=body)
    if op.body_mode == "multipart":
        # httpx sets Content-Length from the files' sizes; their bytes are read in a worker thread.
        return read_off_loop(httpx.Request(op.method, url, headers=headers, data=form, files=parts))
    if op.body_mode == "json_value" and has_body_value:
        return httpx.Request(op.method, url, headers=headers, json=body_value)
    return httpx.Request(op.method, url, headers=headers)
