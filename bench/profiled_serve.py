"""`modelops-mcp serve` with a cProfile that signals switch on and off: SIGUSR1 starts profiling, SIGUSR2 stops it
and writes the profile to $BENCH_PROFILE_OUT. bench/profile_call.py uses it to profile warmed-up calls only,
without the process's start (imports, the catalog) or its stop.

    BENCH_PROFILE_OUT=/tmp/x.prof python bench/profiled_serve.py serve [serve's flags]
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
from types import FrameType

from modelops_mcp.cli import main

PROFILE = cProfile.Profile()


def start(signum: int, frame: FrameType | None) -> None:
    PROFILE.enable()


def stop(signum: int, frame: FrameType | None) -> None:
    PROFILE.disable()
    PROFILE.dump_stats(os.environ["BENCH_PROFILE_OUT"])


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    sys.exit(main(sys.argv[1:]))
