"""`modelops-mcp demo`: each backend's journey, driven by a real MCP client over stdio against the sandbox."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import TextIO

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from modelops_mcp.demo.journeys import JOURNEYS, DemoOptions, demo_data_dir
from modelops_mcp.demo.steps import JOB_DEADLINE_S, DemoFailed, Printer

# The sandbox is local, so the server may check the job's status more often than it would a real backend.
_POLL_INTERVAL = "0.25"


async def run_demo(
    speed: float,
    dataset: str = "support-tickets",
    out: TextIO | None = None,
    backends: Sequence[str] = tuple(JOURNEYS),
) -> int:
    printer = Printer(out or sys.stdout)
    options = DemoOptions(dataset=dataset, data_dir=demo_data_dir(), model_dir=demo_data_dir("custom_model"))
    with tempfile.TemporaryDirectory(prefix="modelops-demo-") as state_dir:
        params = StdioServerParameters(
            command=sys.executable,
            args=[
                *("-m", "modelops_mcp", "serve", "--sandbox", "--poll-interval", _POLL_INTERVAL),
                *("--allow-dir", str(options.data_dir)),
                *("--allow-dir", str(options.model_dir)),
            ],
            env={**os.environ, "MODELOPS_SANDBOX_SPEED": str(speed), "MODELOPS_STATE_DIR": state_dir},
        )
        started = time.monotonic()
        names = ", ".join(backends)
        printer.out.write(f"modelops-mcp demo: {names} on the local sandbox ({speed:g}x)\n")
        outcomes: dict[str, tuple[bool, str]] = {}
        async with Client(params, mode="legacy") as client:
            info = client.server_info
            printer.line(f"connected over stdio to {info.name if info else 'server'} {info.version if info else ''}")
            # Caught inside the client's block: leaving it by an exception would wrap it in an ExceptionGroup.
            # A failed journey does not stop the others: each backend is independent, and the summary says which.
            for backend in backends:
                printer.out.write(f"\n== {backend} ==\n")
                try:
                    outcomes[backend] = (True, await JOURNEYS[backend](client, printer, options))
                except DemoFailed as exc:
                    outcomes[backend] = (False, str(exc))
                except TimeoutError:
                    outcomes[backend] = (False, f"the job did not finish within {JOB_DEADLINE_S:g}s")
        printer.out.write(summary(outcomes))
        failures = [f"{backend}: {said}" for backend, (ok, said) in outcomes.items() if not ok]
        if failures:
            printer.out.write("".join(f"demo failed: {failure}\n" for failure in failures))
            return 1
        printer.out.write(
            f"done in {time.monotonic() - started:.1f}s (downloads were saved under {state_dir}, now removed)\n"
        )
    return 0


def summary(outcomes: dict[str, tuple[bool, str]]) -> str:
    """What each journey proved (or why it failed), one line each."""
    width = max((len(backend) for backend in outcomes), default=0)
    lines = [f"  {'ok  ' if ok else 'FAIL'} {backend:<{width}}  {said}\n" for backend, (ok, said) in outcomes.items()]
    passed = sum(ok for ok, _ in outcomes.values())
    return f"\nsummary: {passed} of {len(outcomes)} journeys passed\n{''.join(lines)}"
