"""`modelops-mcp demo`: the Caila fine-tune journey, driven by a real MCP client over stdio against the sandbox."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from typing import Any, TextIO

import anyio
import mcp_types as types
from mcp import Client
from mcp.client.stdio import StdioServerParameters

# A bounded wait: the sandbox fit takes five simulated minutes, seconds of real time at the default speed.
_JOB_DEADLINE_S = 180.0
# Each jobs_wait call stays under the ~60 s tool-call timeout of common clients; the demo calls it again.
_WAIT_S = 50.0
_FRAME_S = 0.1
# The sandbox is local, so the server may check the job's status more often than it would a real backend.
_POLL_INTERVAL = "0.25"


class DemoFailed(Exception):
    pass


class Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.live = out.isatty()

    def step(self, tool: str, arguments: dict[str, Any]) -> None:
        shown = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
        self.out.write(f"\n→ {tool}({shown})\n")
        self.out.flush()

    def line(self, text: str) -> None:
        self.out.write(f"  {text}\n")
        self.out.flush()

    def bar(self, state: str, elapsed: float, tick: int, fraction: float | None, final: bool = False) -> None:
        width = 24
        if final:
            cells = "#" * width
        elif fraction is not None:
            done = round(fraction * width)
            cells = "#" * done + "." * (width - done)
        else:
            # The backend reports no percentage (Caila does not), so the bar shows activity, not a fraction.
            head = tick % width
            cells = "".join("#" if abs(i - head) < 3 else "." for i in range(width))
        text = f"  [{cells}] {state:<44} {elapsed:5.1f}s"
        if self.live:
            self.out.write("\r" + text + ("\n" if final else ""))
        elif final or tick % 10 == 0:
            self.out.write(text + "\n")
        self.out.flush()


class Follow:
    """The live bar while jobs_wait runs: notifications set what it shows, a local timer animates it."""

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self.started = time.monotonic()
        self.state = "waiting"
        self.fraction: float | None = None
        self.notifications = 0

    async def on_progress(self, progress: float, total: float | None, message: str | None) -> None:
        self.notifications += 1
        self.fraction = progress / total if total else None
        if message:
            # "job <id> (<tool>): working, state RUNNING" → "working, state RUNNING"
            self.state = message.split("): ", 1)[-1]

    async def animate(self) -> None:
        tick = 0
        while True:
            self.printer.bar(self.state, time.monotonic() - self.started, tick, self.fraction)
            tick += 1
            await anyio.sleep(_FRAME_S)

    def finish(self, state: str) -> None:
        self.printer.bar(state, time.monotonic() - self.started, 0, 1.0, final=True)


async def _call(client: Client, printer: Printer, tool: str, arguments: dict[str, Any]) -> Any:
    printer.step(tool, arguments)
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        text = next((c.text for c in result.content if isinstance(c, types.TextContent)), "error")
        raise DemoFailed(text)
    structured = result.structured_content or {}
    return structured.get("result", structured) if isinstance(structured, dict) else structured


async def journey(client: Client, printer: Printer, dataset_name: str) -> None:
    datasets = await _call(client, printer, "caila_list_datasets", {"account": "demo"})
    printer.line(", ".join(f"{d['name']} (id {d['id']['datasetId']})" for d in datasets))
    dataset = next((d for d in datasets if d["name"] == dataset_name), None)
    if dataset is None:
        raise DemoFailed(f"no dataset named {dataset_name!r} in the sandbox")

    name = f"my-classifier-{int(time.time())}"
    service = await _call(
        client, printer, "caila_create_derived_service", {"account": "demo", "model": "text-classifier", "name": name}
    )
    account, model = str(service["id"]["accountId"]), str(service["id"]["modelId"])
    printer.line(f"created {service['modelName']!r}: account {account}, model {model}")

    configs = await _call(client, printer, "caila_list_fit_configs", {"account": account, "model": model})
    config = next((c for c in configs if c.get("isDefault")), configs[0])
    for c in configs:
        printer.line(f"{c['name']}{' (default)' if c.get('isDefault') else ''}: {c['config']}")

    job = await _call(
        client,
        printer,
        "caila_fit_service",
        {
            "account": account,
            "model": model,
            "datasetId": dataset["id"]["datasetId"],
            "configId": config["id"]["configId"],
        },
    )
    handle = job["job"]
    printer.line(f"Caila job {job['jobId']} started ({job['state']}); followed as {handle['uri']}")

    printer.step("jobs_wait", {"job_id": handle["id"], "timeout_s": _WAIT_S})
    follow = Follow(printer)
    with anyio.fail_after(_JOB_DEADLINE_S):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow.animate)
            while True:
                result = await client.call_tool(
                    "jobs_wait", {"job_id": handle["id"], "timeout_s": _WAIT_S}, progress_callback=follow.on_progress
                )
                if result.is_error or not isinstance(result.structured_content, dict):
                    raise DemoFailed(json.dumps(result.structured_content))
                if not result.structured_content["timed_out"]:
                    break
            tg.cancel_scope.cancel()
    final = result.structured_content["job"]
    follow.finish(f"{final['status']}, state {final['state']}")
    printer.line(f"{follow.notifications} progress notifications received while waiting")
    if final["status"] != "completed":
        raise DemoFailed(f"the fit {final['status']}: {final.get('message') or 'no message'}")
    printer.line(f"fitted: service {name!r} is ready to use")


async def run_demo(speed: float, dataset: str = "support-tickets", out: TextIO | None = None) -> int:
    printer = Printer(out or sys.stdout)
    with tempfile.TemporaryDirectory(prefix="modelops-demo-") as state_dir:
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "modelops_mcp", "serve", "--sandbox", "--poll-interval", _POLL_INTERVAL],
            env={**os.environ, "MODELOPS_SANDBOX_SPEED": str(speed), "MODELOPS_STATE_DIR": state_dir},
        )
        started = time.monotonic()
        printer.out.write(f"modelops-mcp demo: the Caila fine-tune journey on the local sandbox ({speed:g}x)\n")
        failure: str | None = None
        async with Client(params, mode="legacy") as client:
            info = client.server_info
            printer.line(f"connected over stdio to {info.name if info else 'server'} {info.version if info else ''}")
            # Caught inside the client's block: leaving it by an exception would wrap it in an ExceptionGroup.
            try:
                await journey(client, printer, dataset)
            except DemoFailed as exc:
                failure = str(exc)
            except TimeoutError:
                failure = f"the job did not finish within {_JOB_DEADLINE_S:g}s"
        if failure is not None:
            printer.out.write(f"\ndemo failed: {failure}\n")
            return 1
        printer.out.write(f"\ndone in {time.monotonic() - started:.1f}s\n")
    return 0
