"""Test helpers: start the server in-process or as a real subprocess, and read what the sandbox saw."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import Server
from mcp.shared._httpx_utils import create_mcp_http_client

from modelops_mcp.app.runtime import open_runtime
from modelops_mcp.sandbox import Sandbox, serve_sandbox
from modelops_mcp.settings.config import Limits, Settings
from modelops_mcp.surface.parts import Runtime
from modelops_mcp.surface.server import build_server

# The five operations of the Caila seed, by their tool names.
CAILA_TOOLS = {
    "caila_create_derived_service",
    "caila_list_fit_configs",
    "caila_list_datasets",
    "caila_fit_service",
    "caila_get_job_status",
}
# The Training Module seed's 17 operations.
TRAINING_TOOLS = {
    "training_start_session",
    "training_update_config",
    "training_get_config",
    "training_upload_dataset",
    "training_preprocess",
    "training_get_preprocess_status",
    "training_start_training",
    "training_stop_training",
    "training_get_status",
    "training_monitor",
    "training_check_model_ready",
    "training_download_model",
    "training_download_results",
    "training_check_health",
    "training_import_model",
    "training_get_import_status",
    "training_get_imported_model",
}
# Pieces OS: the seed's seven Model API operations (the progress WebSocket is the download job's), plus the
# models list and the health check API-FACTS adds.
PIECES_TOOLS = {
    "pieces_check_health",
    "pieces_list_models",
    "pieces_get_model",
    "pieces_download_model",
    "pieces_cancel_model_download",
    "pieces_load_model",
    "pieces_unload_model",
    "pieces_update_model",
}
# All 54 operations of the DataRobot seed, one tool each, plus the AI Catalog's four dataset operations (API-FACTS:
# a custom model test needs a dataset, which the official client makes with Dataset.create_from_file).
DATAROBOT_DATASET_TOOLS = {
    "datarobot_upload_dataset",
    "datarobot_list_datasets",
    "datarobot_get_dataset",
    "datarobot_delete_dataset",
}
DATAROBOT_TOOLS = DATAROBOT_DATASET_TOOLS | {
    "datarobot_add_custom_model_version_from_repository",
    "datarobot_assign_custom_model_training_data",
    "datarobot_cancel_custom_model_test",
    "datarobot_cancel_dependency_build",
    "datarobot_copy_custom_model",
    "datarobot_create_custom_model",
    "datarobot_create_custom_model_conversion",
    "datarobot_create_custom_model_from_template",
    "datarobot_create_custom_model_test",
    "datarobot_create_custom_model_version",
    "datarobot_create_custom_model_version_from_latest",
    "datarobot_create_custom_model_version_from_repository",
    "datarobot_create_custom_model_version_with_training_data",
    "datarobot_create_execution_environment",
    "datarobot_create_execution_environment_version",
    "datarobot_delete_custom_model",
    "datarobot_delete_execution_environment",
    "datarobot_download_custom_model",
    "datarobot_download_custom_model_test_log",
    "datarobot_download_custom_model_version",
    "datarobot_download_execution_environment_version",
    "datarobot_get_custom_model",
    "datarobot_get_custom_model_conversion",
    "datarobot_get_custom_model_limits",
    "datarobot_get_custom_model_test",
    "datarobot_get_custom_model_test_log_tail",
    "datarobot_get_custom_model_version",
    "datarobot_get_dependency_build",
    "datarobot_get_dependency_build_log",
    "datarobot_get_execution_environment",
    "datarobot_get_execution_environment_version",
    "datarobot_get_execution_environment_version_build_log",
    "datarobot_get_feature_impact",
    "datarobot_get_image_feature_impact",
    "datarobot_init_model_prediction_explanations",
    "datarobot_init_version_prediction_explanations",
    "datarobot_list_custom_model_access",
    "datarobot_list_custom_model_conversions",
    "datarobot_list_custom_model_tests",
    "datarobot_list_custom_model_versions",
    "datarobot_list_custom_models",
    "datarobot_list_execution_environment_access",
    "datarobot_list_execution_environment_versions",
    "datarobot_list_execution_environments",
    "datarobot_permanently_delete_execution_environments",
    "datarobot_start_dependency_build",
    "datarobot_start_feature_impact",
    "datarobot_start_image_feature_impact",
    "datarobot_stop_custom_model_conversion",
    "datarobot_update_custom_model",
    "datarobot_update_custom_model_access",
    "datarobot_update_custom_model_version",
    "datarobot_update_execution_environment",
    "datarobot_update_execution_environment_access",
}
TUNETHEMODEL_TOOLS = {
    "tunethemodel_list_models",
    "tunethemodel_create_model",
    "tunethemodel_get_model",
    "tunethemodel_delete_model",
    "tunethemodel_list_public_models",
    "tunethemodel_bind_datasets",
    "tunethemodel_fit_model",
    "tunethemodel_classify",
    "tunethemodel_generate",
    "tunethemodel_upload_dataset",
    "tunethemodel_list_files",
    "tunethemodel_get_file",
    "tunethemodel_delete_file",
}
BACKEND_TOOLS = CAILA_TOOLS | TRAINING_TOOLS | PIECES_TOOLS | DATAROBOT_TOOLS | TUNETHEMODEL_TOOLS
JOB_TOOLS = {"jobs_list", "jobs_get", "jobs_wait", "jobs_cancel"}
# The tiny dataset the demo uploads (shipped with the repository).
EXAMPLE_DATA = Path(__file__).resolve().parent.parent / "examples" / "data"
# A fit the sandbox accepts at once: the seed's fittable service, support-tickets, the default config.
CAILA_FIT = {"account": "demo", "model": "text-classifier", "datasetId": 501, "configId": 301}
# A DataRobot custom model for examples/custom_model/ (a binary sentiment classifier), less its name.
DATAROBOT_BINARY_MODEL = {
    "customModelType": "inference",
    "targetType": "Binary",
    "targetName": "label",
    "positiveClassLabel": "positive",
    "negativeClassLabel": "negative",
    "language": "python",
}
# Polling fast enough that tests spend milliseconds, not seconds, between status checks.
FAST = Limits(poll_min_interval_s=0.05, poll_max_s=0.4)
FAST_ARGS = ("--poll-interval", "0.05", "--poll-max", "0.4")


@dataclass
class RunningSandbox:
    emulators: Sandbox
    url: str

    def env(self, **overrides: str) -> dict[str, str]:
        return {**self.emulators.env(self.url), **overrides}

    def requests(self, backend: str | None = None) -> list[Any]:
        return self.emulators.log.entries(backend)


@contextmanager
def sandbox_in_thread() -> Iterator[RunningSandbox]:
    """The sandbox on its own event loop in a thread: for a module-scoped fixture, whose server subprocess outlives
    one test's event loop (a server start costs 2-3 s of CPU; a file's tests that need no fresh state share one).
    Its log is thread-safe; tests count the requests made since they began."""
    emulators = Sandbox(speed=0)
    ready: queue.Queue[str | BaseException] = queue.Queue()
    stop: list[Any] = []

    async def serve() -> None:
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        stop.append(lambda: loop.call_soon_threadsafe(stopped.set))
        async with serve_sandbox(emulators) as url:
            ready.put(url)
            await stopped.wait()

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # reported to the waiting caller, not lost in the thread
            ready.put(exc)

    thread = threading.Thread(target=run, name="sandbox", daemon=True)
    thread.start()
    started = ready.get(timeout=30)
    if isinstance(started, BaseException):
        raise started
    try:
        yield RunningSandbox(emulators, started)
    finally:
        stop[0]()
        thread.join(timeout=10)


@asynccontextmanager
async def in_process(
    env: Mapping[str, str],
    state_dir: Path,
    limits: Limits | None = None,
    *,
    allow_dirs: list[Path] | None = None,
    output_dir: Path | None = None,
    **options: Any,
) -> AsyncIterator[tuple[Server[object], Runtime]]:
    """`options`: any other Settings field (toolsets, tools, read_only, discovery)."""
    settings = Settings(
        state_dir=state_dir, limits=limits or FAST, allow_dirs=allow_dirs or [], output_dir=output_dir, **options
    )
    async with open_runtime(settings, env) as runtime:
        yield build_server(runtime), runtime


def server_env(extra: Mapping[str, str], state_dir: Path) -> dict[str, str]:
    """The environment of a server subprocess: this interpreter's, minus any real backend settings."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CAILA_", "MODELOPS_", "TRAINING_", "PIECES_", "TTM_", "DATAROBOT_"))
    }
    return {**base, **extra, "MODELOPS_STATE_DIR": str(state_dir)}


@asynccontextmanager
async def stdio_server(
    env: Mapping[str, str], state_dir: Path, *args: str, **client_options: Any
) -> AsyncIterator[tuple[Client, Path]]:
    """`modelops-mcp serve` as a child process over stdio; yields the client and the file its stderr goes to.

    `client_options`: more of the Client's settings, e.g. an `elicitation_callback`."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "modelops_mcp", "serve", *FAST_ARGS, *args],
        env=server_env(env, state_dir),
    )
    with tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False) as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy", **client_options) as client:
            yield client, Path(errlog.name)


# The flags and variable that choose how the HTTP server authenticates; without any, tests not about auth
# pass --no-auth (the server binds loopback).
_AUTH_CHOICES = ("--auth-token", "--no-auth", "--host")
SERVE_HTTP = (sys.executable, "-m", "modelops_mcp", "serve", "--transport", "http")


def start_http_server(
    env: Mapping[str, str], state_dir: Path, *args: str, open_access: bool = True
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`modelops-mcp serve --transport http --port 0` as a child process: the process, its /mcp URL, its stderr.

    Unless `args` or `env` say how to authenticate, or `open_access` is False (the server then generates a
    token), the server runs with --no-auth on 127.0.0.1: most tests are not about auth.
    """
    errlog = Path(tempfile.mkstemp(suffix=".log")[1])
    chosen = any(a.split("=", 1)[0] in _AUTH_CHOICES for a in args) or "MODELOPS_AUTH_TOKEN" in env
    auth = ("--no-auth",) if open_access and not chosen else ()
    with errlog.open("w") as err:
        proc = subprocess.Popen(
            [*SERVE_HTTP, "--port", "0", *FAST_ARGS, *auth, *args],
            env=server_env(env, state_dir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        return proc, _wait_for_url(proc, errlog), errlog
    except BaseException:
        proc.kill()
        proc.wait(timeout=10)
        raise


@contextmanager
def http_server_process(
    env: Mapping[str, str], state_dir: Path, *args: str, open_access: bool = True
) -> Iterator[tuple[str, Path]]:
    """`modelops-mcp serve --transport http --port 0` as a child process; yields its /mcp URL and its stderr file."""
    proc, url, errlog = start_http_server(env, state_dir, *args, open_access=open_access)
    try:
        yield url, errlog
    finally:
        stop_process(proc)


@asynccontextmanager
async def http_client(url: str, token: str | None = None, **options: Any) -> AsyncIterator[Client]:
    """An mcp Client over Streamable HTTP that sends `Authorization: Bearer <token>` on every request."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else None
    # The SDK's own factory, for its long read timeout; a client passed in is ours to close.
    async with create_mcp_http_client(headers=headers) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=options.pop("mode", "legacy"), **options) as client:
            yield client


def printed_token(errlog: Path, timeout_s: float = 10.0) -> str:
    """The bearer token a server without one generated and printed at start."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        match = re.search(r"Authorization: Bearer (\S+)$", errlog.read_text(), flags=re.MULTILINE)
        if match:
            return match.group(1)
        time.sleep(0.05)
    raise AssertionError(f"no generated token printed: {errlog.read_text()}")


def _wait_for_url(proc: subprocess.Popen[bytes], errlog: Path, timeout_s: float = 30.0) -> str:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        match = re.search(r"serving Streamable HTTP at (http://\S+/mcp)", errlog.read_text())
        if match:
            return match.group(1)
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {errlog.read_text()}")
        time.sleep(0.05)
    raise RuntimeError(f"server did not start within {timeout_s}s: {errlog.read_text()}")


async def wait_for_job(
    client: Client, job_id: str, notes: list[tuple[float, str | None]] | None = None
) -> dict[str, Any]:
    """jobs_wait until the job ends (30 s at most); `notes` collects the progress notifications on the way."""

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        if notes is not None:
            notes.append((done, message))

    result = await client.call_tool("jobs_wait", {"job_id": job_id, "timeout_s": 30}, progress_callback=on_progress)
    waited = structured(result)
    assert waited["timed_out"] is False, waited
    job: dict[str, Any] = waited["job"]
    return job


def structured(result: types.CallToolResult) -> Any:
    assert result.structured_content is not None, result
    return result.structured_content


ERROR_KINDS = ("validation", "auth", "not_found", "conflict", "rate_limited", "backend", "network", "timeout", "config")


def error_of(result: types.CallToolResult) -> dict[str, Any]:
    """The error object of an isError result, read as a client reads it (see error_in_json)."""
    assert result.is_error, result
    return error_in_json(result.model_dump(by_alias=True, mode="json", exclude_none=True))


def error_in_json(result: dict[str, Any]) -> dict[str, Any]:
    """The error object of an isError tools/call result as it travels on the wire.

    An error carries no structuredContent (no tool's outputSchema admits it, and the TypeScript SDK checks
    it even on errors); its content is the one-line text, then `{"error": {...}}` as JSON text."""
    assert result.get("isError") is True, result
    assert "structuredContent" not in result, result
    texts = [block["text"] for block in result["content"] if block.get("type") == "text"]
    assert len(texts) == 2, texts
    payload = json.loads(texts[1])
    assert list(payload) == ["error"], payload
    error = payload["error"]
    assert isinstance(error, dict), payload
    assert error["kind"] in ERROR_KINDS, error
    # The readable line says the same: the kind and the whole message.
    assert f"{error['kind']} error" in texts[0], (texts[0], error)
    assert error["message"] in texts[0], (texts[0], error)
    return error


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


def assert_matches_output_schema(tool: types.Tool, result: types.CallToolResult) -> None:
    assert tool.output_schema is not None
    errors = list(Draft202012Validator(tool.output_schema).iter_errors(result.structured_content))
    assert not errors, [e.message for e in errors]


def dump(value: Any) -> str:
    if hasattr(value, "model_dump"):
        value = value.model_dump(by_alias=True, mode="json")
    return json.dumps(value)


async def ok(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """A tool call that must succeed; its structured answer."""
    result = await client.call_tool(tool, arguments or {})
    assert not result.is_error, text_of(result)
    body: dict[str, Any] = structured(result)
    return body


async def advance_later(sandbox: RunningSandbox, *steps: tuple[float, float]) -> None:
    """Move the sandbox clock by `seconds` after `delay` real seconds, for each (delay, seconds) step in turn."""
    for delay, seconds in steps:
        await anyio.sleep(delay)
        sandbox.emulators.clock.advance(seconds)


async def advance_in_steps(sandbox: RunningSandbox, seconds: float, steps: int, pause: float = 0.05) -> None:
    """Move the sandbox clock a step at a time, with a pause between, so pollers see each state on the way."""
    for _ in range(steps):
        await anyio.sleep(pause)
        sandbox.emulators.clock.advance(seconds)


@dataclass
class SandboxProcess:
    """`modelops-mcp sandbox` running as its own process: what it printed at start."""

    url: str
    env: dict[str, str]  # the `export` lines: every backend's URL and key
    faults: list[str]  # the `# fault:` lines, one per fault it was started with


@contextmanager
def sandbox_process(*args: str, timeout_s: float = 30.0) -> Iterator[SandboxProcess]:
    """The sandbox subcommand on an ephemeral port, in its own process (so it outlives a killed server)."""
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "modelops_mcp", "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        started = SandboxProcess(url="", env={}, faults=[])
        deadline = time.monotonic() + timeout_s
        # Five backends: a URL each, and a key for the three that have one.
        while time.monotonic() < deadline and len(started.env) < 8:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the sandbox exited: {proc.stderr.read() if proc.stderr else ''}")
            if line.startswith("# modelops-mcp sandbox serving at "):
                started.url = line.split()[5]
            elif line.startswith("# fault: "):
                started.faults.append(line[len("# fault: ") :].strip())
            elif line.startswith("export "):
                name, _, value = line[len("export ") :].strip().partition("=")
                started.env[name] = value
        assert len(started.env) == 8, started
        yield started
    finally:
        stop_process(proc)


def record_security_check(check: str, refused: int, of: int) -> None:
    """One line of the security figures (docs/RELIABILITY.md), when MODELOPS_SECURITY_REPORT names a file."""
    path = os.environ.get("MODELOPS_SECURITY_REPORT")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps({"check": check, "refused": refused, "of": of}) + "\n")


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM, then SIGKILL if it has not gone within 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
