"""Event-loop stall: while one MCP session receives a ~5 MB list answer, how long does another session wait?

    python bench/stall_bench.py [--mb 5] [--calls 3] [--rest-seconds 3] [--max-pings 20000] [--quick]
                                [--out bench/results/stall.json]

One `modelops-mcp serve --transport http` process; its DataRobot endpoint is a stub (a plain HTTP server in
its own process) that answers `GET .../customModels/` with `--mb` megabytes of JSON: the sandbox's own seeded
custom models, repeated with fresh ids (so the answer is what the sandbox would send, only longer). Every
other backend points at a sandbox process. Session A runs in a process of its own (so that its client
parsing 5 MB shares nothing with the session measured) and calls `datarobot_list_custom_models` `--calls`
times; session B, in this process, sends `ping` back to back the whole time. B's round trips are split into
those that overlap one of A's calls ("during") and those measured before A starts ("at rest"): p50 / p99 /
max of each. The target (issue 18 item 5) is B's p99 during A's call under 50 ms.

Then the same measurement against `bench/floor_server.py` (the bare SDK server making the same GET and
returning the same JSON; `--no-floor` skips it): `floor_p99_ms` is what the SDK alone gives B on this machine.

Bounded in count and in time: at most `--max-pings` pings, `--rest-seconds` at rest, `--calls` calls (each
under the server's read timeout). The machine's other load shows in the figures; `machine.load_average_1m`
says how much there was.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import common
import floor_server
import httpx
from mcp import Client
from mcp_types import JSONRPCResponse
from sse_starlette.event import ServerSentEvent

TOOL = "datarobot_list_custom_models"
PREFIX = "/datarobot/api/v2"
TARGET_P99_MS = 50.0


# ---- the stub: one big answer over plain HTTP, in its own process ---------------------------------------


def serve_stub(body_file: str) -> None:
    """`--stub FILE`: answer every GET with FILE's bytes as JSON; print the port, serve until killed."""
    body = Path(body_file).read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


@contextlib.contextmanager
def stub_process(body_file: Path) -> Iterator[int]:
    """The stub in its own process; yields its port."""
    stub = subprocess.Popen(
        [sys.executable, __file__, "--stub", str(body_file)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    try:
        assert stub.stdout is not None
        yield int(stub.stdout.readline())
    finally:
        common.stop(stub)


def big_answer(sandbox_env: dict[str, str], megabytes: float) -> bytes:
    """The sandbox's custom-model list, its rows repeated (fresh ids and names) to about `megabytes` MB."""
    page = httpx.get(
        sandbox_env["DATAROBOT_ENDPOINT"] + "/customModels/",
        headers={"Authorization": f"Bearer {sandbox_env['DATAROBOT_API_TOKEN']}"},
        timeout=30,
    ).json()
    seed = page["data"]
    if not seed:
        raise RuntimeError("the sandbox lists no custom models to repeat")
    row_bytes = sum(len(json.dumps(row)) for row in seed) / len(seed)
    count = max(1, round(megabytes * 1e6 / (row_bytes + 2)))
    rows = []
    for i in range(count):
        row = dict(seed[i % len(seed)])
        row["id"] = f"{i:024x}"
        row["name"] = f"{row.get('name', 'model')} #{i}"
        rows.append(row)
    return json.dumps({**page, "count": count, "totalCount": count, "next": None, "data": rows}).encode()


# ---- session A: the big call, in its own process --------------------------------------------------------


def _rpc(client: httpx.Client, url: str, message: dict[str, Any], session: str | None) -> httpx.Response:
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": common.PROTOCOL_VERSION}
    if session:
        headers["Mcp-Session-Id"] = session
    response = client.post(url, json=message, headers=headers)
    response.raise_for_status()
    return response


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC answer in a JSON or an SSE (`data:` lines) body."""
    if response.headers.get("content-type", "").startswith("application/json"):
        message: dict[str, Any] = response.json()
        return message
    for event in response.text.split("\n\n"):
        data = "\n".join(line[5:].lstrip() for line in event.splitlines() if line.startswith("data:"))
        if data:
            found = json.loads(data)
            if "id" in found:
                return dict(found)
    raise RuntimeError(f"no JSON-RPC answer in {response.text[:300]!r}")


def call_big(url: str, calls: int) -> None:
    """`--caller URL`: `calls` calls of the list tool; prints each call's monotonic start and end as JSON.

    A bare Streamable HTTP client: the mcp SDK's refuses a server-sent event over 1 MiB, and this one is 5 MB.
    """
    done: list[dict[str, Any]] = []
    with httpx.Client(timeout=120) as client:
        init = {
            "protocolVersion": common.PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "stall-bench", "version": "1"},
        }
        opened = _rpc(client, url, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init}, None)
        session = opened.headers.get("mcp-session-id")
        _answer(opened)
        _rpc(client, url, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
        print(json.dumps({"ready": time.monotonic()}), flush=True)
        for n in range(calls):
            call = {"jsonrpc": "2.0", "id": n + 1, "method": "tools/call", "params": {"name": TOOL, "arguments": {}}}
            start = time.monotonic()
            response = _rpc(client, url, call, session)
            end = time.monotonic()
            result = _answer(response)["result"]
            text = "".join(part.get("text", "") for part in result.get("content", []))
            structured = result.get("structuredContent") or {}
            done.append(
                {
                    "start": start,
                    "end": end,
                    "is_error": bool(result.get("isError")),
                    "rows": len(structured.get("data", [])) if isinstance(structured, dict) else 0,
                    "text_chars": len(text),
                    "result_bytes": len(response.content),
                }
            )
    print(json.dumps({"calls": done}), flush=True)


# ---- session B: pings, and the measurement --------------------------------------------------------------


def summary(samples: list[float]) -> dict[str, Any]:
    stats = common.stats_ms(samples)
    if samples:
        stats["max_ms"] = round(max(samples) * 1000, 3)
    return stats


async def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    rest: list[float] = []
    pings: list[tuple[float, float]] = []  # (start, end), monotonic
    async with Client(url, mode="legacy") as client:
        await client.send_ping()
        deadline = time.monotonic() + args.rest_seconds
        while time.monotonic() < deadline and len(rest) < args.max_pings:
            t0 = time.monotonic()
            await client.send_ping()
            rest.append(time.monotonic() - t0)
        errors = tempfile.TemporaryFile()  # noqa: SIM115  (closed below)
        caller = await anyio.open_process(
            [sys.executable, __file__, "--caller", url, "--calls", str(args.calls)],
            stderr=errors,
        )
        out = bytearray()

        async def read_caller() -> None:
            assert caller.stdout is not None
            async for chunk in caller.stdout:
                out.extend(chunk)

        async with caller, anyio.create_task_group() as tg:
            tg.start_soon(read_caller)
            limit = time.monotonic() + args.calls * 130 + 60
            while caller.returncode is None and len(pings) < args.max_pings and time.monotonic() < limit:
                t0 = time.monotonic()
                await client.send_ping()
                pings.append((t0, time.monotonic()))
            await caller.wait()
    errors.seek(0)
    why = errors.read().decode(errors="replace")[-1500:]
    errors.close()
    lines = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    calls = next((line["calls"] for line in lines if "calls" in line), None)
    if calls is None:
        raise RuntimeError(f"session A reported no calls: {out.decode()[-300:]!r} {why}")
    during = [end - start for start, end in pings if any(start < c["end"] and end > c["start"] for c in calls)]
    during_stats = summary(during)
    return {
        "at_rest": summary(rest),
        "during_big_call": during_stats,
        "big_calls": {
            "n": len(calls),
            "errors": sum(c["is_error"] for c in calls),
            "rows": calls[0]["rows"],
            "text_chars": calls[0]["text_chars"],
            "result_bytes": calls[0]["result_bytes"],
            "seconds": [round(c["end"] - c["start"], 3) for c in calls],
        },
        "target_p99_ms": TARGET_P99_MS,
        "target_met": during_stats.get("p99_ms", 0.0) < TARGET_P99_MS,
    }


def sdk_floor(body: bytes, text_chars: int, rounds: int = 3) -> dict[str, Any]:
    """What the SDK's Streamable HTTP transport does on the event loop with this answer, whatever the server:
    the JSON-RPC message encoded (`model_dump_json`) and framed as a server-sent event (sse-starlette), each
    one stretch without an await. The best of `rounds`, in this process: the floor under B's p99 here."""
    result = {"content": [{"type": "text", "text": "x" * text_chars}], "structuredContent": json.loads(body)}
    dump, frame = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        data = JSONRPCResponse(jsonrpc="2.0", id=1, result=result).model_dump_json(by_alias=True, exclude_unset=True)
        t1 = time.perf_counter()
        ServerSentEvent(data=data, event="message").encode()
        t2 = time.perf_counter()
        dump.append(t1 - t0)
        frame.append(t2 - t1)
    return {"model_dump_json_ms": round(min(dump) * 1000, 1), "sse_encode_ms": round(min(frame) * 1000, 1)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.quick:
        args.mb, args.calls, args.rest_seconds = min(args.mb, 0.5), 1, 0.5
    results: dict[str, Any] = {"benchmark": "stall", "machine": common.machine(), "tool": TOOL}
    with (
        common.sandbox_process() as (_, env),
        tempfile.TemporaryDirectory(prefix="bench-stall-") as tmp,
    ):
        body = big_answer(env, args.mb)
        body_file = Path(tmp) / "answer.json"
        body_file.write_bytes(body)
        results["answer_bytes"] = len(body)
        with stub_process(body_file) as port:
            server_env = {**common.server_env(env, Path(tmp) / "state")}
            server_env["DATAROBOT_ENDPOINT"] = f"http://127.0.0.1:{port}{PREFIX}"
            command = common.serve_command(transport="http")
            if args.profile:
                # py-spy writes its profile on SIGINT (not on the SIGTERM that stops the server).
                command = [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "-r",
                    "250",
                    "-f",
                    args.profile_format,
                    "-o",
                    args.profile,
                    "--",
                    *command,
                ]
            with common.http_server(command, server_env) as url:
                results.update(await measure(url, args))
                if args.profile:
                    _interrupt_profiler(args.profile)
            if not args.no_floor:
                # The same measurement against the bare SDK server making the same GET (bench/floor_server.py):
                # what the SDK's transport alone does to B while this answer goes out, on this machine now.
                with common.http_server(floor_server.command("http"), server_env) as url:
                    floor = await measure(url, args)
                results["floor"] = {key: floor[key] for key in ("at_rest", "during_big_call", "big_calls")}
                results["floor_p99_ms"] = floor["during_big_call"].get("p99_ms")
        results["sdk_transport_on_loop"] = sdk_floor(body, results["big_calls"]["text_chars"])
    return results


def _interrupt_profiler(out: str) -> None:
    """SIGINT to the py-spy this run started (found by its output path), then wait for it to write."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if argv and argv[0].endswith(b"py-spy") and out.encode() in argv:
                os.kill(int(pid), signal.SIGINT)
                deadline = time.monotonic() + 30
                while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                    time.sleep(0.1)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--stub":
        serve_stub(sys.argv[2])
        return
    if len(sys.argv) >= 3 and sys.argv[1] == "--caller":
        call_big(sys.argv[2], int(sys.argv[4]) if len(sys.argv) >= 5 else 1)
        return
    p = common.parser("stall", __doc__)
    p.add_argument("--mb", type=float, default=5.0, help="size of the list answer in MB (default 5)")
    p.add_argument("--calls", type=int, default=3, help="how many big calls session A makes (default 3)")
    p.add_argument("--rest-seconds", type=float, default=3.0, help="pings at rest for this long (default 3)")
    p.add_argument("--max-pings", type=int, default=20000, help="at most this many pings in each phase")
    p.add_argument("--no-floor", action="store_true", help="skip the same run against bench/floor_server.py")
    p.add_argument("--profile", help="record the server with py-spy (pip install py-spy) into this file")
    p.add_argument("--profile-gil", action="store_true", help="sample only the thread holding the GIL")
    p.add_argument("--profile-format", default="raw", help="py-spy's output format (raw, speedscope, flamegraph)")
    args = p.parse_args()
    # `ping` is what B measures: the lightest request there is, whatever the SDK thinks of its future.
    warnings.filterwarnings("ignore", message="ping is removed")
    common.write_results(anyio.run(run, args), args.out)


if __name__ == "__main__":
    main()
