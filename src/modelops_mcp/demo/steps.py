"""The demo's building blocks: printing steps, calling a tool, following a job with a live bar."""

from __future__ import annotations

import time
from typing import Any, TextIO

import anyio
import mcp_types as types
from mcp import Client

# A bounded wait: the sandbox fit takes five simulated minutes, seconds of real time at the default speed.
JOB_DEADLINE_S = 180.0
# Each jobs_wait call stays under the ~60 s tool-call timeout of common clients; the demo calls it again.
_WAIT_S = 50.0
_FRAME_S = 0.1


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
        # Over a live bar, the line first clears the bar's row; the bar redraws below it on its next frame.
        self.out.write(f"{chr(13) + ' ' * 80 + chr(13) if self.live else ''}  {text}\n")
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

    def __init__(self, printer: Printer, show_messages: bool = False) -> None:
        self.printer = printer
        self.show_messages = show_messages
        self.last_message = ""
        self.started = time.monotonic()
        self.state = "waiting"
        self.fraction: float | None = None
        self.notifications = 0

    async def on_progress(self, progress: float, total: float | None, message: str | None) -> None:
        self.notifications += 1
        self.fraction = None
        if message:
            # "job <id> (<tool>): working, 40%, state RUNNING — <the job's message>" → "working, 40%, state RUNNING"
            state, _, said = message.split("): ", 1)[-1].partition(" — ")
            self.state = state
            # Every notification has a total; only a job whose backend gives a percentage shows one.
            if total and "%" in state:
                self.fraction = progress / total
            if self.show_messages and said and said != self.last_message:
                self.last_message = said
                self.printer.line(f"  {said}")

    async def animate(self) -> None:
        tick = 0
        while True:
            self.printer.bar(self.state, time.monotonic() - self.started, tick, self.fraction)
            tick += 1
            await anyio.sleep(_FRAME_S)

    def finish(self, state: str) -> None:
        self.printer.bar(state, time.monotonic() - self.started, 0, 1.0, final=True)


def error_text(result: types.CallToolResult) -> str:
    """The readable line of an error result (its first text block; the second is the error object as JSON)."""
    return next((c.text for c in result.content if isinstance(c, types.TextContent)), "error")


async def call(client: Client, printer: Printer, tool: str, arguments: dict[str, Any], *, quiet: bool = False) -> Any:
    """One tool call, shown as a step unless `quiet` (a poll the demo repeats); its structured answer."""
    if not quiet:
        printer.step(tool, arguments)
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        raise DemoFailed(error_text(result))
    structured = result.structured_content or {}
    return structured.get("result", structured) if isinstance(structured, dict) else structured


async def follow_job(
    client: Client, printer: Printer, handle: dict[str, Any], *, show_messages: bool = False
) -> dict[str, Any]:
    """jobs_wait until the job ends (called again on each timeout), with the live bar; the final job."""
    printer.step("jobs_wait", {"job_id": handle["id"], "timeout_s": _WAIT_S})
    follow = Follow(printer, show_messages)
    with anyio.fail_after(JOB_DEADLINE_S):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow.animate)
            while True:
                result = await client.call_tool(
                    "jobs_wait", {"job_id": handle["id"], "timeout_s": _WAIT_S}, progress_callback=follow.on_progress
                )
                if result.is_error or not isinstance(result.structured_content, dict):
                    raise DemoFailed(error_text(result))
                if not result.structured_content["timed_out"]:
                    break
            tg.cancel_scope.cancel()
    final: dict[str, Any] = result.structured_content["job"]
    follow.finish(f"{final['status']}, state {final['state']}")
    printer.line(f"{follow.notifications} progress notifications received while waiting")
    return final
