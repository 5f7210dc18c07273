"""Local emulators of the backends, served on loopback, with a simulated clock and a request log.

Stands apart from the rest of ``modelops_mcp``: nothing here imports the server, and the server reaches the
sandbox only over HTTP (``Sandbox.env`` gives it the base URLs and keys).
"""

from .app import CONTROL_PREFIX, DEFAULT_SPEED, EMULATORS, SPEED_ENV, Sandbox
from .clock import SimClock
from .emulator import SANDBOX_API_KEY, Emulator, EmulatorContext, EmulatorSpec
from .faults import Fault, FaultPlan
from .log import LoggedRequest, RequestLog
from .runner import run_sandbox_forever, serve_sandbox

__all__ = [
    "CONTROL_PREFIX",
    "DEFAULT_SPEED",
    "EMULATORS",
    "SANDBOX_API_KEY",
    "SPEED_ENV",
    "Emulator",
    "EmulatorContext",
    "EmulatorSpec",
    "Fault",
    "FaultPlan",
    "LoggedRequest",
    "RequestLog",
    "Sandbox",
    "SimClock",
    "run_sandbox_forever",
    "serve_sandbox",
]
