"""A job's metric series in a terminal: one sparkline a series, with its range, last value and steps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelops_mcp.jobs.history import thin

BLOCKS = "▁▂▃▄▅▆▇█"
WIDTH = 32  # cells per sparkline: a longer series is thinned to this (first and last kept)


def sparkline(values: Sequence[float], width: int = WIDTH) -> str:
    """`▁▃▅█`-style: each value's height between the series' min and max (a flat series sits mid-height)."""
    shown = thin(list(values), width)
    if not shown:
        return ""
    low, high = min(shown), max(shown)
    if high == low:
        return BLOCKS[len(BLOCKS) // 2 - 1] * len(shown)
    top = len(BLOCKS) - 1
    return "".join(BLOCKS[round((v - low) / (high - low) * top)] for v in shown)


def _number(value: float) -> str:
    return f"{value:.4g}"


def curve_line(name: str, points: Sequence[dict[str, Any]], total: int | None = None) -> str:
    """`loss  █▅▃▁  min 0.31  max 1.24  last 0.31  steps 1-4` for one series (points as the JSON view has them)."""
    values = [float(p["value"]) for p in points]
    steps = [p["step"] for p in points if p.get("step") is not None]
    line = f"{sparkline(values)}  min {_number(min(values))}  max {_number(max(values))}  last {_number(values[-1])}"
    if steps:
        line += f"  steps {_number(min(steps))}-{_number(max(steps))}"
    if total is not None and total > len(points):
        line += f"  ({len(points)} of {total} points)"
    return f"{name}  {line}"


def curve_lines(history: dict[str, Any]) -> list[str]:
    """One line per non-empty series of a history view (`Job.public()["history"]`), names aligned."""
    series = {name: points for name, points in history.get("series", {}).items() if points}
    if not series:
        return []
    width = max(len(name) for name in series)
    totals = history.get("points", {})
    return [curve_line(name.ljust(width), points, totals.get(name)) for name, points in series.items()]
