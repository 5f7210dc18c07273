"""Class names for a backend that answers classes by number (`x-mcp.labels`, spec/labels.py), applied to calls.

A bind copies its train file's class names to the model it trains; a classify answer gets `classes`. Names are
kept per endpoint, so ids of two endpoints never mix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelops_mcp.calls.reply import Reply, evaluate
from modelops_mcp.spec.catalog import Operation
from modelops_mcp.spec.labels import ClassNameStore, with_classes
from modelops_mcp.spec.openapi import MISSING


class ClassLabels:
    def __init__(self, names: ClassNameStore | None, base_url: Callable[[str], str | None]) -> None:
        """`base_url(backend)`: the endpoint the backend's calls go to now, None while unknown."""
        self._names = names
        self._base_url = base_url

    def _scope(self, op: Operation) -> str | None:
        """Where remembered class names apply: the backend's endpoint now (ids of two endpoints never mix)."""
        base = self._base_url(op.backend)
        return None if base is None or self._names is None else f"{op.backend} {base.rstrip('/')}"

    def remember(self, op: Operation, record: str, record_id: Any, names: list[str]) -> None:
        scope = self._scope(op)
        if scope is not None and self._names is not None and record_id not in (MISSING, None):
            self._names.remember(scope, record, record_id, names)

    def labelled(self, op: Operation, arguments: dict[str, Any], reply: Reply) -> Reply:
        """A bind copies its train file's class names to the model; a classify answer gets `classes`."""
        spec, store = op.labels, self._names
        if spec is None or store is None:
            return reply
        scope = self._scope(op)  # only for a tool with class names: a URL parse the other calls skip
        if scope is None:
            return reply
        if spec.copy_from is not None:
            source = evaluate(spec.copy_from.id, op, arguments, reply)
            names = None if source in (MISSING, None) else store.get(scope, spec.copy_from.record, source)
            if names is not None:
                self.remember(op, spec.record, evaluate(spec.id, op, arguments, reply), names)
        if spec.scores is not None:
            record_id = evaluate(spec.id, op, arguments, reply)
            names = None if record_id in (MISSING, None) else store.get(scope, spec.record, record_id)
            if names is not None:
                return Reply(reply.status, with_classes(reply.body, spec.scores, names), reply.headers)
        return reply
