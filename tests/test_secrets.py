"""A canary API key never appears in any result, log line or error text, on any path a call can take."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from mcp import Client

from modelops_mcp.sandbox import Fault, Sandbox, serve_sandbox
from modelops_mcp.settings.config import Limits
from tests.conftest import CANARY
from tests.support import CAILA_FIT, dump, in_process, stdio_server

pytestmark = pytest.mark.anyio

CALLS = [
    ("caila_list_datasets", {"account": "demo"}),
    ("caila_list_datasets", {"account": "nobody"}),
    ("caila_fit_service", {"account": "demo", "model": "text-classifier", "datasetId": "x"}),
    ("caila_fit_service", {"account": "demo", "model": "text-classifier", "datasetId": 501}),
    ("caila_get_job_status", {"account": "demo", "jobId": 9001}),
    ("caila_create_derived_service", {"account": "demo", "model": "text-classifier", "name": "n"}),
]


def echoing_faults(emulators: Sandbox) -> None:
    """Backends that echo the key in every way a careless API might."""
    emulators.faults.add(Fault(path="/dataset$", status=500, body={"message": f"key {CANARY} rejected"}, times=1))
    emulators.faults.add(Fault(path="/dataset$", status=400, body=f"<p>{CANARY}</p>", times=1))
    emulators.faults.add(Fault(path="/dataset$", status=200, body=[{"note": CANARY}], times=1))
    emulators.faults.add(Fault(path="/fit$", status=429, headers={"Retry-After": "999"}, body={"error": CANARY}))
    emulators.faults.add(Fault(path="/job/", delay_s=1.0, times=1))


async def exercise(client: Client, emulators: Sandbox) -> list[str]:
    seen = [dump(await client.list_tools())]
    for name, arguments in CALLS * 2:
        seen.append(dump(await client.call_tool(name, arguments)))
    seen.append(dump(await client.read_resource("modelops://backends")))
    return seen


async def test_canary_never_leaks_in_process(state_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # The wrong key makes the emulator echo it in its 401 message; the faults echo it in other ways.
    emulators = Sandbox(speed=0, api_keys={"caila": "the-right-key"})
    echoing_faults(emulators)
    async with serve_sandbox(emulators) as url:
        env = {**emulators.env(url), "CAILA_API_KEY": CANARY}
        limits = Limits(read_timeout_s=0.3, retry_base_delay_s=0.01)
        async with in_process(env, state_dir, limits) as (server, _), Client(server, mode="legacy") as client:
            seen = await exercise(client, emulators)
    # The canary did reach the backend (so the test can fail) ...
    assert any(r.headers.get("mlp-api-key") == CANARY for r in emulators.log.entries("caila"))
    # ... and never came back out.
    for text in seen:
        assert CANARY not in text
    assert caplog.records, "the server logged nothing, so this test would prove nothing about logs"
    for record in caplog.records:
        assert CANARY not in record.getMessage()
    assert CANARY not in caplog.text


async def test_canary_never_leaks_over_stdio(state_dir: Path) -> None:
    emulators = Sandbox(speed=0, api_keys={"caila": "the-right-key"})
    echoing_faults(emulators)
    async with serve_sandbox(emulators) as url:
        env = {**emulators.env(url), "CAILA_API_KEY": CANARY}
        async with stdio_server(env, state_dir, "--log-level", "debug") as (client, errlog):
            seen = await exercise(client, emulators)
        stderr = errlog.read_text()
    for text in seen:
        assert CANARY not in text
    assert "caila_list_datasets" in stderr  # debug logging really ran
    assert CANARY not in stderr


def assert_not_on_disk(state_dir: Path) -> None:
    files = [path for path in state_dir.iterdir() if path.is_file()]
    assert files  # the job store (and its WAL) is there to search
    for path in files:
        assert CANARY.encode() not in path.read_bytes(), path.name


async def test_canary_never_reaches_a_job_record(state_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A status endpoint that echoes the key: the job's message, result and error, its row on disk, and the
    logs all stay clean."""
    caplog.set_level(logging.DEBUG)
    emulators = Sandbox(speed=0, api_keys={"caila": CANARY})
    echo = {
        "accountId": 1001,
        "jobId": 9001,
        "jobType": "fit",
        "state": f"FAILED {CANARY}",
        "done": True,
        "error": True,
        "errorMessage": f"key {CANARY} is not allowed to fit",
    }
    emulators.faults.add(Fault(path="/job/", status=200, body=echo))
    async with serve_sandbox(emulators) as url:
        env = {**emulators.env(url), "CAILA_API_KEY": CANARY}
        async with in_process(env, state_dir) as (server, _), Client(server, mode="legacy") as client:
            started = await client.call_tool("caila_fit_service", CAILA_FIT)
            job_id = started.structured_content["job"]["id"] if started.structured_content else ""
            seen = [dump(started)]
            seen.append(dump(await client.call_tool("jobs_wait", {"job_id": job_id, "timeout_s": 10})))
            seen.append(dump(await client.call_tool("jobs_list", {})))
            seen.append(dump(await client.read_resource(f"job://{job_id}")))
    assert "is not allowed to fit" in seen[1]  # the message did come through, masked
    for text in seen:
        assert CANARY not in text
    assert_not_on_disk(state_dir)
    assert not [r for r in caplog.records if CANARY in r.getMessage()]
