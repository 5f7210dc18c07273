"""Retry-After in either form, and a malformed one is a retry with the usual backoff, never a failed call."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path

import httpx
import pytest
from mcp import Client

from modelops_mcp.http.backends import LONGEST_RETRY_AFTER_S, retry_after_seconds
from modelops_mcp.sandbox import Fault
from modelops_mcp.settings.config import Limits
from tests.support import RunningSandbox, error_of, in_process, text_of

FAST = Limits(retry_base_delay_s=0.01, retry_max_delay_s=0.05)
DATASETS = {"account": "demo"}
FIT = {"account": "demo", "model": "text-classifier", "datasetId": 501}


def http_date(offset_s: float, zone: str = "GMT") -> str:
    return email.utils.formatdate(time.time() + offset_s, usegmt=True).replace("GMT", zone)


def after(value: str) -> float | None:
    # As bytes on the wire: UTF-8, which httpx decodes back (Latin-1 when that fails, as for "²" sent so).
    return retry_after_seconds(httpx.Response(503, headers=[(b"Retry-After", value.encode())]))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("9" * 400, LONGEST_RETRY_AFTER_S),  # finite, so it can be said in JSON
        ("²", None),  # "²".isdigit() is true, and float("²") raised ValueError
        ("١٢", None),  # Arabic-Indic digits: not delta-seconds either
        ("1.5", None),
        ("-1", None),
        ("soon", None),
        ("Fri, 31 Feb 2026 00:00:00 GMT", None),
        ("Wed, 21 Oct 99999 07:28:00 GMT", None),
        ("Sun, 06 Nov 1994 08:49:37 +2500", None),
        ("Sun, 06 Nov 1994 08:49:37 GMT", 0.0),  # in the past: now
    ],
)
def test_retry_after_in_seconds_or_none(value: str, expected: float | None) -> None:
    assert after(value) == expected


def test_an_http_date_is_seconds_from_now_in_any_zone_spelling() -> None:
    for zone in ("GMT", "+0000", "-0000"):
        seconds = after(http_date(60, zone))
        assert seconds is not None
        assert 55 <= seconds <= 60


@pytest.mark.anyio
@pytest.mark.parametrize("value", ["²", "Fri, 31 Feb 2026 00:00:00 GMT"])
async def test_a_malformed_retry_after_is_retried_and_the_call_succeeds(
    sandbox: RunningSandbox, state_dir: Path, value: str
) -> None:
    sandbox.emulators.faults.add(
        Fault(backend="caila", method="GET", status=503, headers={"Retry-After": value}, times=1)
    )
    sandbox.emulators.faults.add(
        Fault(backend="caila", method="POST", status=429, headers={"Retry-After": value}, times=1)
    )
    async with in_process(sandbox.env(), state_dir, FAST) as (server, _), Client(server, mode="legacy") as client:
        listed = await client.call_tool("caila_list_datasets", DATASETS)
        fit = await client.call_tool("caila_fit_service", FIT)  # a POST is not sent twice: the agent is told
    assert not listed.is_error, text_of(listed)
    assert [r.status for r in sandbox.requests("caila") if r.method == "GET"] == [503, 200]
    error = error_of(fit)
    assert (error["kind"], error["status"], error["retryable"]) == ("rate_limited", 429, True)
    assert "retry_after" not in error
    assert "unexpected" not in text_of(fit)
