"""Reading OpenAPI documents: JSON loading, JSON pointers and `$ref` inlining, with located errors."""

from __future__ import annotations

import copy
import json
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

# Keys that matter to OpenAPI tooling but are noise (or invalid) in a JSON Schema sent to an MCP client.
_NON_SCHEMA_KEYS = frozenset({"example", "xml", "externalDocs", "discriminator"})


class SchemaError(Exception):
    """A malformed schema document: names the file and the JSON pointer of the fault."""

    def __init__(self, source: str, pointer: str, message: str) -> None:
        super().__init__(f"{source}#{pointer}: {message}")
        self.source = source
        self.pointer = pointer


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer_join(pointer: str, *tokens: str | int) -> str:
    return pointer + "".join("/" + escape(str(t)) for t in tokens)


MISSING: Any = object()


def resolve_pointer(document: Any, pointer: str) -> Any:
    """RFC 6901 lookup (`""` is the whole document); `MISSING` when any step is absent."""
    if pointer == "":
        return document
    node = document
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return MISSING
    return node


def load_document(path: Path | Traversable) -> tuple[str, dict[str, Any]]:
    """Read one document; returns its display name and the parsed object."""
    name = path.name
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SchemaError(name, "", f"cannot read the file: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise SchemaError(name, "", f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from exc
    if not isinstance(document, dict):
        raise SchemaError(name, "", "the document must be a JSON object")
    return name, document


class Resolver:
    """Inlines local `$ref`s (`#/...`) of one document; remote refs and cycles are load errors."""

    def __init__(self, source: str, document: dict[str, Any]) -> None:
        self.source = source
        self.document = document
        self._cache: dict[str, Any] = {}

    def lookup(self, ref: str, at: str) -> Any:
        if not ref.startswith("#/"):
            raise SchemaError(self.source, at, f"only local references are supported, got {ref!r}")
        node = resolve_pointer(self.document, ref[1:])
        if node is MISSING:
            raise SchemaError(self.source, at, f"unresolvable reference {ref!r}")
        return node

    def deref(self, node: Any, at: str) -> Any:
        """Follow `$ref` at the top of a node only (parameters, responses, request bodies)."""
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise SchemaError(self.source, at, f"reference cycle through {ref!r}")
            seen.add(ref)
            node = self.lookup(ref, at)
        return node

    def inline(self, schema: Any, at: str) -> Any:
        """A deep copy of a JSON Schema with every `$ref` replaced by its target and OpenAPI-only keys dropped."""
        return self._inline(schema, at, ())

    def _inline(self, node: Any, at: str, stack: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [self._inline(item, pointer_join(at, i), stack) for i, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str):
                raise SchemaError(self.source, pointer_join(at, "$ref"), "$ref must be a string")
            if ref in stack:
                raise SchemaError(self.source, at, f"recursive schema through {ref!r}: tools need finite schemas")
            if ref not in self._cache:
                target = self.lookup(ref, at)
                self._cache[ref] = self._inline(target, ref[1:], (*stack, ref))
            resolved = copy.deepcopy(self._cache[ref])
            # Sibling keywords of $ref (allowed in 3.1) refine the target, e.g. a local description.
            siblings = {k: self._inline(v, pointer_join(at, k), stack) for k, v in node.items() if k != "$ref"}
            if siblings and isinstance(resolved, dict):
                resolved.update(siblings)
            return resolved
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _NON_SCHEMA_KEYS or key.startswith("x-"):
                continue
            # Under `properties` every key is a field name, never a keyword, so it must not be filtered.
            if key in ("properties", "patternProperties", "$defs") and isinstance(value, dict):
                out[key] = {name: self._inline(sub, pointer_join(at, key, name), stack) for name, sub in value.items()}
            else:
                out[key] = self._inline(value, pointer_join(at, key), stack)
        return out
