"""Canary credentials for all five backends, pushed down every error path a call can take, never come back out.

Caila, Tune the Model and DataRobot get canary API keys; the Training Module and Pieces OS, which have no key,
get a canary password in their base URL (a deployment behind a proxy with basic auth). Then every backend
answers every kind of failure with the canary echoed in its body, code, headers or HTML, and the test checks
results, the backends resource, job records, files on disk and every log line.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from modelops_mcp.sandbox import Fault, Sandbox, serve_sandbox
from modelops_mcp.sandbox.datarobot_state import DEMO_DATASET_ID, DEMO_MODEL_ID, DEMO_VERSION_ID
from modelops_mcp.settings.config import Limits
from tests.support import dump, error_of, in_process, stdio_server

pytestmark = pytest.mark.anyio

CANARIES = {name: f"canary-{name}-5b7e21c9d04a-do-not-leak" for name in ("caila", "tunethemodel", "datarobot")}
# Backends without an API key: the secret is the password in their configured URL.
URL_CANARIES = {name: f"canary-{name}-url-8c3d5e7f9a1b" for name in ("training", "pieces")}
ALL_CANARIES = {**CANARIES, **URL_CANARIES}

# One idempotent read and one write per backend, with arguments the emulators accept.
PROBES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "caila": [
        ("caila_list_datasets", {"account": "demo"}),
        ("caila_create_derived_service", {"account": "demo", "model": "text-classifier", "name": "sweep"}),
    ],
    "tunethemodel": [
        ("tunethemodel_list_models", {}),
        ("tunethemodel_create_model", {"model_type": "classifier"}),
    ],
    "datarobot": [
        ("datarobot_list_custom_models", {}),
        ("datarobot_create_custom_model", {"customModelType": "inference", "name": "sweep"}),
    ],
    "training": [
        ("training_get_status", {}),
        ("training_update_config", {"key": "sweep-session"}),
    ],
    "pieces": [
        ("pieces_list_models", {}),
        ("pieces_load_model", {"model": "00000000-0000-4000-8000-000000000001"}),
    ],
}


def echoing(secret: str) -> list[tuple[str, dict[str, Any], set[str]]]:
    """(label, Fault arguments, the error kinds a call may end with): each failure carries the secret."""
    leak = {"X-Debug-Key": secret, "Location": f"https://elsewhere.example/{secret}"}
    return [
        ("400", {"status": 400, "body": {"message": f"bad request for key {secret}"}}, {"validation"}),
        ("401", {"status": 401, "body": {"error": f"key {secret} is invalid"}, "headers": leak}, {"auth"}),
        ("403 html", {"status": 403, "body": f"<html><p>forbidden: {secret}</p></html>"}, {"auth"}),
        ("404", {"status": 404, "body": {"detail": [{"msg": f"no such thing for {secret}"}]}}, {"not_found"}),
        ("409", {"status": 409, "body": {"message": secret, "code": secret}}, {"conflict"}),
        ("422", {"status": 422, "body": {"detail": f"Unprocessable {secret}"}}, {"validation"}),
        (
            "429",
            {"status": 429, "body": {"error": f"slow down {secret}"}, "headers": {"Retry-After": "999", **leak}},
            {"rate_limited"},
        ),
        ("500", {"status": 500, "body": {"message": f"trace: key={secret}", "code": secret}}, {"backend"}),
        ("502 html", {"status": 502, "body": f"<html><body>Bad gateway {secret}</body></html>"}, {"backend"}),
        ("503 text", {"status": 503, "body": f"upstream said {secret}", "headers": {"Retry-After": "0"}}, {"backend"}),
        # A success that echoes the secret: masked in a result that fits the schema, or in the mismatch error.
        ("200 echo", {"status": 200, "body": {"message": secret, "items": [{"name": secret}]}}, {"ok", "backend"}),
        ("timeout", {"delay_s": 1.0}, {"timeout"}),
    ]


def outcome(result: Any) -> str:
    if not result.is_error:
        return "ok"
    return str(error_of(result)["kind"])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_url_passwords(env: dict[str, str]) -> dict[str, str]:
    """The key-less backends reached through `http://svc:<canary>@host/...` (httpx sends it as basic auth)."""
    env = dict(env)
    for name, variable in (("training", "TRAINING_MODULE_URL"), ("pieces", "PIECES_OS_URL")):
        env[variable] = env[variable].replace("http://", f"http://svc:{URL_CANARIES[name]}@", 1)
    return env


def assert_clean(texts: list[str], where: str) -> None:
    for text in texts:
        for name, secret in ALL_CANARIES.items():
            assert secret not in text, f"{name}'s secret leaked in {where}: …{text[max(0, text.find(secret) - 80) :]}"


def assert_clean_on_disk(state_dir: Path) -> int:
    files = [path for path in state_dir.rglob("*") if path.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for secret in ALL_CANARIES.values():
            assert secret.encode() not in data, path
    return len(files)


async def sweep(client: Client, emulators: Sandbox, tally: Counter[str], *, skip: tuple[str, ...] = ()) -> list[str]:
    seen = [dump(await client.list_tools()), dump(await client.read_resource("modelops://backends"))]
    for backend, probes in PROBES.items():
        for label, fault, kinds in echoing(ALL_CANARIES[backend]):
            if label in skip:
                continue
            for tool, arguments in probes:
                emulators.faults.clear()
                emulators.faults.add(Fault(backend=backend, **fault))
                result = await client.call_tool(tool, arguments)
                seen.append(dump(result))
                got = outcome(result)
                assert got in kinds, f"{tool} under {label}: {got} {dump(result)[:300]}"
                tally[got] += 1
    emulators.faults.clear()
    # Our own refusal: a key pasted as an argument name and value is masked in the violations too.
    for backend, probes in PROBES.items():
        tool, arguments = probes[0]
        secret = ALL_CANARIES[backend]
        result = await client.call_tool(tool, {**arguments, secret: secret})
        assert outcome(result) == "validation", dump(result)
        seen.append(dump(result))
        tally["validation"] += 1
    return seen


async def jobs_under_echoing_polls(client: Client, emulators: Sandbox, tally: Counter[str]) -> list[str]:
    """Jobs whose status polls fail with the secret in the body: the job records stay clean."""
    models = (await client.call_tool("pieces_list_models", {})).structured_content or {}
    starts = [
        ("caila", "caila_fit_service", {"account": "demo", "model": "text-classifier", "datasetId": 501}),
        (
            "datarobot",
            "datarobot_create_custom_model_test",
            {"customModelId": DEMO_MODEL_ID, "customModelVersionId": DEMO_VERSION_ID, "datasetId": DEMO_DATASET_ID},
        ),
        ("pieces", "pieces_download_model", {"model": models["iterable"][0]["id"]}),
    ]
    seen: list[str] = []
    for backend, tool, arguments in starts:
        started = await client.call_tool(tool, arguments)
        assert not started.is_error, dump(started)
        job_id = (started.structured_content or {})["job"]["id"]
        secret = ALL_CANARIES[backend]
        emulators.faults.add(Fault(backend=backend, method="GET", status=500, body={"message": f"poll {secret}"}))
        seen.append(dump(await client.call_tool("jobs_wait", {"job_id": job_id, "timeout_s": 1})))
        emulators.faults.clear()
        seen.append(dump(await client.call_tool("jobs_get", {"job_id": job_id})))
        seen.append(dump(await client.read_resource(f"job://{job_id}")))
        tally["job"] += 1
    seen.append(dump(await client.call_tool("jobs_list", {})))
    return seen


@pytest.fixture
def report() -> Iterator[Counter[str]]:
    tally: Counter[str] = Counter()
    yield tally
    path = os.environ.get("MODELOPS_SECRET_REPORT")
    if path:
        Path(path).write_text(json.dumps(dict(tally), indent=2, sort_keys=True))


async def test_no_backend_secret_leaks_on_any_error_path(
    state_dir: Path, caplog: pytest.LogCaptureFixture, report: Counter[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    emulators = Sandbox(speed=0, api_keys=dict(CANARIES))
    async with serve_sandbox(emulators) as url:
        env = with_url_passwords(emulators.env(url))
        limits = Limits(read_timeout_s=0.5, retry_base_delay_s=0.01, max_attempts=2, poll_min_interval_s=0.05)
        async with in_process(env, state_dir, limits) as (server, _), Client(server, mode="legacy") as client:
            seen = await sweep(client, emulators, report)
            seen += await jobs_under_echoing_polls(client, emulators, report)
        # Network failure: the URL with the password points at a closed port.
        env["TRAINING_MODULE_URL"] = f"http://svc:{URL_CANARIES['training']}@127.0.0.1:{closed_port()}/training"
        # Config failure: a backend with no key configured says which variable to set.
        del env["DATAROBOT_API_TOKEN"]
        async with in_process(env, state_dir, limits) as (server, _), Client(server, mode="legacy") as client:
            network = await client.call_tool("training_get_status", {})
            config = await client.call_tool("datarobot_list_custom_models", {})
            seen += [dump(network), dump(config), dump(await client.read_resource("modelops://backends"))]
    assert outcome(network) == "network"
    assert outcome(config) == "config"
    report.update(["network", "config"])
    # The secrets really went out (so the test can fail): keys as headers, URL passwords as basic auth.
    sent = [json.dumps(dict(entry.headers)) for entry in emulators.log.entries()]
    assert any(CANARIES["datarobot"] in text for text in sent)
    assert any("Basic " in text for text in sent)
    assert_clean(seen, "a result")
    assert_clean([record.getMessage() for record in caplog.records], "a log line")
    report["files_checked"] = assert_clean_on_disk(state_dir)
    # Every error kind the design names was produced, so no path went unvisited.
    kinds = {"validation", "auth", "not_found", "conflict", "rate_limited", "backend", "network", "timeout", "config"}
    assert kinds <= set(report), sorted(set(report))
    report["calls"] = sum(n for kind, n in report.items() if kind not in ("files_checked", "calls"))


async def test_no_backend_secret_leaks_over_stdio(state_dir: Path) -> None:
    """The same failures through a real server process: its stderr at debug level stays clean too."""
    emulators = Sandbox(speed=0, api_keys=dict(CANARIES))
    tally: Counter[str] = Counter()
    async with serve_sandbox(emulators) as url:
        env = with_url_passwords(emulators.env(url))
        async with stdio_server(env, state_dir, "--log-level", "debug") as (client, errlog):
            # The read timeout has no flag (60 s by default): the in-process test covers that path.
            seen = await sweep(client, emulators, tally, skip=("timeout",))
        stderr = errlog.read_text()
    assert "datarobot_create_custom_model" in stderr  # debug logging really ran
    assert_clean(seen, "a result")
    assert_clean([stderr], "stderr")
    assert tally["auth"] > 0
    assert tally["ok"] + tally["backend"] > 0
