"""Files benchmark: an upload and a download through MCP tools next to the same transfer made directly with
httpx, and how much memory the server's process needs to stream an upload of a large file.

    python bench/files_bench.py [--mib 32] [--rounds 5] [--out bench/results/files.json]

The sandbox runs as its own process (`modelops-mcp sandbox`), so its parsing of the uploaded dataset neither
competes for this process's memory figures nor counts in them. Times are medians; the figures that matter
are the ratios (tool / direct) and the peak of Python allocations while streaming, next to the file size.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from statistics import median
from typing import Any

import anyio
import httpx
from mcp import Client

from modelops_mcp.app.runtime import open_runtime
from modelops_mcp.settings.config import Limits, Settings
from modelops_mcp.surface.server import build_server

MiB = 1024 * 1024


def write_dataset(path: Path, size: int) -> None:
    row = b"this is one review of a product that somebody wrote at some length,positive\n"
    with path.open("wb") as out:
        out.write(b"text,label\n")
        written = 0
        while written < size:
            out.write(row)
            written += len(row)


@contextlib.contextmanager
def sandbox_process() -> Iterator[dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelops_mcp", "sandbox", "--port", "0", "--speed", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        env: dict[str, str] = {}
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        while "PIECES_OS_URL" not in env and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if match := re.match(r"export (\w+)=(\S+)", line):
                env[match.group(1)] = match.group(2)
        if "TRAINING_MODULE_URL" not in env:
            raise RuntimeError("the sandbox did not start")
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def direct_upload(http: httpx.AsyncClient, base: str, key: str, train: Path, test: Path) -> None:
    with train.open("rb") as a, test.open("rb") as b:
        files = {"train_file": (train.name, a, "text/csv"), "test_file": (test.name, b, "text/csv")}
        response = await http.post(f"{base}/upload_dataset/{key}", files=files)
    response.raise_for_status()


async def direct_download(http: httpx.AsyncClient, base: str, key: str, target: Path) -> str:
    digest = hashlib.sha256()
    async with http.stream("GET", f"{base}/download_model/{key}") as response:
        response.raise_for_status()
        with target.open("wb") as out:
            async for chunk in response.aiter_bytes(256 * 1024):
                digest.update(chunk)
                out.write(chunk)
    return digest.hexdigest()


async def run(mib: float, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, sandbox_process() as env:
        work = Path(tmp)
        train, test = work / "train.csv", work / "test.csv"
        write_dataset(train, int(mib * MiB))
        write_dataset(test, 64 * 1024)
        base = env["TRAINING_MODULE_URL"]
        settings = Settings(state_dir=work / "state", limits=Limits(), allow_dirs=[work], output_dir=work / "out")
        # One direct client for the whole run, like the server's one client per backend: both reuse connections.
        async with (
            open_runtime(settings, env) as runtime,
            Client(build_server(runtime), mode="legacy") as client,
            httpx.AsyncClient(timeout=120) as http,
        ):
            started = await client.call_tool("training_start_session", {})
            assert not started.is_error, started
            key = (started.structured_content or {})["key"]
            arguments = {"train_file": str(train), "test_file": str(test)}

            upload_tool, upload_direct = [], []
            for _ in range(rounds):
                t0 = time.perf_counter()
                result = await client.call_tool("training_upload_dataset", arguments)
                upload_tool.append(time.perf_counter() - t0)
                assert not result.is_error, result
                t0 = time.perf_counter()
                await direct_upload(http, base, key, train, test)
                upload_direct.append(time.perf_counter() - t0)

            # The allocation peak of one streamed upload, measured on its own (tracemalloc slows everything).
            tracemalloc.start()
            tracemalloc.reset_peak()
            result = await client.call_tool("training_upload_dataset", arguments)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert not result.is_error, result

            # Train quickly on a small dataset so there is a model to download.
            small = {"train_file": str(test), "test_file": str(test)}
            for tool, args in (("training_update_config", {"epochs": 1}), ("training_upload_dataset", small)):
                assert not (await client.call_tool(tool, args)).is_error
            advance = base.rsplit("/", 1)[0] + "/_sandbox/clock/advance"
            assert not (await client.call_tool("training_preprocess", {})).is_error
            await http.post(advance, json={"seconds": 10})
            assert not (await client.call_tool("training_start_training", {})).is_error
            await http.post(advance, json={"seconds": 30})

            download_tool, download_direct = [], []
            digest = ""
            for index in range(rounds):
                t0 = time.perf_counter()
                result = await client.call_tool("training_download_model", {})
                download_tool.append(time.perf_counter() - t0)
                assert not result.is_error, result
                digest = (result.structured_content or {})["sha256"]
                t0 = time.perf_counter()
                direct = await direct_download(http, base, key, work / f"direct-{index}.zip")
                download_direct.append(time.perf_counter() - t0)
                assert direct == digest
            archive_size = (result.structured_content or {})["size"]

    up_tool, up_direct = median(upload_tool), median(upload_direct)
    down_tool, down_direct = median(download_tool), median(download_direct)
    return {
        "upload": {
            "file_mib": mib,
            "rounds": rounds,
            "tool_s": round(up_tool, 4),
            "direct_httpx_s": round(up_direct, 4),
            "ratio_tool_to_direct": round(up_tool / up_direct, 3),
            "tool_mib_per_s": round(mib / up_tool, 1),
            "peak_python_alloc_mib": round(peak / MiB, 2),
            "peak_alloc_to_file_size": round(peak / (mib * MiB), 4),
        },
        "download": {
            "file_bytes": archive_size,
            "rounds": rounds,
            "tool_s": round(down_tool, 4),
            "direct_httpx_s": round(down_direct, 4),
            "ratio_tool_to_direct": round(down_tool / down_direct, 3),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=float, default=32.0, help="size of the uploaded training file")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "files.json")
    args = parser.parse_args()
    results = {
        "benchmark": "files",
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpus",
        **anyio.run(run, args.mib, args.rounds),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
