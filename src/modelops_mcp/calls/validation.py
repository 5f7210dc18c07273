"""Argument validation against a tool's inputSchema (Draft 2020-12), before any request is built."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from modelops_mcp.core.errors import ToolError, ToolFailure, Violation
from modelops_mcp.spec.openapi import pointer_join

if TYPE_CHECKING:  # jsonschema is imported on a server's first call, not at its start (see `compile_schema`)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")
# jsonschema's messages quote the offending value whole: a 20 MB string came back twice in the answer
# (text and structured). Longer values are cut to their head and their length.
_SHOWN_VALUE_CHARS = 80
_MESSAGE_CHARS = 500
# How many argument sets one tool remembers as valid (see `ArgumentValidator.check`): more than the jobs a
# server follows at once, since the polls go round all of them; the set starts afresh when full.
REMEMBERED_VALID = 16_384
_SCALARS = (str, int, float, bool)


def compile_schema(schema: dict[str, Any], *, formats: bool = False) -> Draft202012Validator:
    """A Draft 2020-12 validator of `schema` (checking `format`s when asked).

    jsonschema is imported here, on first use: importing it loads its meta-schemas and format checkers, a
    sixth of a start's CPU, and a start (handshake, tool list) validates nothing.
    """
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER if formats else None)


class ArgumentValidator:
    """Compiles its schema once, on the tool's first call: compiling costs far more than validating, and a start
    that compiled every tool's schema paid for the hundred tools a session never calls."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._schema = schema
        self._compiled: Draft202012Validator | None = None
        self._valid: set[frozenset[tuple[str, type, Any]]] = set()

    @property
    def _validator(self) -> Draft202012Validator:
        if self._compiled is None:
            self._compiled = compile_schema(self._schema, formats=True)
        return self._compiled

    def violations(self, arguments: dict[str, Any]) -> list[Violation]:
        found: list[Violation] = []
        for error in sorted(self._validator.iter_errors(arguments), key=lambda e: list(e.absolute_path)):
            found.extend(_explain(error))
        return found

    def check(self, arguments: dict[str, Any], operation: str, backend: str | None = None) -> None:
        """Raise the `validation` failure an agent can fix from, one violation per bad field.

        Flat arguments found valid are remembered: a job's status poll sends the same ids every few seconds,
        and walking the schema was a tenth of a poll's CPU. The same schema gives the same arguments the
        same verdict, so this changes no answer.
        """
        key = _remembered_as(arguments)
        if key is not None and key in self._valid:
            return
        violations = self.violations(arguments)
        if not violations:
            if key is not None:
                if len(self._valid) >= REMEMBERED_VALID:
                    self._valid.clear()
                self._valid.add(key)
            return
        count = len(violations)
        raise ToolFailure(
            ToolError(
                kind="validation",
                message=f"{count} invalid argument{'s' if count > 1 else ''}; nothing was sent",
                backend=backend,
                operation=operation,
                violations=violations,
            )
        )


def _remembered_as(arguments: dict[str, Any]) -> frozenset[tuple[str, type, Any]] | None:
    """The key of flat arguments (each a string, number, boolean or null); None for any other.

    Each value's type is part of it: `1 == 1.0 == True` in Python, but not for a schema's `type`.
    """
    key = []
    for name, value in arguments.items():
        if value is not None and type(value) not in _SCALARS:
            return None
        key.append((name, type(value), value))
    return frozenset(key)


def _explain(error: ValidationError) -> list[Violation]:
    at = pointer_join("", *(str(p) for p in error.absolute_path))
    # Point at the offending member itself, not at the object that holds it: easier for an agent to fix.
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extras = [key for key in error.instance if key not in allowed]
        known = ", ".join(sorted(allowed)) or "none"
        return [Violation(pointer=pointer_join(at, k), message=f"unknown field; known fields: {known}") for k in extras]
    if error.validator == "required":
        match = _QUOTED.search(error.message)
        if match:
            return [Violation(pointer=pointer_join(at, match.group(1)), message="required field is missing")]
    return [Violation(pointer=at, message=_bounded(error.message, error.instance) + _limit(error))]


# Size and count limits, said in words: "[0, 1] is too short" alone does not tell an agent 32 rows are needed.
_LIMITS = {
    "minItems": ("at least", "item"),
    "maxItems": ("at most", "item"),
    "minLength": ("at least", "character"),
    "maxLength": ("at most", "character"),
    "minProperties": ("at least", "member"),
    "maxProperties": ("at most", "member"),
}


def _limit(error: ValidationError) -> str:
    said = _LIMITS.get(str(error.validator))
    if said is None or not isinstance(error.validator_value, int) or not isinstance(error.instance, list | str | dict):
        return ""
    bound, unit = said
    limit, size = error.validator_value, len(error.instance)
    return f": it must have {bound} {limit} {unit}{'s' if limit != 1 else ''}, and has {size}"


def _bounded(message: str, instance: Any) -> str:
    shown = repr(instance)
    if len(shown) > _SHOWN_VALUE_CHARS:
        size = f"{len(instance)} items" if isinstance(instance, list | dict) else f"{len(shown)} chars"
        message = message.replace(shown, f"{shown[:_SHOWN_VALUE_CHARS]}... ({size})")
    return message if len(message) <= _MESSAGE_CHARS else message[:_MESSAGE_CHARS] + "..."
