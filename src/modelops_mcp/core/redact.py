"""Secret redaction: no configured credential may leave the process in a result, a log line or an error."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

MASK = "***"
# Very short values would mask ordinary words; real keys are long.
_MIN_SECRET_LEN = 4


class Redactor:
    """Replaces every known secret in strings and JSON-like values."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET_LEN and secret not in self._secrets:
            # Longest first, so a secret that contains another is masked whole. A new list, never sorted in
            # place: a large answer is redacted in a worker thread, which must not see a list mid-sort.
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def value(self, value: Any) -> Any:
        """Redact strings anywhere inside a JSON-like value (dict keys too; tuples come back as lists).

        Copies only what it changes: a part holding no secret is returned as it is (a 5 MB answer without
        one is walked, not rebuilt), so the result may share parts with `value`.
        """
        if not self._secrets:
            return value
        return self._masked(value)

    def _masked(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            changed = None
            for k, v in value.items():
                masked = self._masked(v)
                if masked is not v or not isinstance(k, str) or self.text(k) is not k:
                    changed = True
                    break
            if changed is None:
                return value
            return {self.text(str(k)): self._masked(v) for k, v in value.items()}
        if isinstance(value, list):
            masked_items = None
            for i, v in enumerate(value):
                masked = self._masked(v)
                if masked is not v:
                    masked_items = value[:i]
                    masked_items.append(masked)
                    masked_items.extend(self._masked(rest) for rest in value[i + 1 :])
                    break
            return value if masked_items is None else masked_items
        if isinstance(value, tuple):
            return [self._masked(v) for v in value]
        return value


# Renders a traceback as the standard formatter would, so it can be redacted before any handler prints it.
_TRACE = logging.Formatter()


class RedactingFilter(logging.Filter):
    """A logging filter that renders the record and masks secrets in the final text, traceback included."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redactor.text(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # Rendered now, so the trace is redacted like the message; formatters append `exc_text` as it is
            # (`log.exception` keeps its stack trace: only the secrets in it are masked).
            record.exc_text = _TRACE.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redactor.text(record.exc_text)
            record.exc_info = None  # no formatter may render the exception again, unredacted
        if record.stack_info:
            record.stack_info = self._redactor.text(record.stack_info)
        return True
