"""`httpx.Response` → tool result: structured output that matches the outputSchema, or one error shape."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import httpx
import mcp_types as types

from modelops_mcp.calls.conform import conform, listed
from modelops_mcp.calls.json_pieces import compact_pieces, loads
from modelops_mcp.core.errors import ErrorKind, ToolError, ToolFailure
from modelops_mcp.core.redact import Redactor
from modelops_mcp.spec.catalog import Operation

if TYPE_CHECKING:  # imported on first use (tools/validation.py compile_schema), not at a server's start
    from jsonschema import Draft202012Validator

_MESSAGE_KEYS = ("message", "detail", "errorMessage", "error_description", "error", "title")
_CODE_KEYS = ("errorCode", "code", "error")
_MAX_MESSAGE = 500
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def parse_body(response: httpx.Response, *, in_pieces: bool = False) -> Any:
    """JSON when the body is JSON (whatever the content type claims), else the text. `in_pieces`: a row at a
    time (json_pieces), for a large body parsed in a worker thread; the same value either way."""
    if not response.content:
        return None
    if in_pieces:
        try:
            return loads(response.content)
        except (ValueError, RecursionError):
            pass  # not JSON, or not as expected: json.loads below decides, as it always did
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text


def _excerpt(text: str, redactor: Redactor) -> str:
    flat = " ".join(text.split())
    shown = flat if len(flat) <= 120 else f"{flat[:80]} … {flat[-40:]}"
    return redactor.text(shown)


def _title(page: str) -> str | None:
    match = _TITLE.search(page)
    return " ".join(match.group(1).split())[:100] if match else None


def parse_answer(op: Operation, response: httpx.Response, redactor: Redactor, *, in_pieces: bool = False) -> Any:
    """A 2xx answer's body, parsed. One that claims to be JSON and is not (cut off, garbled), or an HTML page
    (a proxy's, where the API documents JSON), is a backend error rather than a success that means nothing."""
    body = parse_body(response, in_pieces=in_pieces)
    if not isinstance(body, str) or not body:
        return body
    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    html = "html" in content_type or body.lstrip()[:15].lower().startswith(("<!doctype", "<html"))
    if not html and "json" not in content_type:
        return body  # a documented text answer (a health check's "ok")
    if html:
        title = _title(body)
        what = f"an HTML page{f' ({redactor.text(title)!r})' if title else ''}, not the documented JSON: a proxy or "
        what += "gateway in front of the API may be failing"
    else:
        try:
            json.loads(body)
            problem = "not valid JSON"
        except json.JSONDecodeError as exc:
            problem = f"not valid JSON ({exc.msg} at character {exc.pos})"
        except ValueError:  # not UTF-8
            problem = "not valid JSON (not UTF-8)"
        what = f"{len(response.content)} bytes of {content_type} that are {problem}; it may have been cut off on "
        what += f"the way. It begins: {_excerpt(body, redactor)}"
    raise ToolFailure(
        ToolError(
            kind="backend",
            status=response.status_code,
            code="invalid_response",
            message=f"HTTP {response.status_code} answered with {what}"[:_MAX_MESSAGE],
            # The same call may well get a whole answer; repeating it is only safe when it is idempotent.
            retryable=op.idempotent,
            backend=op.backend,
            operation=op.tool_name,
        )
    )


def compact(value: Any, limit: int, *, in_pieces: bool = False) -> str:
    """`value` as compact JSON, cut to `limit` characters. `in_pieces`: encoded a row at a time, keeping only
    the first `limit` characters (a large answer, in a worker thread); the same text either way."""
    if not in_pieces:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        total = len(text)
    else:
        head: list[str] = []
        kept = total = 0
        for piece in compact_pieces(value):
            total += len(piece)
            if kept <= limit:
                head.append(piece)
                kept += len(piece)
        text = "".join(head)
    if total <= limit:
        return text
    return f"{text[:limit]}… (truncated from {total} characters; the full result is in structuredContent)"


def success_result(
    op: Operation,
    status: int,
    body: Any,
    validator: Draft202012Validator | None,
    text_limit: int,
    *,
    in_pieces: bool = False,
) -> types.CallToolResult:
    """`body` is the parsed, redacted answer (parsed once by the caller, which also reads ids from it).
    `in_pieces`: a large answer, in a worker thread: its text is encoded a row at a time (see `compact`)."""
    if op.output_schema is None:
        text = f"HTTP {status}" if body is None else compact(body, text_limit, in_pieces=in_pieces)
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)])
    # An empty answer (202, 204) to an operation with structured output is an object, not null; one whose
    # documentation promises no body says which status it got.
    if body is None and "http_status" in op.output_schema.get("properties", {}):
        structured: Any = {"http_status": status}
    else:
        structured = {"result": body} if op.wrap_output else ({} if body is None else body)
    if validator is not None and not validator.is_valid(structured):
        return _carried_out(op, status, body, structured, validator, text_limit, in_pieces)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=compact(structured, text_limit, in_pieces=in_pieces))],
        structured_content=structured,
    )


# `_meta` key of a result whose answer did not match the listed output schema (a machine-readable twin of the note).
MISMATCH_META = "io.modelops-mcp/schema-mismatch"


def _carried_out(
    op: Operation,
    status: int,
    body: Any,
    structured: Any,
    validator: Draft202012Validator,
    text_limit: int,
    in_pieces: bool = False,
) -> types.CallToolResult:
    """A 2xx whose answer breaks the schema: the backend did the work, so it is a success, never a failure an
    agent would retry (making a duplicate). The structured content is the answer fitted to the schema, which
    a client checks it against; the text has the answer as it came and says what differs."""
    fitted, paths = conform(structured, validator)
    note = (
        f"HTTP {status}: the {op.backend} backend carried out {op.tool_name}. Do not repeat the call: it "
        f"succeeded. Its answer differs from this tool's output schema at {listed(paths)}; structuredContent has those "
        f"values as null or left out, and the whole answer follows."
    )
    return types.CallToolResult(
        content=[
            types.TextContent(
                type="text", text=f"{note}\n{compact(body, max(200, text_limit - len(note)), in_pieces=in_pieces)}"
            )
        ],
        structured_content=fitted,
        _meta={MISMATCH_META: {"status": status, "paths": paths}},
    )


def _kind(status: int) -> ErrorKind:
    if status in (400, 422):
        return "validation"
    if status in (401, 403):
        return "auth"
    if status in (404, 410):
        return "not_found"
    if status == 409:
        return "conflict"
    if status == 429:
        return "rate_limited"
    return "backend"


def _pick(body: Any, keys: tuple[str, ...]) -> str | None:
    if not isinstance(body, dict):
        return None
    for key in keys:
        value = body.get(key)
        if isinstance(value, dict):
            nested = _pick(value, keys)
            if nested:
                return nested
        elif isinstance(value, str) and value.strip():
            return value.strip()
        elif isinstance(value, list) and value:
            # FastAPI's 422 detail: [{"loc": [...], "msg": "..."}]
            parts = [str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in value[:5]]
            return "; ".join(parts)
    return None


def error_from_response(
    op: Operation, response: httpx.Response, redactor: Redactor, retry_after: float | None
) -> ToolError:
    body = parse_body(response)
    message = _pick(body, _MESSAGE_KEYS)
    if message is None:
        text = body if isinstance(body, str) else ""
        # An HTML error page says nothing useful to an agent in its markup.
        if text.lstrip().startswith("<"):
            text = ""
        message = " ".join(text.split()) or response.reason_phrase or "no error message"
    code = _pick(body, _CODE_KEYS)
    if code is None or len(code) > 64 or " " in code:
        code = f"http_{response.status_code}"
    status = response.status_code
    return ToolError(
        kind=_kind(status),
        status=status,
        code=redactor.text(code),
        message=redactor.text(message)[:_MAX_MESSAGE],
        retryable=status in (429, 502, 503, 504),
        retry_after=retry_after,
        backend=op.backend,
        operation=op.tool_name,
    )
