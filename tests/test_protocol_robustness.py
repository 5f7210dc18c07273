"""Bad JSON-RPC on the wire: every malformed, unknown or oversized message gets its documented answer (or a
correct silence) and the server answers the next valid request.

Raw bytes, not the SDK's client, which would refuse to send most of these: over stdio to a real
`modelops-mcp serve` subprocess, and over Streamable HTTP with plain httpx POSTs.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.raw_stdio import ANSWER_S, INITIALIZE, RawStdio
from tests.support import error_in_json, start_http_server

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
# 20 MB: five times the HTTP transport's request cap; stdio has none, so the line must simply be read.
HUGE = 20 * 1024 * 1024


def call(request_id: int | str, name: str, arguments: Any) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


@pytest.fixture(scope="module")
def stdio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawStdio]:
    """One initialized server for the whole table (a start costs a second or two); a toolset selection, so a
    tool outside it can be called."""
    server = RawStdio(tmp_path_factory.mktemp("stdio") / "state", "--toolsets", "caila")
    try:
        server.initialize()
        yield server
    finally:
        assert server.close() == 0, server.stderr.read_text()[-2000:]


# (line sent, expected answer: the JSON-RPC error code and id, or None for a correct silence)
STDIO_CASES: dict[str, tuple[bytes, tuple[int, Any] | None]] = {
    "not_json": (b"{not json", (PARSE_ERROR, None)),
    "truncated_json": (b'{"jsonrpc":"2.0","id":1,"method":"pi', (PARSE_ERROR, None)),
    "invalid_utf8": (b"\xff\xfe{", (PARSE_ERROR, None)),
    "a_number": (b"42", (INVALID_REQUEST, None)),
    "an_array": (b"[1, 2]", (INVALID_REQUEST, None)),
    # Batches left JSON-RPC-over-MCP in 2025-06-18: refused as one invalid request.
    "a_batch": (b'[{"jsonrpc":"2.0","id":"b","method":"ping"}]', (INVALID_REQUEST, None)),
    "wrong_jsonrpc_version": (b'{"jsonrpc":"1.0","id":"v","method":"ping"}', (INVALID_REQUEST, "v")),
    "no_jsonrpc_member": (b'{"id":"nj","method":"ping"}', (INVALID_REQUEST, "nj")),
    "missing_method": (b'{"jsonrpc":"2.0","id":7}', (INVALID_REQUEST, 7)),
    "method_not_a_string": (b'{"jsonrpc":"2.0","id":8,"method":12}', (INVALID_REQUEST, 8)),
    "unknown_method": (b'{"jsonrpc":"2.0","id":"u","method":"no/such"}', (METHOD_NOT_FOUND, "u")),
    # A notification is never answered, even when nobody handles it.
    "unknown_notification": (b'{"jsonrpc":"2.0","method":"notifications/no_such"}', None),
    # JSON-RPC never answers a response, even a malformed one.
    "stray_malformed_response": (b'{"jsonrpc":"2.0","id":"r","error":"oops"}', None),
    "stray_response": (b'{"jsonrpc":"2.0","id":"nobody-asked","result":{}}', None),
    "cancel_of_unknown_request": (
        b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"never-sent"}}',
        None,
    ),
    # The MCP spec: an unknown tool is a protocol error, -32602 (not an isError result).
    "unknown_tool": (json.dumps(call("t", "no_such_tool", {})).encode(), (INVALID_PARAMS, "t")),
    "tool_outside_the_selection": (
        json.dumps(call("sel", "training_start_session", {})).encode(),
        (INVALID_PARAMS, "sel"),
    ),
    "arguments_an_array": (json.dumps(call("aa", "jobs_list", [1])).encode(), (INVALID_PARAMS, "aa")),
    "arguments_a_string": (json.dumps(call("as", "jobs_list", "x")).encode(), (INVALID_PARAMS, "as")),
    "tools_call_without_name": (
        b'{"jsonrpc":"2.0","id":"nn","method":"tools/call","params":{}}',
        (INVALID_PARAMS, "nn"),
    ),
    # MCP params are always an object, so an array fails the message's own shape: invalid request.
    "params_not_an_object": (
        b'{"jsonrpc":"2.0","id":"po","method":"tools/list","params":[1]}',
        (INVALID_REQUEST, "po"),
    ),
}


@pytest.mark.parametrize("case", list(STDIO_CASES))
def test_stdio_answers_a_bad_message_as_documented_and_keeps_serving(stdio: RawStdio, case: str) -> None:
    line, expected = STDIO_CASES[case]
    stdio.send(line)
    if expected is None:
        # Silence is checked by what comes next: the ping's answer must be the first line out.
        stdio.ping(f"after-{case}")
        return
    code, request_id = expected
    answer = stdio.receive()
    assert answer["jsonrpc"] == "2.0"
    assert answer["id"] == request_id, answer
    assert answer["error"]["code"] == code, answer
    assert isinstance(answer["error"]["message"], str)
    assert answer["error"]["message"]
    assert "result" not in answer
    stdio.ping(f"after-{case}")


def test_stdio_blank_lines_are_ignored(stdio: RawStdio) -> None:
    stdio.send(b"\n\n   \n")
    stdio.ping("after-blank")


def test_stdio_a_tool_error_after_bad_lines_is_still_a_structured_result(stdio: RawStdio) -> None:
    """Bad lines leave no state behind: a real tool call still validates and answers with isError."""
    stdio.send(b"{not json")
    assert stdio.receive()["error"]["code"] == PARSE_ERROR
    stdio.send_json(call("v", "jobs_get", {"job_id": ""}))
    answer = stdio.receive()
    assert answer["id"] == "v"
    assert answer["result"]["isError"] is True
    assert error_in_json(answer["result"])["kind"] == "validation"


def test_stdio_a_20_mb_request_is_read_and_answered(stdio: RawStdio) -> None:
    padding = "a" * HUGE
    stdio.send_json({"jsonrpc": "2.0", "id": "huge", "method": "ping", "params": {"_meta": {"pad": padding}}})
    assert stdio.receive() == {"jsonrpc": "2.0", "id": "huge", "result": {}}
    stdio.ping("after-huge")


def test_stdio_a_20_mb_line_of_garbage_is_a_parse_error(stdio: RawStdio) -> None:
    stdio.send(b"{" + b"x" * HUGE)
    answer = stdio.receive()
    assert (answer["id"], answer["error"]["code"]) == (None, PARSE_ERROR)
    stdio.ping("after-huge-garbage")


def test_stdio_a_20_mb_tool_argument_is_a_validation_error(stdio: RawStdio) -> None:
    stdio.send_json(call("big-arg", "jobs_get", {"job_id": "j" * HUGE}))
    answer = stdio.receive()
    assert answer["id"] == "big-arg"
    error = error_in_json(answer["result"])
    assert error["kind"] == "validation"
    # The answer names the problem; it does not echo 20 MB back.
    assert len(json.dumps(answer)) < 100_000
    stdio.ping("after-big-arg")


def test_stdio_requests_before_initialize_get_an_error_then_the_same_request_works(tmp_path: Path) -> None:
    server = RawStdio(tmp_path / "state")
    try:
        server.send_json({"jsonrpc": "2.0", "id": "early", "method": "tools/list"})
        # The SDK answers a served method before the handshake with -32602 (its pinned behaviour; the spec
        # only says a client SHOULD NOT send it). What matters: an answer, not a hang or a crash.
        early = server.receive()
        assert (early["id"], early["error"]["code"]) == ("early", INVALID_PARAMS)
        server.ping("ping-before-initialize")  # ping is allowed before initialize
        server.initialize()
        server.send_json({"jsonrpc": "2.0", "id": "late", "method": "tools/list"})
        late = server.receive()
        assert late["id"] == "late"
        assert any(tool["name"] == "jobs_list" for tool in late["result"]["tools"])
    finally:
        assert server.close() == 0


# ---- Streamable HTTP -----------------------------------------------------------------------------------

HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def start_http(state_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The one place this module starts an HTTP server: with `--no-auth` on loopback (support's default), since
    these tests are about messages, tests/test_http_auth.py about tokens."""
    proc, url, _ = start_http_server({}, state_dir)
    return proc, url


def sse_message(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC message of a response, whether it came as JSON or as one SSE event."""
    if response.headers["content-type"].startswith("application/json"):
        body: dict[str, Any] = response.json()
        return body
    data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
    messages = [json.loads(d) for d in data if d]
    assert len(messages) == 1, response.text[:500]
    message: dict[str, Any] = messages[0]
    return message


class RawHttp:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=ANSWER_S)
        response = self.http.post(url, json=INITIALIZE, headers=HEADERS)
        assert response.status_code == 200, response.text
        self.session = {"mcp-session-id": response.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
        assert self.post(json.dumps(INITIALIZED).encode()).status_code == 202

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(self.url, content=body, headers={**HEADERS, **self.session, **(headers or {})})

    def ping(self, request_id: str) -> None:
        response = self.post(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "ping"}).encode())
        assert response.status_code == 200, response.text
        assert sse_message(response) == {"jsonrpc": "2.0", "id": request_id, "result": {}}


@pytest.fixture(scope="module")
def raw_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawHttp]:
    proc, url = start_http(tmp_path_factory.mktemp("http") / "state")
    client: RawHttp | None = None
    try:
        client = RawHttp(url)
        yield client
    finally:
        if client is not None:
            client.http.close()
        proc.terminate()
        proc.wait(timeout=15)
        assert proc.returncode in (0, -15), proc.returncode


# (body, expected HTTP status, expected JSON-RPC error code, expected id). The SDK's HTTP transport answers
# a message that is JSON but not JSON-RPC with -32602 (JSON-RPC would say -32600); either way an error
# with HTTP 400, which is what a client needs. A body that is not valid JSON is -32700.
NOT_JSON_RPC = {INVALID_REQUEST, INVALID_PARAMS}
HTTP_CASES: dict[str, tuple[bytes, int, set[int], Any]] = {
    "not_json": (b"{not json", 400, {PARSE_ERROR}, None),
    "invalid_utf8": (b"\xff\xfe{", 400, {PARSE_ERROR}, None),
    "a_number": (b"42", 400, NOT_JSON_RPC, None),
    "a_batch": (b'[{"jsonrpc":"2.0","id":"b","method":"ping"}]', 400, NOT_JSON_RPC, None),
    "wrong_jsonrpc_version": (b'{"jsonrpc":"1.0","id":"v","method":"ping"}', 400, NOT_JSON_RPC, None),
    "missing_method": (b'{"jsonrpc":"2.0","id":7}', 400, NOT_JSON_RPC, None),
    "unknown_method": (b'{"jsonrpc":"2.0","id":"u","method":"no/such"}', 200, {METHOD_NOT_FOUND}, "u"),
    "unknown_tool": (json.dumps(call("t", "no_such_tool", {})).encode(), 200, {INVALID_PARAMS}, "t"),
    "arguments_an_array": (json.dumps(call("aa", "jobs_list", [1])).encode(), 200, {INVALID_PARAMS}, "aa"),
}


@pytest.mark.parametrize("case", list(HTTP_CASES))
def test_http_answers_a_bad_message_as_documented_and_keeps_serving(raw_http: RawHttp, case: str) -> None:
    body, status, codes, request_id = HTTP_CASES[case]
    response = raw_http.post(body)
    assert response.status_code == status, response.text
    answer = sse_message(response)
    assert answer["id"] == request_id, answer
    assert answer["error"]["code"] in codes, answer
    raw_http.ping(f"after-{case}")


def test_http_a_notification_is_accepted_without_an_answer(raw_http: RawHttp) -> None:
    response = raw_http.post(b'{"jsonrpc":"2.0","method":"notifications/no_such"}')
    assert (response.status_code, response.content) == (202, b"")
    raw_http.ping("after-notification")


def test_http_a_20_mb_body_is_refused_with_413_and_the_session_still_serves(raw_http: RawHttp) -> None:
    padding = "a" * HUGE
    body = json.dumps({"jsonrpc": "2.0", "id": "huge", "method": "ping", "params": {"_meta": {"pad": padding}}})
    response = raw_http.post(body.encode())
    assert response.status_code == 413
    raw_http.ping("after-huge")


def test_http_a_request_without_or_with_a_wrong_session_is_refused(raw_http: RawHttp) -> None:
    ping = b'{"jsonrpc":"2.0","id":"s","method":"ping"}'
    missing = raw_http.http.post(raw_http.url, content=ping, headers=HEADERS)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == INVALID_REQUEST
    wrong = raw_http.post(ping, {"mcp-session-id": "not-a-session"})
    assert wrong.status_code == 404
    raw_http.ping("after-sessions")
