"""ops_describe for hosts that pass only text to the model: every argument of every operation asked, required
ones first, each operation whole within its share of the text limit, the output schema only on request,
and the full schemas still in structuredContent. Driven through the mcp client over stdio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelops_mcp.present.describe_text import SHORTENED, budgets, render_operation
from tests.support import RunningSandbox, stdio_server, structured, text_of

pytestmark = pytest.mark.anyio

THREE = ["datarobot_create_custom_model_version", "datarobot_create_custom_model", "tunethemodel_upload_dataset"]


def section(text: str, name: str) -> str:
    """The text of one operation: from its heading to the next one."""
    start = text.index(f"## {name}:")
    following = text.find("\n## ", start + 1)
    return text[start : following if following != -1 else len(text)]


def assert_every_argument_listed(part: str, schema: dict[str, Any]) -> None:
    lines = part.splitlines()
    arguments = [line.strip()[2:].split(" (", 1)[0] for line in lines if line.startswith("  - ")]
    properties = schema["properties"]
    required = schema.get("required", [])
    assert arguments == [*required, *(n for n in properties if n not in required)]
    assert f"Arguments (required: {', '.join(required) or 'none'}):" in part


async def test_three_operations_described_at_once_each_appear_whole_over_stdio(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with stdio_server(sandbox.env(), state_dir, "--discovery", "search") as (c, _):
        result = await c.call_tool("ops_describe", {"names": THREE})
        text = text_of(result)
        described = structured(result)["operations"]
        assert [op["name"] for op in described] == THREE
        assert "truncated" not in text
        assert len(text) <= 8000 + 200 * len(THREE)  # the default text limit, plus each one's shortening note
        for op in described:
            part = section(text, op["name"])
            assert_every_argument_listed(part, op["input_schema"])
            assert "Output fields" not in part  # only on request
            assert op["output_schema"]["type"] == "object"  # while structuredContent keeps it whole
        version = section(text, "datarobot_create_custom_model_version")
        assert "- files (array of string" in version
        assert "Arguments (required: customModelId, isMajorUpdate):" in version
        # The long one gave up prose, not arguments; the short one kept its description.
        assert SHORTENED in section(text, "datarobot_create_custom_model")
        assert "At least 32 rows" in section(text, "tunethemodel_upload_dataset")

        alone = text_of(await c.call_tool("ops_describe", {"names": [THREE[0]]}))
        assert SHORTENED not in alone  # by itself it has the whole budget: every description in full
        assert "must belong to the environment" in alone

        asked = await c.call_tool("ops_describe", {"names": ["tunethemodel_upload_dataset"], "output_schema": True})
        part = section(text_of(asked), "tunethemodel_upload_dataset")
        assert part.index("Arguments") < part.index("Output fields")
        assert "  - class_names (array of string|null" in part


def test_an_operation_too_long_for_its_budget_keeps_every_argument() -> None:
    properties = {f"arg{i}": {"type": "string", "description": "word " * 200} for i in range(20)}
    operation: dict[str, Any] = {
        "name": "x_op",
        "description": "Does x.\n\n" + "more " * 500,
        "input_schema": {"type": "object", "properties": properties, "required": ["arg7"]},
        "output_schema": {"type": "object"},
    }
    text = render_operation(operation, 1500)
    assert text.endswith(SHORTENED)
    assert_every_argument_listed(text, operation["input_schema"])


def test_small_operations_leave_their_share_to_large_ones() -> None:
    assert budgets([100, 20_000, 300], 8000) == [1500, 7600, 1500]
    assert budgets([100, 200], 8000) == [1500, 1500]
    assert sum(budgets([9000, 9000, 9000], 8000)) <= 8001
