"""The peer for issue 6's side-by-side figures: FastMCP's OpenAPI provider on the same documents.

FastMCP lives in its own virtualenv (bench/.peer-venv, not committed) so its dependencies never touch
ours; this module only uses the standard library, so it imports from either environment. The scripts
that run inside the peer venv are `peer_server.py` (stdio or Streamable HTTP) and `peer_inmemory.py`
(timed calls through an in-memory client).

    python bench/peer.py            # make the venv if missing, write the documents, list the tools

What the peer is, so its figures can be read fairly:
- One process, one `FastMCP`, one `OpenAPIProvider` per document added with `namespace=<backend>`
  (FastMCP's own API for several OpenAPI sources in one server); default route maps, so every
  operation is a tool, and FastMCP's defaults otherwise (output schemas kept, stateful HTTP with SSE).
- Same backends, URLs and credential headers as ours, from the same environment variables; one client
  per backend, reused across calls; log level warning as ours; no banner, no update check.
- It does less than ours per call (arguments are not checked against the input schema: a wrong type
  or enum value is sent as is; no jobs; no redaction), so per-call figures favour it.
- It cannot follow 202/303 job patterns (a 3xx answer is an error; 202 bodies come back as they are),
  page with `next`, start a Training Module session for the caller (`key` is an argument), or upload
  local files (multipart file parts are `format: binary` string arguments the model would inline).
- Over HTTP it forwards the MCP request's own headers (user-agent, mcp-protocol-version, ...) to the
  backend on every call, as FastMCP always does.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PEER_VERSION = "4.2.3"
BENCH = Path(__file__).resolve().parent
VENV = BENCH / ".peer-venv"
SERVER_SCRIPT = BENCH / "peer_server.py"
INMEMORY_SCRIPT = BENCH / "peer_inmemory.py"
SCHEMAS = BENCH.parent / "src" / "modelops_mcp" / "schemas"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _installed(venv: Path) -> bool:
    # The dist-info folder is written last by pip, so its presence means a finished install.
    return _venv_python(venv).exists() and any(venv.glob(f"lib/python*/site-packages/fastmcp-{PEER_VERSION}.dist-info"))


def run_step(argv: list[str], quiet: bool) -> None:
    """Run one setup step (a venv made, a pip install); its stderr in the error if it fails."""
    # Quiet keeps pip's chatter (index warnings included) off the bench's output, but not out of an error.
    done = subprocess.run(argv, capture_output=quiet, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed ({done.returncode}): {(done.stderr or '')[-2000:]}")


def ensure_peer_python(quiet: bool = True) -> Path:
    """The peer venv's python; creates bench/.peer-venv with fastmcp==PEER_VERSION if it is missing.

    Built in a temporary folder and renamed into place, under a lock, so an interrupted or concurrent
    run never leaves a half-made venv that looks finished.
    """
    if _installed(VENV):
        return _venv_python(VENV)
    with open(BENCH / ".peer-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed(VENV):
            return _venv_python(VENV)
        tmp = Path(tempfile.mkdtemp(prefix=".peer-venv.", dir=BENCH))
        try:
            run_step([sys.executable, "-m", "venv", str(tmp)], quiet)
            pip = [str(_venv_python(tmp)), "-m", "pip", "install", "--disable-pip-version-check"]
            run_step([*pip, *(["-q"] if quiet else []), f"fastmcp=={PEER_VERSION}"], quiet)
            shutil.rmtree(VENV, ignore_errors=True)  # a broken leftover without fastmcp
            tmp.rename(VENV)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return _venv_python(VENV)


def installed_version(python: Path) -> str:
    """The FastMCP version the peer venv actually holds: what the figures measured, recorded in each JSON."""
    done = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('fastmcp'))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout.strip() or PEER_VERSION


def peer_documents(dest_dir: Path) -> list[Path]:
    """Copies of the bundled OpenAPI documents for the peer, one per backend.

    Operations marked `x-mcp: {internal: true}` are ours only (never listed as tools: e.g. DataRobot's
    `/status/{id}/`, which our job tracker follows), so they are dropped and both sides serve the same
    operations. Everything else is left as it is: the peer reads the same schemas and descriptions.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(SCHEMAS.glob("*.json")):
        doc = json.loads(source.read_text())
        for path in list(doc.get("paths", {})):
            item = doc["paths"][path]
            for method in METHODS:
                if (item.get(method, {}).get("x-mcp") or {}).get("internal"):
                    del item[method]
            if not any(method in item for method in METHODS):
                del doc["paths"][path]
        target = dest_dir / source.name
        target.write_text(json.dumps(doc))
        written.append(target)
    return written


def peer_stdio_command(python: Path, docs: list[Path]) -> list[str]:
    """argv serving the peer over stdio; pass the sandbox env (`modelops-mcp sandbox`'s exports) as env=."""
    return [str(python), str(SERVER_SCRIPT), *map(str, docs)]


def peer_http_command(python: Path, docs: list[Path], port: int = 0) -> list[str]:
    """argv serving Streamable HTTP on 127.0.0.1; prints `... serving Streamable HTTP at http://127.0.0.1:P/mcp`
    on stderr, as ours does."""
    return [str(python), str(SERVER_SCRIPT), "--transport", "http", "--port", str(port), *map(str, docs)]


def _slugify(text: str) -> str:
    # FastMCP's OpenAPIProvider._generate_default_name and _slugify, restated.
    slug = re.sub(r"[\s\-\.]+", "_", text)
    slug = re.sub(r"[^a-zA-Z0-9_]", "", slug)
    return re.sub(r"_+", "_", slug).strip("_")


def peer_tool_name(operation_id: str, backend: str) -> str:
    """The peer's name for an operation: `<backend>_<operationId>` (namespace + FastMCP's default name:
    the operationId up to any `__`, slugified, cut at 56 characters). No collisions in our documents,
    so FastMCP's `_2` suffixes never apply."""
    return f"{backend}_{_slugify(operation_id.split('__')[0])[:56]}"


def peer_inmemory_calls(
    python: Path,
    docs: list[Path],
    env: Mapping[str, str],
    calls: list[dict[str, Any]],
    rounds: int,
    *,
    warmup: int = 10,
    client: str = "mcp",
    max_seconds: float = 600.0,
) -> dict[str, Any]:
    """`rounds` sequential calls of each {"operation_id", "backend", "arguments"} on the peer in memory,
    after `warmup` untimed rounds, round-robin across the calls; {operation_id: {p50_ms, p99_ms, n, errors}}.

    `client="mcp"` (default) times through the mcp SDK's `Client(..., mode="legacy")`, the same client
    as our in-memory figures; `client="fastmcp"` uses `fastmcp.Client`. Stops early after `max_seconds`.
    """
    job = {
        "docs": [str(d) for d in docs],
        "rounds": rounds,
        "warmup": warmup,
        "client": client,
        "max_seconds": max_seconds,
        "calls": [
            {
                "key": c["operation_id"],
                "tool": peer_tool_name(c["operation_id"], c["backend"]),
                "arguments": c["arguments"],
            }
            for c in calls
        ],
    }
    done = subprocess.run(
        [str(python), str(INMEMORY_SCRIPT)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=max_seconds + 120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"peer_inmemory.py failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> None:
    python = ensure_peer_python(quiet=False)
    with tempfile.TemporaryDirectory() as tmp:
        docs = peer_documents(Path(tmp))
        listing = subprocess.run(
            [str(python), "-c", _LIST_TOOLS, *map(str, docs)], capture_output=True, text=True, check=True
        )
    print(listing.stdout, end="")


# Counts the peer's tools per namespace without serving (a quick check that all documents load).
_LIST_TOOLS = f"""
import sys, asyncio, collections
sys.path.insert(0, {str(BENCH)!r})
from pathlib import Path
from peer_server import build_server
tools = asyncio.run(build_server([Path(p) for p in sys.argv[1:]]).list_tools())
print(len(tools), 'tools', dict(collections.Counter(t.name.split('_')[0] for t in tools)))
"""

if __name__ == "__main__":
    main()
