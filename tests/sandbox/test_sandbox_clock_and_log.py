"""SimClock and RequestLog on their own, without a server."""

from __future__ import annotations

import json

import pytest

from modelops_mcp.sandbox import RequestLog, SimClock
from modelops_mcp.sandbox.log import BODY_LIMIT, decode_body


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_clock_runs_at_speed_times_real_elapsed() -> None:
    real = FakeTime()
    clock = SimClock(60.0, time_source=real)
    assert clock.now() == 0.0
    real.t += 2.5
    assert clock.now() == pytest.approx(150.0)


def test_clock_at_speed_zero_moves_only_when_advanced() -> None:
    real = FakeTime()
    clock = SimClock(0, time_source=real)
    real.t += 3600
    assert clock.now() == 0.0
    assert clock.advance(20) == 20.0
    assert clock.now() == 20.0


def test_clock_advance_adds_to_real_progress() -> None:
    real = FakeTime()
    clock = SimClock(2.0, time_source=real)
    real.t += 1
    clock.advance(10)
    assert clock.now() == pytest.approx(12.0)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_clock_rejects_negative_or_non_finite_advance(bad: float) -> None:
    with pytest.raises(ValueError, match="advance"):
        SimClock(0).advance(bad)


def test_clock_rejects_negative_speed() -> None:
    with pytest.raises(ValueError, match="speed"):
        SimClock(-1)


def _record(log: RequestLog, backend: str | None, method: str = "GET", path: str = "/caila/x") -> None:
    log.record(
        backend=backend,
        method=method,
        path=path,
        query={},
        headers={},
        body=None,
        body_truncated=False,
        status=200,
    )


def test_log_filters_counts_and_clears_keeping_sequence_numbers_rising() -> None:
    log = RequestLog()
    _record(log, "caila", "POST", "/caila/api/mlpgate/account/demo/model/42/fit")
    _record(log, "training")
    _record(log, None, path="/nowhere")
    assert [e.seq for e in log.entries()] == [1, 2, 3]
    assert [e.backend for e in log.entries("caila")] == ["caila"]
    assert log.count("caila", method="post", path_suffix="/fit") == 1
    assert log.count(method="DELETE") == 0
    assert log.clear() == 3
    assert log.entries() == []
    _record(log, "caila")
    assert log.entries()[0].seq == 4


def test_log_entries_serialise_to_json() -> None:
    log = RequestLog()
    entry = log.record(
        backend="caila",
        method="POST",
        path="/caila/p",
        query={"name": "a", "tag": ["x", "y"]},
        headers={"mlp-api-key": "k"},
        body={"datasetId": 501},
        body_truncated=False,
        status=200,
    )
    data = json.loads(json.dumps(entry.to_json()))
    assert data["body"] == {"datasetId": 501}
    assert data["query"] == {"name": "a", "tag": ["x", "y"]}
    assert data["seq"] == 1
    assert data["status"] == 200


def test_decode_body_parses_json_keeps_text_and_truncates_large_bodies() -> None:
    assert decode_body(b"", "application/json") == (None, False)
    assert decode_body(b'{"a": 1}', "application/json; charset=utf-8") == ({"a": 1}, False)
    assert decode_body(b"{not json", "application/json") == ("{not json", False)
    assert decode_body(b"a=1", "application/x-www-form-urlencoded") == ("a=1", False)
    big, truncated = decode_body(b'{"x": "' + b"y" * BODY_LIMIT + b'"}', "application/json")
    assert truncated
    assert isinstance(big, str)
    assert len(big) == BODY_LIMIT
