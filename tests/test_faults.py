"""Each fault class the sandbox injects comes back as the documented error kind, retried only where DESIGN.md
allows it, with nothing secret or huge in the result, and the server keeps serving after it."""

from __future__ import annotations

import hashlib
import json
import tracemalloc
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from modelops_mcp.sandbox import Fault
from modelops_mcp.settings.config import Limits
from tests.conftest import CANARY
from tests.support import RunningSandbox, error_of, in_process, text_of

pytestmark = pytest.mark.anyio

LIST = ("caila_list_datasets", {"account": "demo"})  # GET: idempotent, retried when safe
FIT = ("caila_fit_service", {"account": "demo", "model": "text-classifier", "datasetId": 501})  # POST: sent once
LIST_PATH, FIT_PATH = "/dataset$", "/fit$"
QUICK = Limits(
    retry_base_delay_s=0.01, retry_max_delay_s=0.05, read_timeout_s=0.5, poll_min_interval_s=0.05, poll_max_s=0.4
)


def dumped(result: Any) -> str:
    return json.dumps(result.model_dump(by_alias=True, mode="json"))


async def call_under(
    sandbox: RunningSandbox, state_dir: Path, fault: Fault, tool: tuple[str, dict[str, Any]], limits: Limits = QUICK
) -> tuple[Any, int]:
    """The result of one call with `fault` in place, the requests the emulator got for it; then, fault cleared,
    a following call must succeed (the server keeps serving)."""
    sandbox.emulators.faults.add(fault)
    env = sandbox.env(CAILA_API_KEY=CANARY)
    async with in_process(env, state_dir, limits) as (server, _), Client(server, mode="legacy") as client:
        result = await client.call_tool(*tool)
        await anyio.sleep(fault.delay_s)  # a request that timed out is logged once the emulator has answered it
        sent = len(sandbox.requests("caila"))
        sandbox.emulators.faults.clear()
        after = await client.call_tool(*LIST)
        assert not after.is_error, text_of(after)
    text = dumped(result)
    assert CANARY not in text
    assert len(text) < 8 * 1024, f"a {len(text)}-character result"
    return result, sent


# fault, tool, (kind, code), retryable, requests the emulator got
CASES = [
    pytest.param(Fault(backend="caila", status=500), LIST, ("backend", "http_500"), False, 1, id="500-get-not-retried"),
    pytest.param(Fault(backend="caila", status=500), FIT, ("backend", "http_500"), False, 1, id="500-post"),
    pytest.param(Fault(backend="caila", status=502), LIST, ("backend", "http_502"), True, 3, id="502-get-retried"),
    pytest.param(Fault(backend="caila", status=503), FIT, ("backend", "http_503"), True, 1, id="503-post-sent-once"),
    pytest.param(Fault(backend="caila", status=503, body="<html><h1>503</h1></html>"), LIST, ("backend", "http_503"),
                 True, 3, id="503-html-page-get"),
    pytest.param(Fault(backend="caila", status=429, headers={"Retry-After": "1"}), FIT, ("rate_limited", "http_429"),
                 True, 1, id="429-post-handed-back"),
    pytest.param(Fault(backend="caila", status=429, headers={"Retry-After": "120"}), LIST, ("rate_limited", "http_429"),
                 True, 1, id="429-get-beyond-max-retry-after"),
    pytest.param(Fault(backend="caila", kind="reset"), LIST, ("network", "ReadError"), True, 3, id="reset-get-retried"),
    pytest.param(Fault(backend="caila", kind="reset"), FIT, ("network", "ReadError"), True, 1, id="reset-post-once"),
    pytest.param(Fault(backend="caila", delay_s=0.8), LIST, ("timeout", "ReadTimeout"), True, 1, id="latency-get"),
    pytest.param(Fault(backend="caila", delay_s=0.8), FIT, ("timeout", "ReadTimeout"), True, 1, id="latency-post"),
    pytest.param(Fault(backend="caila", kind="truncated"), LIST, ("backend", "invalid_response"), True, 1,
                 id="truncated-get"),
    pytest.param(Fault(backend="caila", kind="truncated"), FIT, ("backend", "invalid_response"), False, 1,
                 id="truncated-post"),
    pytest.param(Fault(backend="caila", kind="malformed"), LIST, ("backend", "invalid_response"), True, 1,
                 id="malformed-get"),
    pytest.param(Fault(backend="caila", kind="malformed"), FIT, ("backend", "invalid_response"), False, 1,
                 id="malformed-post"),
    pytest.param(Fault(backend="caila", kind="html"), LIST, ("backend", "invalid_response"), True, 1,
                 id="html-200-get"),
    pytest.param(Fault(backend="caila", kind="html", status=502), FIT, ("backend", "http_502"), True, 1,
                 id="html-502-post"),
]  # fmt: skip


@pytest.mark.parametrize(("fault", "tool", "expected", "retryable", "requests"), CASES)
async def test_each_fault_class_yields_its_documented_error(
    sandbox: RunningSandbox,
    state_dir: Path,
    fault: Fault,
    tool: tuple[str, dict[str, Any]],
    expected: tuple[str, str],
    retryable: bool,
    requests: int,
) -> None:
    result, sent = await call_under(sandbox, state_dir, fault, tool)
    error = error_of(result)
    assert (error["kind"], error["code"]) == expected, error
    assert error["retryable"] is retryable
    assert error["backend"] == "caila"
    assert error["operation"] == tool[0]
    assert sent == requests, [(r.method, r.path, r.status) for r in sandbox.requests("caila")]
    assert "<" not in error["message"]  # no markup of an HTML page reaches the agent


@pytest.mark.parametrize(
    ("fault", "requests"),
    [
        pytest.param(Fault(backend="caila", kind="reset", times=2), 3, id="reset-twice"),
        pytest.param(Fault(backend="caila", status=503, times=2), 3, id="503-twice"),
        pytest.param(Fault(backend="caila", status=429, headers={"Retry-After": "1"}, times=1), 2, id="429-once"),
        pytest.param(Fault(backend="caila", delay_s=0.2), 1, id="latency-within-timeout"),
    ],
)
async def test_an_idempotent_call_rides_out_a_transient_fault(
    sandbox: RunningSandbox, state_dir: Path, fault: Fault, requests: int
) -> None:
    result, sent = await call_under(sandbox, state_dir, fault, LIST)
    assert not result.is_error, text_of(result)
    assert sent == requests
    statuses = [r.status for r in sandbox.requests("caila")][:requests]
    assert statuses[-1] == 200


async def test_a_reset_is_a_dropped_connection_not_an_answer(sandbox: RunningSandbox, state_dir: Path) -> None:
    result, _ = await call_under(sandbox, state_dir, Fault(backend="caila", kind="reset"), FIT)
    assert "dropped the connection" in error_of(result)["message"]
    assert next(r.status for r in sandbox.requests("caila")) == 0  # the emulator answered nothing


async def test_a_truncated_answer_says_so_with_a_short_excerpt(sandbox: RunningSandbox, state_dir: Path) -> None:
    result, _ = await call_under(sandbox, state_dir, Fault(backend="caila", kind="truncated"), LIST)
    message = error_of(result)["message"]
    assert "not valid JSON" in message
    assert "cut off" in message
    assert len(message) <= 500


async def test_an_html_page_where_json_is_documented_is_named_by_its_title(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    result, _ = await call_under(sandbox, state_dir, Fault(backend="caila", kind="html"), LIST)
    message = error_of(result)["message"]
    assert "HTML page ('503 Service Temporarily Unavailable')" in message
    assert "nginx" not in message


def saved_file(path: Path, state_dir: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {
        "under_downloads": path.is_relative_to(state_dir.resolve() / "downloads" / "caila"),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "last_item": json.loads(data)["items"][-1],
    }


async def test_an_oversized_answer_is_saved_whole_and_linked_in_bounded_memory(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    size, limit = 24 * 1024 * 1024, 1024 * 1024
    fault = Fault(backend="caila", path=LIST_PATH, kind="oversized", size=size, times=1)
    limits = QUICK.model_copy(update={"max_response_bytes": limit})
    tracemalloc.start()
    try:
        result, sent = await call_under(sandbox, state_dir, fault, LIST, limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    error = error_of(result)
    assert (error["kind"], error["code"], error["retryable"]) == ("backend", "response_too_large", False)
    saved = error["saved"]
    path = Path(saved["path"])
    facts = saved_file(path, state_dir)
    assert facts["under_downloads"]
    assert saved["size"] == facts["size"] > size - 2048  # the whole body, not the cut one
    assert saved["limit"] == limit
    assert facts["sha256"] == saved["sha256"]
    assert facts["last_item"] == "end"  # valid JSON, complete
    links = [c for c in result.content if c.type == "resource_link"]
    assert [link.uri for link in links] == [path.as_uri()]
    assert str(path) in text_of(result)
    assert sent == 1
    # The sandbox (same process) makes the body in 256 KiB chunks and the server reads it in chunks: the 24 MiB
    # never sit in memory at once.
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes"


async def test_an_answer_within_the_limit_is_unaffected(sandbox: RunningSandbox, state_dir: Path) -> None:
    fault = Fault(backend="caila", path=LIST_PATH, kind="oversized", size=200_000, times=1)
    # A smaller text limit: the result shows the answer's start as text, and call_under wants it under 8 KB.
    limits = QUICK.model_copy(update={"max_response_bytes": 1024 * 1024, "text_chars": 2000})
    result, _ = await call_under(sandbox, state_dir, fault, LIST, limits)
    # Read whole and checked as usual: an object of filler is not the documented list of datasets, so the
    # structured result is null and the text says so (a 2xx is never reported as a failure).
    assert not result.is_error
    assert result.structured_content == {"result": None}
    assert "differs from this tool's output schema at /result" in text_of(result)
    assert not (state_dir / "downloads").exists()


def test_fault_json_is_strict() -> None:
    with pytest.raises(ValueError, match="unknown fault fields"):
        Fault.from_json({"kind": "reset", "colour": "red"})
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault.from_json({"kind": "explode"})
    with pytest.raises(ValueError, match="needs a status"):
        Fault.from_json({"kind": "status"})
    with pytest.raises(ValueError, match="HTTP status"):
        Fault.from_json({"status": 999})
    with pytest.raises(ValueError, match="regular expression"):
        Fault.from_json({"path": "("})
    assert Fault.from_json({"status": 503}).kind == "status"
    assert Fault.from_json({"delay_s": 1}).kind == "latency"
