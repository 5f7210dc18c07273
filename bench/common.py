"""Helpers every benchmark shares: machine info, percentiles, the sandbox and servers as subprocesses, a raw
JSON-RPC driver for stdio servers, tool-list sizes, and loading the peer (bench/peer.py) when it is there.

Scripts import this as `common` (they run as `python bench/<script>.py`, so bench/ is on sys.path).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import math
import os
import platform
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import IO, Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# Both servers are asked for a version they both speak; the figures do not depend on which one.
PROTOCOL_VERSION = "2025-06-18"
HTTP_URL = re.compile(r"(http://127\.0\.0\.1:\d+/mcp)")
# The Tune the Model public classifier of the sandbox's seed: always Ready, so both calls below are cheap,
# read-only and start no job (GET its status; POST a classify that the emulator scores from the text alone).
TTM_MODEL = "9323f9dbc976ea5dc6c8272eb90742f9"
CALLS: list[dict[str, Any]] = [
    {
        "label": "GET",
        "tool": "tunethemodel_get_model",
        "operation_id": "getModelStatus",
        "backend": "tunethemodel",
        "method": "GET",
        "path": f"/v0/models/{TTM_MODEL}/status",
        "arguments": {"model_id": TTM_MODEL},
    },
    {
        "label": "POST",
        "tool": "tunethemodel_classify",
        "operation_id": "classify",
        "backend": "tunethemodel",
        "method": "POST",
        "path": f"/v0/models/{TTM_MODEL}/classify",
        "arguments": {"model_id": TTM_MODEL, "input": "The export is broken again"},
    },
]


# ---- arguments, results, machine -------------------------------------------------------------------------


def parser(name: str, doc: str | None) -> argparse.ArgumentParser:
    """The flags every script takes: --out, --quick (tiny sizes, for the smoke test) and --no-peer."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(RESULTS / f"{name}.json"), help="where to write the JSON results")
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the script runs, figures are noise")
    p.add_argument("--no-peer", action="store_true", help="skip the peer (FastMCP) figures")
    return p


def machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "commit": commit,
    }


def write_results(results: dict[str, Any], out: str) -> None:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2) + "\n"
    path.write_text(text)
    print(text, end="")


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted samples."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def stats_ms(samples_s: Sequence[float]) -> dict[str, Any]:
    """p50/p99/min/mean in milliseconds of samples given in seconds."""
    if not samples_s:
        return {"n": 0}
    return {
        "n": len(samples_s),
        "p50_ms": round(percentile(samples_s, 50) * 1000, 3),
        "p99_ms": round(percentile(samples_s, 99) * 1000, 3),
        "min_ms": round(min(samples_s) * 1000, 3),
        "mean_ms": round(sum(samples_s) / len(samples_s) * 1000, 3),
    }


def ratio(ours: float | None, peer: float | None, digits: int = 3) -> float | None:
    if ours is None or peer is None or peer <= 0:
        return None
    return round(ours / peer, digits)


# ---- our server's command line ---------------------------------------------------------------------------


def ours_command() -> list[str]:
    """`modelops-mcp` as clients launch it: the console script beside this Python, else `python -m`."""
    script = Path(sys.executable).parent / "modelops-mcp"
    if script.exists():
        return [str(script)]
    found = shutil.which("modelops-mcp")
    return [found] if found else [sys.executable, "-m", "modelops_mcp"]


@functools.cache
def serve_flags() -> frozenset[str]:
    """Which of the context-economy flags this build's `serve` accepts (they land while benchmarks are written)."""
    done = subprocess.run([*ours_command(), "serve", "--help"], capture_output=True, text=True, timeout=60)
    wanted = ("--discovery", "--toolsets", "--tools", "--read-only", "--output-schemas")
    return frozenset(flag for flag in wanted if re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", done.stdout))


def serve_command(*extra: str, transport: str = "stdio") -> list[str]:
    cmd = [*ours_command(), "serve"]
    if transport != "stdio":
        # Loopback and no token: the peer's HTTP server has no auth either, so both sides do the same work.
        cmd += ["--transport", transport, "--port", "0", "--no-auth"]
    return [*cmd, *extra]


def server_env(sandbox_env: Mapping[str, str], state_dir: str | Path) -> dict[str, str]:
    return {**os.environ, **sandbox_env, "MODELOPS_STATE_DIR": str(state_dir)}


# ---- subprocesses ----------------------------------------------------------------------------------------


def devnull() -> TextIO:
    """Where a server's stderr goes when only its answers matter (mcp's stdio_client wants a real file)."""
    return open(os.devnull, "w")


def stop(proc: subprocess.Popen[Any]) -> None:
    """Terminate, then kill: no benchmark leaves a process behind."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _read_available(fd: int, until: Callable[[str], bool], timeout: float, quiet: float = 0.2) -> str:
    """Read a pipe until `until(text)` holds and nothing more came for `quiet` seconds (or fail at `timeout`)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], quiet)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            text += chunk.decode(errors="replace")
        elif until(text):
            return text
    if until(text):
        return text
    raise RuntimeError(f"process output did not show what was awaited within {timeout} s: {text[-500:]!r}")


@contextlib.contextmanager
def sandbox_process(speed: float = 60.0) -> Iterator[tuple[str, dict[str, str]]]:
    """`modelops-mcp sandbox --port 0` in its own process; yields (base URL, env pointing every backend at it)."""
    proc = subprocess.Popen(
        [*ours_command(), "sandbox", "--port", "0", "--speed", str(speed)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        text = _read_available(proc.stdout.fileno(), lambda t: "export " in t, timeout=60)
        url_match = re.search(r"serving at (http://\S+)", text)
        if url_match is None:
            raise RuntimeError(f"no URL in the sandbox's banner: {text!r}")
        env = dict(re.findall(r"^export (\w+)=(\S*)$", text, flags=re.MULTILINE))
        yield url_match.group(1), env
    finally:
        stop(proc)


@contextlib.contextmanager
def http_server(cmd: Sequence[str], env: Mapping[str, str], timeout: float = 60) -> Iterator[str]:
    """A server that prints `... http://127.0.0.1:PORT/mcp` on stderr; yields that URL."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, env=env)
        try:
            deadline = time.monotonic() + timeout
            while True:
                log.seek(0)
                found = HTTP_URL.search(log.read().decode(errors="replace"))
                if found:
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"{cmd[0]} did not serve HTTP: {log.read().decode(errors='replace')[-800:]}")
                time.sleep(0.05)
            yield found.group(1)
        finally:
            stop(proc)


class StdioRpc:
    """A bare JSON-RPC client over a subprocess's stdio: nothing of a client library in what is timed."""

    def __init__(self, cmd: Sequence[str], env: Mapping[str, str]) -> None:
        self.cmd = list(cmd)
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115  (closed in close())
        self.proc = subprocess.Popen(
            self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=dict(env), bufsize=0
        )
        self._next_id = 0

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(message) + "\n").encode())

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._next_id += 1
        self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params or {}})
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{self.cmd[0]} closed stdout during {method}: {self.stderr_tail()}")
            message = json.loads(line)
            if message.get("id") != self._next_id:
                continue  # a notification (log, progress) or a request of the server's: not our answer
            if "error" in message:
                raise RuntimeError(f"{method} failed: {message['error']}")
            result: dict[str, Any] = message["result"]
            return result

    def initialize(self) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "modelops-bench", "version": "1"},
            },
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result

    def list_tools(self) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            result = self.request("tools/list", {"cursor": cursor} if cursor else {})
            tools += result.get("tools", [])
            cursor = result.get("nextCursor")
            if not cursor:
                return tools

    def stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-800:]

    def close(self) -> None:
        stop(self.proc)
        self._stderr.close()

    def __enter__(self) -> StdioRpc:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


# ---- tool lists ------------------------------------------------------------------------------------------


def wire_bytes(tool: dict[str, Any]) -> int:
    """A tool's size as it comes over the wire: validated as an MCP Tool, dumped compact."""
    from mcp import types

    dumped = types.Tool.model_validate(tool).model_dump(by_alias=True, mode="json", exclude_none=True)
    return len(json.dumps(dumped, separators=(",", ":")).encode())


def tool_sizes(tools: list[dict[str, Any]], group_of: Callable[[str], str]) -> dict[str, Any]:
    """Count, bytes, estimated tokens (bytes/4) and the largest tool: per group and in total."""

    def summary(items: list[tuple[str, int]]) -> dict[str, Any]:
        total = sum(size for _, size in items)
        largest = max(items, key=lambda item: item[1]) if items else ("", 0)
        return {
            "tools": len(items),
            "bytes": total,
            "estimated_tokens_bytes_div_4": round(total / 4),
            "largest": {"name": largest[0], "bytes": largest[1]},
        }

    sized = [(tool["name"], wire_bytes(tool)) for tool in tools]
    groups: dict[str, list[tuple[str, int]]] = {}
    for name, size in sized:
        groups.setdefault(group_of(name), []).append((name, size))
    return {"total": summary(sized), "per_group": {group: summary(items) for group, items in sorted(groups.items())}}


def prefix_group(name: str) -> str:
    """Our tools are `<backend>_<operation>`; jobs_* and ops_* come out as their own groups."""
    return name.split("_", 1)[0]


# ---- the peer --------------------------------------------------------------------------------------------


class Peer:
    """The peer (FastMCP's OpenAPI provider) ready to serve: its venv's Python and its copies of the documents."""

    def __init__(self, module: ModuleType, python: Path, docs: list[Path]) -> None:
        self.module = module
        self.python = python
        self.docs = docs
        self.version: str = getattr(module, "PEER_VERSION", "?")

    def stdio_command(self) -> list[str]:
        return list(self.module.peer_stdio_command(self.python, self.docs))

    def http_command(self) -> list[str]:
        return list(self.module.peer_http_command(self.python, self.docs, 0))

    def tool_name(self, operation_id: str, backend: str) -> str:
        return str(self.module.peer_tool_name(operation_id, backend))

    def inmemory_calls(self, env: Mapping[str, str], calls: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
        result: dict[str, Any] = self.module.peer_inmemory_calls(self.python, self.docs, env, calls, rounds)
        return result


@contextlib.contextmanager
def peer_or_none(no_peer: bool) -> Iterator[tuple[Peer | None, str | None]]:
    """(Peer, None) when bench/peer.py is there and its venv works; else (None, why not). Never raises."""
    if no_peer:
        yield None, "skipped (--no-peer)"
        return
    try:
        import peer as module  # bench/peer.py, owned by the peer helper
    except ImportError as exc:
        yield None, f"bench/peer.py not available: {exc}"
        return
    with tempfile.TemporaryDirectory(prefix="peer-docs-") as tmp:
        try:
            python = module.ensure_peer_python(quiet=True)
            docs = list(module.peer_documents(Path(tmp)))
        except Exception as exc:  # a missing registry or a broken venv: report ours alone, say why
            yield None, f"peer setup failed: {type(exc).__name__}: {exc}"
            return
        yield Peer(module, Path(python), docs), None


def operations_by_backend() -> dict[str, list[str]]:
    """operationIds of every listed (non-internal) operation in the bundled documents, per backend."""
    from modelops_mcp.schemas import bundled_documents

    found: dict[str, list[str]] = {}
    for path in bundled_documents():
        doc = json.loads(path.read_text())
        backend = doc.get("x-mcp", {}).get("backend", Path(path.name).stem)
        for item in doc.get("paths", {}).values():
            for op in item.values():
                if isinstance(op, dict) and "operationId" in op and not op.get("x-mcp", {}).get("internal"):
                    found.setdefault(backend, []).append(op["operationId"])
    return found
