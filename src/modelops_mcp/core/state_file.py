"""A small JSON file in the state dir, replaced whole and atomically.

A reader (a restarted server) sees the old file or the new one, never half of one. mkstemp's file is
readable by its owner only, which matters where the content grants something (a session key).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_json(path: Path, value: Any, prefix: str) -> None:
    """`value` as JSON at `path`, through a temporary file named `prefix…` beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(value, out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
