"""An input schema as a tool list shows it: every constraint kept, each description leaned.

The schema's own keywords (type, enum, required, default, limits) are what a call is checked against and
stay as they are. Descriptions go through lean_text, and then lose what the schema already says:
- a description that only restates its field's name ("ID of the custom model." on `customModelId`) goes;
- a sentence stating the default the schema's `default` states ("Defaults to true.") goes, and so does one
  saying that a filter left out filters nothing ("If not specified, all custom models will be returned.");
- a deprecated field keeps its deprecation (not the version it came in) and any pointer to what replaces
  it, not what it once did.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from modelops_mcp.present.lean_text import Routes, lean_text

_ONE = ("items", "additionalProperties")
_LIST = ("anyOf", "oneOf", "allOf")
_WORD = re.compile(r"[A-Za-z]+")
_CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# Words that add nothing to a field's name: "The ID of the given environment."
_FILLER = frozenset(
    _WORD.findall(
        "a an the of for to in on by with this that which its is are be given specific unique id ids identifier "
        "identifiers uuid value name"
    )
)
# What makes a sentence after a field's first one worth listing: it says what to do or not do, a limit, a
# condition, an example or a name. Background ("Calibration improves the probability estimates…") goes.
_ACTS = re.compile(
    r"\b(?:must|has to|have to|needs?|should|required?|requires|only|not|never|cannot|can't|least|most|up to|"
    r"if|unless|when|otherwise|"
    r"defaults?|deprecat\w*|instead|incompatible|ignored|error|fails?|e\.g|example|valid|allowed|either|"
    r"both|omit\w*|set|pass\w*|specif\w*|use)\b|\d|[`\"']",
    re.IGNORECASE,
)
_DEFAULT_SENTENCE = re.compile(r"^\s*(?:defaults?(?: value)?(?: is| to)?|by default,?)\b", re.IGNORECASE)
# "If not specified, all custom models will be returned.": what leaving out any filter does.
_UNFILTERED = re.compile(r"^If not specified, all [\w\s'-]+ (?:will be|are) returned\.?$")
# "Deprecated since v2.24.": the version it happened in tells a caller nothing.
_SINCE = re.compile(r"\b(deprecated) since v?\d+(?:\.\d+)*", re.IGNORECASE)


def lean_input(schema: dict[str, Any], routes: Routes, tool_name: str, tool_names: Collection[str]) -> dict[str, Any]:
    context = set(_words(tool_name.replace("_", " ")))
    # A sentence naming another tool or one of this tool's arguments says what to do: it always stays.
    names = {*tool_names, *schema.get("properties", {})}
    return _walk(schema, None, routes, context, names)


def _walk(
    schema: dict[str, Any], name: str | None, routes: Routes, context: set[str], names: Collection[str]
) -> dict[str, Any]:
    lean: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "description" and isinstance(value, str):
            text = _describe(value, name, schema, routes, context, names)
            if text:
                lean[key] = text
        elif key == "properties" and isinstance(value, dict):
            lean[key] = {
                prop: _walk(sub, prop, routes, context, names) if isinstance(sub, dict) else sub
                for prop, sub in value.items()
            }
        elif key in _ONE and isinstance(value, dict):
            lean[key] = _walk(value, name, routes, context, names)
        elif key in _LIST and isinstance(value, list):
            lean[key] = [_walk(b, name, routes, context, names) if isinstance(b, dict) else b for b in value]
        else:
            lean[key] = value
    return lean


def _describe(
    text: str,
    name: str | None,
    schema: dict[str, Any],
    routes: Routes,
    context: set[str],
    names: Collection[str],
) -> str:
    deprecated = text.lstrip().lower().startswith("deprecated")
    others = set(names) - {name}

    def keep(sentence: str, first: bool) -> bool:
        if "default" in schema and _DEFAULT_SENTENCE.match(sentence) and _states(sentence, schema["default"]):
            return False
        if _UNFILTERED.match(sentence):
            return False
        if deprecated:
            lowered = sentence.lower()
            return "deprecat" in lowered or "instead" in lowered or _names(sentence, others)
        return first or bool(_ACTS.search(sentence)) or _names(sentence, others)

    lean = lean_text(_SINCE.sub(r"\1", text), routes, keep)
    if name is not None and _restates(lean, name, context):
        return ""
    return lean


def _names(sentence: str, names: Collection[str]) -> bool:
    return not set(re.findall(r"\w+", sentence)).isdisjoint(names)


def _states(sentence: str, default: Any) -> bool:
    spelled = (
        {True: "true", False: "false", None: "none"}.get(default, str(default))
        if not isinstance(default, (dict, list))
        else None
    )
    return spelled is not None and spelled.lower() in sentence.lower()


def _words(text: str) -> list[str]:
    words = [part.lower() for token in _WORD.findall(text) for part in _CAMEL.findall(token)]
    return [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words]


def _restates(description: str, name: str, context: set[str]) -> bool:
    """Whether every word of the description is the field's name, the tool's name, or filler."""
    said = set(_words(description)) - _FILLER
    return bool(description) and said <= set(_words(name)) | context
