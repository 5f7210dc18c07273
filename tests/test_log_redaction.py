"""Logs keep their stack traces, with every secret in them masked."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from modelops_mcp.app.runtime import install_log_redaction
from modelops_mcp.core.redact import MASK, Redactor

SECRET = "sk-live-7f3a9c2e5b1d4f60"
log = logging.getLogger("tests.log_redaction")


def refuse_the_key(key: str) -> None:
    raise RuntimeError(f"the backend refused {key}")


def call_with_the_key(key: str) -> None:
    try:
        refuse_the_key(key)
    except RuntimeError as exc:
        raise ValueError(f"could not call with {key}") from exc


@pytest.fixture
def logged() -> Iterator[list[io.StringIO]]:
    """Two handlers on the root logger, as a server's stderr and a capture would be, both redacted."""
    root = logging.getLogger()
    streams = [io.StringIO(), io.StringIO()]
    handlers = [logging.StreamHandler(stream) for stream in streams]
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    remove = install_log_redaction(Redactor([SECRET]))
    try:
        yield streams
    finally:
        remove()
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(level)


def test_log_exception_keeps_the_stack_trace_with_secrets_masked(logged: list[io.StringIO]) -> None:
    try:
        call_with_the_key(SECRET)
    except ValueError:
        log.exception("call failed for %s", SECRET)
    for stream in logged:
        text = stream.getvalue()
        assert SECRET not in text
        assert text.startswith(f"ERROR tests.log_redaction: call failed for {MASK}\nTraceback (most recent call last):")
        # The frames, the cause and both messages: the trace a maintainer needs, whole.
        assert "in call_with_the_key" in text
        assert "in refuse_the_key" in text
        assert f"RuntimeError: the backend refused {MASK}" in text
        assert "The above exception was the direct cause of the following exception" in text
        assert text.rstrip().endswith(f"ValueError: could not call with {MASK}")
        assert text.count("Traceback (most recent call last)") == 2  # once per exception, not once per handler


def test_a_stack_info_and_a_plain_message_are_masked_too(logged: list[io.StringIO]) -> None:
    log.info("token %s", SECRET, stack_info=True)
    text = logged[0].getvalue()
    assert SECRET not in text
    assert f"token {MASK}\nStack (most recent call last):" in text
