"""The next step an error names: which tool lists the ids an argument takes, or what else a refused upload can do.

Derived from the catalog, never written per tool. The tool that lists an argument's ids is found in two ways:
- a path parameter's collection: the GET of the path before `{param}` (`/v0/models` for
  `/v0/models/{model_id}/classify`), or its plural (`/models` for Pieces' `/model/{model}/load`);
- by name: a GET of the same backend whose path ends in the argument's noun, pluralized (`train_file` →
  `/v0/files`, `baseEnvironmentId` → `/executionEnvironments/`), the one sharing most words winning, and
  one under a parent resource only for an argument that names that parent.
Either must answer a list (an array in its output), so a config read at `/parameters` never passes for
the list of `/parameters/{key}`'s keys.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection
from typing import Any

from modelops_mcp.core.errors import ToolError
from modelops_mcp.spec.catalog import Catalog, Operation

# A backend's own way of saying an id names nothing, whatever status it answers with (DataRobot: 422).
_NOT_FOUND = re.compile(r"\b(not found|no such|does not exist|doesn't exist)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_ID_WORDS = frozenset({"id", "ids", "uuid", "name"})
# Violations that say an id is malformed: a format (uuid) or a pattern.
_MALFORMED = re.compile(r"is not a '([^']+)'|does not match ")
_REFUSED_PATHS = frozenset({"path_not_allowed", "no_upload_dir"})


def _words(name: str) -> list[str]:
    """`customModelVersionId` → custom, model, version; `train_file` → train, file."""
    words = [w.lower() for part in re.split(r"[^A-Za-z0-9]+", name) for w in _WORD.findall(part)]
    return [_singular(w) for w in words if w not in _ID_WORDS]


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _segments(path: str) -> list[str]:
    return [s for s in path.strip("/").split("/") if s]


def _lists(op: Operation) -> bool:
    """Whether an operation's answer is a list of things (an array, at its top or one level down)."""
    schema = op.output_schema or {}

    def is_array(node: Any) -> bool:
        kind = node.get("type") if isinstance(node, dict) else None
        return kind == "array" or (isinstance(kind, list) and "array" in kind)

    return is_array(schema) or any(is_array(p) for p in (schema.get("properties") or {}).values())


class NextSteps:
    """Adds `next` (tool names) and `hint` (one sentence) to an error an agent can act on."""

    def __init__(self, catalog: Catalog, callable_tools: Collection[str] | None = None) -> None:
        self._catalog = catalog
        # The tools a client can call here (the exposed ones); None: every tool of the catalog.
        self.callable_tools = callable_tools

    def explain(self, op: Operation, arguments: dict[str, Any], error: ToolError) -> ToolError:
        if error.hint is not None:
            return error
        if error.code in _REFUSED_PATHS:
            return self._upload_alternatives(op, error)
        if error.status is not None and (error.kind == "not_found" or _NOT_FOUND.search(error.message)):
            return self._lists_for(op, self._named(op, arguments, error.message), error)
        if error.status is not None and error.kind == "auth" and op.session_arg is not None:
            return self._new_session(op, error)
        if error.status is None and error.violations:
            return self._malformed_ids(op, arguments, error)
        return error

    # ---- which arguments, and where their ids come from -------------------------------------------

    @staticmethod
    def _named(op: Operation, arguments: dict[str, Any], message: str) -> list[str]:
        """The arguments the message names by value; else every path parameter, the innermost first."""
        named = []
        for f in op.fields:
            value = arguments.get(f.arg)
            if isinstance(value, bool) or not isinstance(value, str | int) or not 0 < len(str(value)) <= 200:
                continue  # an id is short; a long text argument is not what a not-found names
            if re.search(rf"(?<![\w-]){re.escape(str(value))}(?![\w-])", message):
                named.append(f.arg)
        if named:
            return named
        return [f.arg for f in reversed(op.fields) if f.location == "path" and f.arg != op.session_arg]

    def source(self, op: Operation, arg: str) -> Operation | None:
        """The listed tool whose answer holds the ids `arg` of `op` takes, if the catalog has one."""
        spec = self._catalog.backends.get(op.backend)
        if spec is None or arg == op.session_arg:
            return None
        candidates = [
            o
            for o in spec.operations
            if o.method == "GET" and not o.internal and o is not op and _lists(o) and self._callable(o)
        ]
        field = next((f for f in op.fields if f.arg == arg), None)
        if field is not None and field.location == "path":
            marker = "{" + field.wire + "}"
            segments = _segments(op.path)
            if marker in segments:
                prefix = "/".join(segments[: segments.index(marker)])
                for wanted in (prefix, prefix + "s"):
                    found = next((o for o in candidates if "/".join(_segments(o.path)) == wanted), None)
                    if found is not None:
                        return found
        words = _words(arg)
        if not words:
            return None
        best: tuple[int, int, int] | None = None
        chosen = None
        for o in candidates:
            statics = [s for s in _segments(o.path) if not s.startswith("{")]
            if not statics:
                continue
            last = _words(statics[-1])
            if not last or last[-1] != words[-1]:
                continue
            # A list under a parent resource (`/customModels/{id}/versions/`) holds that parent's versions: a
            # `datasetVersionId` is not one of them, an `environmentVersionId` of `/executionEnvironments/…` is.
            segments = _segments(o.path)
            parents = {w for s, after in itertools.pairwise(segments) if after.startswith("{") for w in _words(s)}
            if len(words) > 1 and parents and not parents & set(words[:-1]):
                continue
            path_words = {w for s in statics for w in _words(s)}
            shared = len(path_words & set(words))
            # Most words shared, then fewest words besides, then fewest path parameters to fill in.
            score = (shared, -len(path_words - set(words)), -sum(s.startswith("{") for s in _segments(o.path)))
            if best is None or score > best:
                best, chosen = score, o
        return chosen

    def _callable(self, op: Operation) -> bool:
        return self.callable_tools is None or op.tool_name in self.callable_tools

    # ---- the hints -------------------------------------------------------------------------------

    def _lists_for(self, op: Operation, args: list[str], error: ToolError) -> ToolError:
        found: dict[str, list[str]] = {}
        for arg in args:
            lister = self.source(op, arg)
            if lister is not None:
                found.setdefault(lister.tool_name, []).append(arg)
        if not found:
            return error
        parts = [f"{tool} to see valid {' and '.join(f'`{a}`' for a in named)} values" for tool, named in found.items()]
        return error.model_copy(update={"next": list(found), "hint": f"call {', or '.join(parts)}."})

    def _new_session(self, op: Operation, error: ToolError) -> ToolError:
        spec = self._catalog.backends[op.backend].session
        start = self._catalog.find(op.backend, spec.start) if spec is not None else None
        if start is None or not self._callable(start):
            return error
        hint = (
            f"start a session with {start.tool_name} (its key is remembered and filled in), or pass the key "
            f"of the current session as `{op.session_arg}`."
        )
        return error.model_copy(update={"next": [start.tool_name], "hint": hint})

    def _malformed_ids(self, op: Operation, arguments: dict[str, Any], error: ToolError) -> ToolError:
        found: dict[str, str] = {}
        sentences = []
        for violation in error.violations or []:
            arg = violation.pointer.lstrip("/")
            match = _MALFORMED.search(violation.message)
            if match is None or "/" in arg or arg not in arguments:
                continue
            lister = self.source(op, arg)
            if lister is None:
                continue
            form = f"a {match.group(1)} (an id, not a name)" if match.group(1) else "an id, not a name"
            sentences.append(f"`{arg}` takes {form}: call {lister.tool_name} to find the one you mean")
            found[lister.tool_name] = arg
        if not found:
            return error
        return error.model_copy(update={"next": list(found), "hint": "; ".join(sentences) + "."})

    def _upload_alternatives(self, op: Operation, error: ToolError) -> ToolError:
        """Besides allowing the folder (the message says how): the tool's inline data, or an allowed folder."""
        refused = {v.pointer.lstrip("/") for v in error.violations or []}
        inline = [f for f in op.fields if f.location == "local" and f.arg not in refused and f.arg != "path"]
        steps = []
        if inline:
            properties = op.input_schema.get("properties", {})
            # Each argument with its own minimum: optional ones (class_names) have none to state.
            named = []
            for field in inline:
                least = properties.get(field.arg, {}).get("minItems")
                named.append(f"`{field.arg}` (at least {least} items)" if least else f"`{field.arg}`")
            steps.append(f"give the data inline instead of a file, with {', '.join(named)} of {op.tool_name}")
        if error.code == "path_not_allowed":
            steps.append("copy the file into one of the allowed folders")
        if not steps:
            return error
        update: dict[str, Any] = {"hint": "; or ".join(steps) + "."}
        if inline:
            update["next"] = [op.tool_name]
        return error.model_copy(update=update)
