"""Fuzzing every tool of the full catalog through a real MCP client against the sandbox on loopback.

Invalid arguments (wrong types, missing required or unknown members, out of range, bad enums, huge strings)
must come back as a `validation` error with nothing sent to the sandbox. Valid arguments, generated from each
tool's inputSchema (with ids and files the sandbox knows mixed in), must come back as a result or as an error
of a documented kind, never as an unexpected failure, a JSON-RPC error or a hang, and the server must keep
answering. No result may carry a backend key.

Volume: MODELOPS_FUZZ_CALLS (default 840: four examples per tool and mode) tool calls in memory, split evenly
over every tool and both modes, plus a small run over stdio. The README's run keeps to the default; the
2,000-call run the reliability figures quote is tests/test_bench_fuzz.py's (behind the `bench` marker, which
`.ci/run` runs): the same checks on more examples. MODELOPS_FUZZ_SEED (default 0) picks other examples; the
same seed always draws the same ones. MODELOPS_FUZZ_REPORT=PATH writes the figures as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any, get_args

import anyio
import mcp_types as types
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from mcp import Client, MCPError

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.core.errors import ErrorKind
from modelops_mcp.sandbox import Sandbox, serve_sandbox
from modelops_mcp.sandbox import datarobot_state as dr
from modelops_mcp.sandbox import pieces_data as pieces
from modelops_mcp.sandbox import tunethemodel_data as ttm
from modelops_mcp.settings.config import Limits, Settings
from tests.fuzz_schema import Hints, invalid_only, tool_order, valid_arguments
from tests.support import (
    BACKEND_TOOLS,
    EXAMPLE_DATA,
    JOB_TOOLS,
    dump,
    error_of,
    in_process,
    stdio_server,
    text_of,
)

# Pinging after every call is the point (the server keeps serving); legacy mode still has ping.
pytestmark = pytest.mark.filterwarnings("ignore:ping is removed:mcp.shared.exceptions.MCPDeprecationWarning")

CALLS = int(os.environ.get("MODELOPS_FUZZ_CALLS", "840"))
SEED = int(os.environ.get("MODELOPS_FUZZ_SEED", "0"))
REPORT = os.environ.get("MODELOPS_FUZZ_REPORT")
ALL_TOOLS = sorted(BACKEND_TOOLS | JOB_TOOLS)
PER_TOOL = max(2, CALLS // (2 * len(ALL_TOOLS)))
# Over stdio each call also crosses a pipe and a ping follows it: one example per tool and mode in the README's
# run (210 calls), two in tests/test_bench_fuzz.py's.
STDIO_PER_TOOL = int(os.environ.get("MODELOPS_FUZZ_STDIO_PER_TOOL", "1"))
KINDS = set(get_args(ErrorKind))
CALL_TIMEOUT_S = 30.0
# Keys the sandbox accepts and nothing may ever show: one per backend that has a credential.
CANARIES = {
    "caila": "fuzz-canary-caila-3b8e61f0",
    "tunethemodel": "fuzz-canary-ttm-94d2c7aa",
    "datarobot": "fuzz-canary-datarobot-0e5f12b9",
}
EXAMPLE_MODEL = Path(__file__).resolve().parent.parent / "examples" / "custom_model"
FUZZ = settings(
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


class Figures:
    """What the fuzz run did, for docs/reliability-fuzzing.md (printed at the end; JSON with MODELOPS_FUZZ_REPORT)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.counts: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.by_tool: dict[str, Counter[str]] = {}
        self.tools: set[str] = set()

    def record(self, transport: str, mode: str, tool: str, result: types.CallToolResult | None) -> None:
        self.counts[f"{transport}_{mode}"] += 1
        self.tools.add(tool)
        if result is None:
            self.kinds[f"{mode}:no_result"] += 1
            return
        error = error_of(result) if result.is_error else None
        outcome = str(error.get("kind")) if isinstance(error, dict) else "ok"
        if isinstance(error, dict) and str(error.get("message", "")).startswith("unexpected failure"):
            outcome = "crash"
        self.kinds[f"{mode}:{outcome}"] += 1
        self.by_tool.setdefault(tool, Counter())[f"{mode}:{outcome}"] += 1

    def summary(self) -> dict[str, Any]:
        return {
            "calls": sum(self.counts.values()),
            "by_transport_and_mode": dict(sorted(self.counts.items())),
            "outcomes": dict(sorted(self.kinds.items())),
            "crashes": self.kinds["valid:crash"] + self.kinds["invalid:crash"],
            "tools": len(self.tools),
            "per_tool_and_mode": PER_TOOL,
            "seed": SEED,
            "wall_s": round(time.monotonic() - self.started, 1),
        }


FIGURES = Figures()


@pytest.fixture(scope="module", autouse=True)
def figures() -> Iterator[Figures]:
    yield FIGURES
    summary = FIGURES.summary()
    print("\nfuzz figures:", json.dumps(summary))
    if REPORT:
        by_tool = {tool: dict(sorted(c.items())) for tool, c in sorted(FIGURES.by_tool.items())}
        Path(REPORT).write_text(json.dumps({**summary, "by_tool": by_tool}, indent=2) + "\n")


def _files(folder: Path) -> dict[str, Path]:
    """Local files the upload tools may read: datasets, a model folder, a Docker context."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("sentiment-train.csv", "sentiment-validate.csv", "sentiment-test.csv"):
        shutil.copy(EXAMPLE_DATA / name, folder / name)
    shutil.copytree(EXAMPLE_MODEL, folder / "custom_model", dirs_exist_ok=True)
    context = folder / "context.tar.gz"
    with tarfile.open(context, "w:gz") as archive:
        archive.add(folder / "custom_model" / "custom.py", arcname="Dockerfile")
    return {
        "train": folder / "sentiment-train.csv",
        "validate": folder / "sentiment-validate.csv",
        "test": folder / "sentiment-test.csv",
        "model": folder / "custom_model",
        "custom_py": folder / "custom_model" / "custom.py",
        "context": context,
    }


def hints_for(sandbox_url: str, files: dict[str, Path]) -> dict[str, dict[str, st.SearchStrategy[Any]]]:
    """Per backend, values worth trying beside random ones: the sandbox's seed ids and files it can read."""
    path = st.sampled_from([str(p) for p in files.values()] + ["sentiment-train.csv", "custom_model/custom.py"])
    datarobot = f"{sandbox_url}/datarobot/api/v2"
    return {
        "caila": {
            "account": st.sampled_from(["demo", "1001"]),
            "model": st.sampled_from(["text-classifier", "42"]),
            "datasetId": st.sampled_from([501, 502, 503]),
            "configId": st.sampled_from([301, 302]),
            "jobId": st.integers(9000, 9010),
        },
        "training": {
            "train_file": path,
            "test_file": path,
            "model_name": st.sampled_from(["bert-base-cased", "gpt2", "t5-small"]),
        },
        "pieces": {
            "model": st.sampled_from([pieces.LLAMA_3_8B_ID, pieces.PHI_3_MINI_ID, pieces.MISTRAL_7B_ID]),
            "id": st.just(pieces.CODELLAMA_CUSTOM_ID),
        },
        "tunethemodel": {
            "model_id": st.sampled_from([ttm.PUBLIC_CLASSIFIER_ID, ttm.PUBLIC_GENERATOR_ID]),
            "path": path,
        },
        "datarobot": {
            "customModelId": st.just(dr.DEMO_MODEL_ID),
            "customModelVersionId": st.just(dr.DEMO_VERSION_ID),
            "customModelTestId": st.just(dr.DEMO_TEST_ID),
            "environmentId": st.sampled_from([dr.PYTHON_ENV_ID, dr.R_ENV_ID]),
            "environmentVersionId": st.sampled_from([dr.PYTHON_ENV_VERSION_ID, dr.R_ENV_VERSION_ID]),
            "baseEnvironmentId": st.just(dr.PYTHON_ENV_ID),
            "imageId": st.just(dr.DEMO_IMAGE_ID),
            "mainProgramItemId": st.just(dr.DEMO_ITEM_ID),
            "datasetId": st.just(dr.DEMO_DATASET_ID),
            "files": st.sampled_from([[str(files["model"])], [str(files["custom_py"])], ["custom_model"]]),
            "dockerContext": st.just(str(files["context"])),
            "next_page": st.sampled_from(
                [f"{datarobot}/customModels/?offset=1&limit=2", f"{datarobot}/executionEnvironments/?limit=1"]
            ),
        },
        "jobs": {"timeout_s": st.floats(0, 0.2)},
    }


class Harness:
    """A server and the sandbox it talks to, driven from synchronous hypothesis tests through a portal."""

    def __init__(
        self,
        portal: BlockingPortal,
        client: Client,
        sandbox: Sandbox,
        sandbox_url: str,
        files: dict[str, Path],
        transport: str,
    ) -> None:
        self.portal = portal
        self.files = files
        self.client = client
        self.sandbox = sandbox
        self.hints = hints_for(sandbox_url, files)
        self.transport = transport
        self.tools: dict[str, types.Tool] = {}
        self.job_ids: list[str] = []
        self.session_key = "no-session-yet"
        # Drawn when used, so a session restarted by a fuzzed call is offered with its new key.
        self.hints["training"]["key"] = st.builds(lambda: self.session_key)

    def load(self) -> None:
        listed = self.portal.call(self.client.list_tools).tools
        self.tools = {t.name: t for t in listed}
        assert set(self.tools) == set(ALL_TOOLS), set(self.tools) ^ set(ALL_TOOLS)

    def hints_of(self, tool: str) -> Hints:
        return self.hints.get(tool.split("_", 1)[0], {})

    def call(self, tool: str, arguments: dict[str, Any], mode: str) -> types.CallToolResult:
        async def bounded() -> types.CallToolResult:
            with anyio.fail_after(CALL_TIMEOUT_S):
                return await self.client.call_tool(tool, arguments)

        shown = _shown(tool, arguments)
        try:
            result = self.portal.call(bounded)
        except MCPError as exc:
            FIGURES.record(self.transport, mode, tool, None)
            raise AssertionError(f"JSON-RPC error {exc.error.code} ({exc.error.message}) from {shown}") from None
        except TimeoutError:
            FIGURES.record(self.transport, mode, tool, None)
            raise AssertionError(f"no answer within {CALL_TIMEOUT_S:g}s to {shown}") from None
        except RuntimeError as exc:  # the client's own check of structured content against the outputSchema
            FIGURES.record(self.transport, mode, tool, None)
            raise AssertionError(f"{exc} for {shown}") from None
        FIGURES.record(self.transport, mode, tool, result)
        leaked = [name for name, key in CANARIES.items() if key in text_of(result) or key in dump(result)]
        assert not leaked, f"the {leaked} key is in the answer to {shown}"
        return result

    def seed_state(self) -> None:
        """Something to act on beyond the sandbox's seed: a training session (every `key` argument may then be
        left out), and a Tune the Model dataset and classifier whose ids the hints offer."""
        for tool, arguments in (
            ("training_start_session", {}),
            (
                "tunethemodel_upload_dataset",
                {"name": "fuzz", "task_type": "classifier", "path": str(self.files["train"])},
            ),
            ("tunethemodel_create_model", {"model_type": "classifier", "name": "fuzz"}),
        ):
            result = self.portal.call(self.client.call_tool, tool, arguments)
            assert not result.is_error, text_of(result)
            made = result.structured_content or {}
            self._remember(tool, made)
            if "file_id" in made:
                files = st.just(str(made["file_id"]))
                self.hints["tunethemodel"].update(file_id=files, train_file=files, validate_file=files)
            if "model_id" in made:
                ids = [str(made["model_id"]), ttm.PUBLIC_CLASSIFIER_ID, ttm.PUBLIC_GENERATOR_ID]
                self.hints["tunethemodel"]["model_id"] = st.sampled_from(ids)

    def _remember(self, tool: str, made: dict[str, Any]) -> None:
        job = made.get("job")
        if isinstance(job, dict) and isinstance(job.get("id"), str):
            self.job_ids.append(job["id"])
        if tool == "training_start_session" and isinstance(made.get("key"), str):
            self.session_key = made["key"]

    def ping(self) -> None:
        self.portal.call(self.client.send_ping)

    def refused(self, tool: str, arguments: dict[str, Any]) -> None:
        """Invalid arguments: a validation error naming the bad fields, and no request at all."""
        before = self.sandbox.log.count()
        result = self.call(tool, arguments, "invalid")
        shown = _shown(tool, arguments)
        assert result.is_error, f"accepted {shown}: {text_of(result)[:300]}"
        error = error_of(result)  # the error object, as a client reads it
        assert error.get("kind") == "validation", f"{shown} → {text_of(result)[:500]}"
        assert error.get("violations"), f"no violations listed for {shown}: {text_of(result)[:300]}"
        sent = self.sandbox.log.entries()[before:]
        assert not sent, f"{shown} sent {[(e.method, e.path) for e in sent]}"

    def answered(self, tool: str, arguments: dict[str, Any]) -> None:
        """Valid arguments: a result, or an error of a documented kind that is not an unexpected failure."""
        result = self.call(tool, arguments, "valid")
        shown = _shown(tool, arguments)
        if result.is_error:
            error = error_of(result)  # asserts its shape: no structuredContent, the object as JSON text
            assert error.get("kind") in KINDS, f"undocumented kind for {shown}: {error}"
            message = str(error.get("message", ""))
            assert not message.startswith("unexpected failure"), f"crash on {shown}: {message}"
            assert "Traceback" not in text_of(result), f"a traceback in the answer to {shown}"
        else:
            self._remember(tool, result.structured_content or {})
        self.ping()  # the server keeps serving


def _shown(tool: str, arguments: dict[str, Any]) -> str:
    text = json.dumps(arguments, default=str)
    return f"{tool}({text[:400]}{'…' if len(text) > 400 else ''})"


def _seed(tool: str, mode: str) -> int:
    return zlib.crc32(f"{SEED}:{mode}:{tool}".encode())


@contextmanager
def harness(
    folder: Path,
    server: Callable[[BlockingPortal, dict[str, str], Path], AbstractContextManager[Client]],
    transport: str,
    *,
    seeded: bool = False,
) -> Iterator[Harness]:
    files = _files(folder / "allowed")
    with start_blocking_portal("asyncio") as portal, ExitStack() as stack:
        emulators = Sandbox(speed=0, api_keys=CANARIES)
        url = stack.enter_context(portal.wrap_async_context_manager(serve_sandbox(emulators)))
        client = stack.enter_context(server(portal, emulators.env(url), folder))
        fuzz = Harness(portal, client, emulators, url, files, transport)
        fuzz.load()
        if seeded:
            fuzz.seed_state()
        yield fuzz


@contextmanager
def in_memory(portal: BlockingPortal, env: dict[str, str], folder: Path) -> Iterator[Client]:
    # Default polling (1 s, backing off to 30 s): the jobs valid calls start must not flood the sandbox.
    running = in_process(env, folder / "state", Limits(), allow_dirs=[folder / "allowed"], output_dir=folder / "out")
    with (
        portal.wrap_async_context_manager(running) as (server, _),
        portal.wrap_async_context_manager(Client(server, mode="legacy")) as client,
    ):
        yield client


@contextmanager
def over_stdio(portal: BlockingPortal, env: dict[str, str], folder: Path) -> Iterator[Client]:
    allowed = ("--allow-dir", str(folder / "allowed"), "--output-dir", str(folder / "out"))
    with portal.wrap_async_context_manager(stdio_server(env, folder / "state", *allowed)) as (client, _):
        yield client


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """A server that is only ever given invalid arguments: no job runs, so any request in the log is a leak."""
    with harness(tmp_path_factory.mktemp("fuzz-invalid"), in_memory, "memory") as fuzz:
        yield fuzz


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with harness(tmp_path_factory.mktemp("fuzz-valid"), in_memory, "memory", seeded=True) as fuzz:
        yield fuzz
        fuzz.portal.call(fuzz.client.list_tools)  # still serving after every valid call


def _destructive() -> dict[str, bool]:
    # Annotations follow the HTTP method: DELETE is destructive; jobs_cancel too.
    catalog = load_settings_catalog(Settings(state_dir=Path(".")))
    flags = {op.tool_name: bool(op.annotations.destructive_hint) for op in catalog.operations.values()}
    return {**flags, "jobs_cancel": True}


def fuzz_invalid(fuzz: Harness, tool: str, examples: int, label: str) -> None:
    @settings(FUZZ, max_examples=examples)
    @seed(_seed(tool, label))
    @given(invalid_only(fuzz.tools[tool].input_schema, fuzz.hints_of(tool)))
    def refused(arguments: dict[str, Any]) -> None:
        fuzz.refused(tool, arguments)

    refused()


def fuzz_valid(fuzz: Harness, tool: str, examples: int, label: str) -> None:
    strategy = valid_arguments(fuzz.tools[tool].input_schema, fuzz.hints_of(tool))

    @settings(FUZZ, max_examples=examples)
    @seed(_seed(tool, label))
    @given(st.data())
    def answered(data: st.DataObject) -> None:
        arguments = data.draw(strategy, label="arguments")
        if "job_id" in arguments and fuzz.job_ids and data.draw(st.booleans(), label="a real job"):
            # A job this run started: jobs_wait then really waits, so briefly.
            arguments["job_id"] = data.draw(st.sampled_from(fuzz.job_ids), label="job")
            if tool == "jobs_wait":
                arguments["timeout_s"] = min(arguments.get("timeout_s", 0.2), 0.2)
        fuzz.answered(tool, arguments)

    answered()


@pytest.mark.parametrize("tool", ALL_TOOLS)
def test_invalid_arguments_are_refused_before_any_request(quiet: Harness, tool: str) -> None:
    fuzz_invalid(quiet, tool, PER_TOOL, "invalid")


@pytest.mark.parametrize("tool", tool_order(ALL_TOOLS, _destructive()))
def test_valid_arguments_get_a_result_or_a_documented_error(busy: Harness, tool: str) -> None:
    fuzz_valid(busy, tool, PER_TOOL, "valid")


def test_every_tool_fuzzed_over_stdio(tmp_path: Path) -> None:
    """The same two checks through a `modelops-mcp serve` subprocess: all invalid calls first (no job runs yet,
    so the request log must stay empty), then the valid ones."""
    with harness(tmp_path, over_stdio, "stdio") as fuzz:
        for tool in ALL_TOOLS:
            fuzz_invalid(fuzz, tool, STDIO_PER_TOOL, "stdio-invalid")
        assert fuzz.sandbox.log.count() == 0
        fuzz.seed_state()
        for tool in tool_order(ALL_TOOLS, _destructive()):
            fuzz_valid(fuzz, tool, STDIO_PER_TOOL, "stdio-valid")
