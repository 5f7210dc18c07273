"""Lean descriptions (issue 17 item 2): what tools/list shows keeps what a model acts on, without the
vendor documents' markup, code samples and repetition; the original text stays on the Operation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.present.lean_input import lean_input
from modelops_mcp.present.lean_shared import share_descriptions
from modelops_mcp.present.lean_text import build_routes, lean_text
from modelops_mcp.settings.config import Settings
from modelops_mcp.spec.catalog import Catalog
from modelops_mcp.surface.listing import listed_tools
from modelops_mcp.surface.resources import SCHEMA_TEMPLATE

ROUTES = build_routes(
    [
        ("GET", "/things/{thingId}/", "/api/v2", "toy_get_thing"),
        ("PATCH", "/things/{thingId}/", "/api/v2", "toy_update_thing"),
        ("POST", "/things/", "/api/v2", "toy_create_thing"),
    ]
)
# What a model must still be told when the prose says it: limits and sizes, with their numbers.
LIMIT = re.compile(
    r"\b(?:at least|at most|up to|no more than|fewer than|more than)\s+\d[\d,.]*"
    r"|\b\d[\d,.]*\s*(?:-|\u2013)\s*\d[\d,.]*\b"
    r"|\b\d[\d,.]*\s*(?:rows?|bytes|[KMG]i?B|characters|lines|items|roles|files|seconds|minutes|hours|%)",
    re.IGNORECASE,
)
MARKUP = ("``", ".. ", "::", "](", "][", "`_", "**", "/api/v", "\n#", "{ '", '{ "', "<http")


def without_code(text: str) -> str:
    """The prose of a description: each paragraph up to its first code sample (`.. code:: Python {...}`),
    which starts the part written for whoever writes the model's server, not for a caller."""
    paragraphs = [re.split(r"\.\.\s*code(?:-block)?::|start_server\.sh", p)[0] for p in text.split("\n\n")]
    return re.sub(r"\S*/\S*", "", "\n\n".join(paragraphs))  # a route's {customModelId} is no argument


def words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][\w]*", text))


def listing(tmp_path: Path) -> tuple[Catalog, dict[str, dict[str, Any]]]:
    catalog = load_settings_catalog(Settings(state_dir=tmp_path))
    tools = listed_tools(Settings(state_dir=tmp_path), catalog, dict(catalog.operations))
    return catalog, {t.name: t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in tools}


def descriptions(schema: Any, at: str = "") -> dict[str, str]:
    """Every description in a schema, by where it is."""
    found: dict[str, str] = {}
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "description" and isinstance(value, str):
                found[at] = value
            else:
                found.update(descriptions(value, f"{at}/{key}"))
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            found.update(descriptions(value, f"{at}/{i}"))
    return found


def without_descriptions(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: without_descriptions(v) for k, v in schema.items() if k != "description"}
    if isinstance(schema, list):
        return [without_descriptions(v) for v in schema]
    return schema


def referred(lean: str, at: str, listed: dict[str, dict[str, Any]]) -> str:
    """A description that refers to another listed tool ("As in datarobot_create_custom_model_version.")
    reads as that tool's description at the same place; a reference to a tool not listed stays as it is."""
    found = re.fullmatch(r"As in (\w+)\.", lean)
    if found is None or found.group(1) not in listed:
        return lean
    return descriptions(listed[found.group(1)]["inputSchema"]).get(at, lean)


def kept_meaning(original: str, lean: str, names: set[str], where: str) -> list[str]:
    """What `original` tells a model that `lean` no longer does."""
    prose = without_code(original)
    lost = [f"{where}: name {n}" for n in sorted(words(prose) & names) if n not in words(lean)]
    # Values a field takes, as the prose spells them: CODE_CONVERSATION, NO_ROLE, "created".
    values = set(re.findall(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", prose)) | set(re.findall(r'"([^"\s]{1,40})"', prose))
    lost += [f"{where}: value {v}" for v in sorted(values) if v not in lean]
    for marker in ("deprecat", "instead"):
        if marker in prose.lower() and marker not in lean.lower():
            lost.append(f"{where}: {marker!r}")
    lost += [f"{where}: limit {m.group(0)!r}" for m in LIMIT.finditer(prose) if m.group(0) not in lean]
    lost += [f"{where}: markup {m!r}" for m in MARKUP if m in lean]
    return lost


def test_every_listed_tool_keeps_what_a_model_acts_on(tmp_path: Path) -> None:
    catalog, listed = listing(tmp_path)
    tool_names = set(catalog.operations)
    lost: list[str] = []
    for name, op in catalog.operations.items():
        tool = listed[name]
        summary = op.description.split("\n", 1)[0]
        assert tool["description"].startswith(summary), name  # the first sentence, as the document has it
        arguments = set(op.input_schema.get("properties", {}))
        lost += kept_meaning(op.description, tool["description"], tool_names | arguments, name)
        # Every constraint of the input schema is listed as it is: types, enums, required, defaults, limits.
        lean_schema = tool["inputSchema"]
        assert without_descriptions(lean_schema) == without_descriptions(json.loads(json.dumps(lean_schema)))
        full = listed_tools(Settings(state_dir=tmp_path, output_schemas="full"), catalog, {name: op})[0]
        assert without_descriptions(lean_schema) == without_descriptions(
            full.model_dump(by_alias=True, mode="json", exclude_none=True)["inputSchema"]
        )
        assert lean_schema.get("required") == op.input_schema.get("required"), name
        originals = descriptions(op.input_schema)
        leans = descriptions(lean_schema)
        for at, text in originals.items():
            lean = referred(leans.get(at, ""), at, listed)
            field = at.rsplit("/properties/", 1)[-1].split("/")[0]  # its own name is no pointer elsewhere
            lost += kept_meaning(text, lean, (tool_names | arguments) - {field}, f"{name}{at}")
    assert lost == [], "\n".join(lost)


def test_the_input_schema_keeps_every_constraint(tmp_path: Path) -> None:
    """Descriptions aside, the listed input schema is the document's (in the portable spelling)."""
    from modelops_mcp.present.portable import single_types

    catalog, listed = listing(tmp_path)
    for name, op in catalog.operations.items():
        assert without_descriptions(listed[name]["inputSchema"]) == without_descriptions(
            json.loads(json.dumps(single_types(op.input_schema)))
        ), name


def test_the_original_text_stays_on_the_operation(tmp_path: Path) -> None:
    catalog, listed = listing(tmp_path)
    op = catalog.operations["datarobot_create_custom_model"]
    assert ".. code:: Python" in op.description
    assert "start_server.sh" in op.description
    lean = listed["datarobot_create_custom_model"]["description"]
    assert "start_server.sh" not in lean
    assert "code" not in lean
    assert "at least one target type" in lean
    assert lean.endswith(f"Full text: {SCHEMA_TEMPLATE.format(backend='datarobot')}.")  # where the rest is
    assert len(lean) < len(op.description) / 3


def test_deprecated_operations_name_their_replacement_tool(tmp_path: Path) -> None:
    _, listed = listing(tmp_path)
    lean = listed["datarobot_get_image_feature_impact"]["description"]
    assert "DEPRECATED" in lean
    assert "instead: datarobot_get_feature_impact" in lean
    assert "native models" not in lean  # a route no tool serves is not named
    training = listed["datarobot_assign_custom_model_training_data"]["description"]
    assert "deprecated" in training
    assert "datarobot_create_custom_model_version" in training
    assert "Controller" not in training


def test_the_datarobot_tools_lose_a_fifth_of_their_bytes(tmp_path: Path) -> None:
    catalog, listed = listing(tmp_path)
    datarobot = [op for op in catalog.operations.values() if op.backend == "datarobot"]

    def text_bytes(description: str, schema: dict[str, Any]) -> int:
        return len(description.encode()) + sum(len(d.encode()) for d in descriptions(schema).values())

    before = sum(text_bytes(op.description, op.input_schema) for op in datarobot)
    after = sum(
        text_bytes(listed[op.tool_name]["description"], listed[op.tool_name]["inputSchema"]) for op in datarobot
    )
    assert after < 0.8 * before, (after, before)


@pytest.mark.parametrize(
    ("text", "lean"),
    [
        (
            "Make a thing.\n\nIt returns: .. code:: Python { 'a': [1, 2] } More about the code. And more.",
            "Make a thing.",
        ),
        ("Make.\n\nRun start_server.sh first. It then serves.\n\nPass `name`.", "Make.\n\nPass `name`."),
        ("Read. DEPRECATED: use GET /api/v2/things/{id}/ instead.", "Read. DEPRECATED: use toy_get_thing instead."),
        (
            "Read. See POST /api/v2/things/ and PATCH /api/v2/things/{x}/",
            "Read. See toy_create_thing and toy_update_thing.",
        ),
        ("Read. Same as GET /api/v2/other/{id}/ for others. Up to 100 roles.", "Read. Up to 100 roles."),
        ("See `the docs <https://example.com/x>`_ and [guide](https://e.com/(a)).", "See the docs and guide."),
        (
            "Set ``name`` (:class:`Thing`); see [DataRobot] and **this**.",
            "Set `name` (`Thing`); see DataRobot and this.",
        ),
        ("Title\n=====\n\n# Heading\nBody.Only here.", "Body. Only here."),
        ("Done by the ThingCreateController. Then use it.", "Then use it."),
        (
            "What it is for, e.g. CODE_CONVERSATION, TEXT. Etc. and so on.",
            "What it is for, e.g. CODE_CONVERSATION, TEXT. Etc. and so on.",
        ),
    ],
)
def test_lean_text(text: str, lean: str) -> None:
    assert lean_text(text, ROUTES) == lean


def test_lean_input_drops_what_the_schema_already_says() -> None:
    schema = {
        "type": "object",
        "properties": {
            "thingId": {"type": "string", "description": "The ID of the thing."},
            "force": {"type": "boolean", "default": True, "description": "Whether to force. Defaults to true."},
            "memory": {
                "type": "integer",
                "maximum": 8,
                "description": "Deprecated since v2.30. The memory the thing gets. Use `size` instead.",
            },
            "size": {
                "type": "integer",
                "description": "Its size. Sizes improve the experience of everyone. At most 8 when `force` is set.",
            },
            "kind": {
                "type": "string",
                "description": "Only things of this kind. If not specified, all things will be returned.",
            },
        },
        "required": ["thingId"],
    }
    assert lean_input(schema, ROUTES, "toy_get_thing", ["toy_get_thing"]) == {
        "type": "object",
        "properties": {
            "thingId": {"type": "string"},
            "force": {"type": "boolean", "default": True, "description": "Whether to force."},
            "memory": {"type": "integer", "maximum": 8, "description": "Deprecated. Use `size` instead."},
            "size": {"type": "integer", "description": "Its size. At most 8 when `force` is set."},
            "kind": {"type": "string", "description": "Only things of this kind."},
        },
        "required": ["thingId"],
    }


def test_a_description_several_listed_tools_share_is_listed_once(tmp_path: Path) -> None:
    catalog, listed = listing(tmp_path)
    owner, other = "datarobot_create_custom_model_version", "datarobot_create_custom_model_version_from_latest"
    field = "/properties/baseEnvironmentVersionId"
    text = descriptions(listed[owner]["inputSchema"])[field]
    assert len(text) > 200
    assert not text.startswith("As in")
    assert descriptions(listed[other]["inputSchema"])[field] == f"As in {owner}."
    # Listed without the tool that carries it, a tool keeps the whole text.
    alone = listed_tools(Settings(state_dir=tmp_path), catalog, {other: catalog.operations[other]})[0]
    assert descriptions(alone.input_schema)[field] == text
    # No listed tool refers to a tool that is not listed, or to one that refers on.
    for name, tool in listed.items():
        for at, lean in descriptions(tool["inputSchema"]).items():
            if lean.startswith("As in "):
                target = lean.removeprefix("As in ").rstrip(".")
                assert target in listed, (name, at)
                assert not descriptions(listed[target]["inputSchema"])[at].startswith("As in "), (name, at)


def test_share_descriptions_keeps_the_text_in_the_current_tool_and_only_where_it_saves_bytes() -> None:
    long = "Where the thing runs; it must exist before the call, else the call fails with a 404."
    short = "Its name."

    def schema(*texts: str) -> dict[str, Any]:
        return {"type": "object", "properties": {f"f{i}": {"description": t} for i, t in enumerate(texts)}}

    shared = share_descriptions(
        {"toy_old": schema(long, short), "toy_new": schema(long, short), "toy_other": schema("x", long)},
        deprecated={"toy_old"},
    )
    assert shared["toy_new"] == schema(long, short)  # not deprecated: it keeps the text
    assert shared["toy_old"] == schema("As in toy_new.", short)  # a short text is not worth a reference
    assert shared["toy_other"] == schema("x", long)  # another place (another argument): not the same text
