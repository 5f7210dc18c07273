"""Search mode: ops_search finds every operation by its summary, ops_describe gives the direct tool's
schemas, ops_call runs the direct tool's path; the tool list stays small whatever is loaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.present.portable import single_types
from modelops_mcp.present.search import OperationIndex
from modelops_mcp.settings.config import Settings
from modelops_mcp.spec.catalog import HTTP_METHODS, Catalog
from modelops_mcp.surface.listing import listed_tools
from tests.support import JOB_TOOLS, RunningSandbox, error_of, in_process, stdio_server, structured

pytestmark = pytest.mark.anyio

SEARCH_TOOLS = {"ops_search", "ops_describe", "ops_call"}
FIT = {"account": "demo", "model": "text-classifier", "datasetId": 501, "configId": 301}


def catalog(tmp_path: Path) -> Catalog:
    return load_settings_catalog(Settings(state_dir=tmp_path))


def summaries(cat: Catalog) -> dict[str, str]:
    """Each tool's summary as its document states it (before the server builds descriptions from it)."""
    found = {}
    for spec in cat.backends.values():
        for item in spec.document["paths"].values():
            for method in HTTP_METHODS:
                raw = item.get(method)
                if raw is not None and not raw.get("x-mcp", {}).get("internal"):
                    found[raw["x-mcp"]["tool"]] = raw["summary"]
    return found


def wire_bytes(tools: list[Any]) -> int:
    dumped = [t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in tools]
    return sum(len(json.dumps(t, separators=(",", ":"))) for t in dumped)


def test_a_query_made_from_each_operations_summary_finds_it_in_the_top_three(tmp_path: Path) -> None:
    cat = catalog(tmp_path)
    index = OperationIndex(cat.operations.values())
    asked = summaries(cat)
    assert set(asked) == set(cat.operations)
    missed = {}
    for name, summary in asked.items():
        query = summary.rstrip(".").lower()  # plain words, as an agent would type them
        top = [hit.operation.tool_name for hit in index.search(query, 3)]
        if name not in top:
            missed[name] = (query, top)
    assert missed == {}


def test_plain_requests_find_the_operation_that_does_them(tmp_path: Path) -> None:
    index = OperationIndex(catalog(tmp_path).operations.values())

    def top(query: str, n: int = 3) -> list[str]:
        return [hit.operation.tool_name for hit in index.search(query, n)]

    assert "datarobot_create_custom_model_test" in top("run a test of my custom model")
    assert "pieces_load_model" in top("load a local model into memory")
    assert "tunethemodel_classify" in top("classify some text", 1)
    assert "training_upload_dataset" in top("upload a training dataset")
    assert top("zzzz qqqq") == []


def test_search_mode_lists_under_two_thousand_estimated_tokens_with_every_backend(tmp_path: Path) -> None:
    cat = catalog(tmp_path)
    settings = Settings(state_dir=tmp_path, discovery="search")
    tools = listed_tools(settings, cat, dict(cat.operations))
    assert {t.name for t in tools} == SEARCH_TOOLS | JOB_TOOLS
    size = wire_bytes(tools)
    assert size / 4 < 2000, size  # estimated tokens: bytes / 4
    full = wire_bytes(listed_tools(Settings(state_dir=tmp_path), cat, dict(cat.operations)))
    # Full mode, leaned to a third of the peer's bytes, still lists fifteen times search mode's.
    assert size * 12 < full, (size, full)


async def test_describe_gives_the_direct_tools_schemas_and_call_runs_its_path(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with (
        in_process(sandbox.env(), state_dir, discovery="search") as (server, runtime),
        Client(server, mode="legacy") as c,
    ):
        assert {t.name for t in (await c.list_tools()).tools} == SEARCH_TOOLS | JOB_TOOLS
        found = structured(await c.call_tool("ops_search", {"query": "fit a caila service on a dataset"}))
        fit = next(op for op in found["operations"] if op["name"] == "caila_fit_service")
        assert fit["starts_job"] is True

        described = structured(await c.call_tool("ops_describe", {"names": ["caila_fit_service", "caila_fly"]}))
        direct = runtime.catalog.operations["caila_fit_service"].tool()
        assert described["operations"][0]["input_schema"] == direct.input_schema
        # In the portable spelling tools/list uses (nullable fields as anyOf branches), accepting the same values.
        assert described["operations"][0]["output_schema"] == single_types(direct.output_schema)
        assert described["unknown"] == ["caila_fly"]

        before = len(sandbox.requests())
        refused = await c.call_tool("ops_call", {"name": "caila_fit_service", "arguments": {"account": "demo"}})
        assert error_of(refused)["kind"] == "validation"
        assert error_of(refused)["operation"] == "caila_fit_service"
        assert len(sandbox.requests()) == before  # refused before anything was sent

        started = structured(await c.call_tool("ops_call", {"name": "caila_fit_service", "arguments": FIT}))
        assert started["job"]["status"] == "working"
        sandbox.emulators.clock.advance(600)
        waited = structured(await c.call_tool("jobs_wait", {"job_id": started["job"]["id"], "timeout_s": 10}))
        assert waited["job"]["status"] == "completed"
        # The same operation by its own name (not listed, still callable) answers the same shape.
        again = structured(await c.call_tool("caila_fit_service", FIT))
        assert set(again) == set(started)


async def test_calling_an_unknown_or_unexposed_operation_suggests_names(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    options: dict[str, Any] = {"discovery": "search", "toolsets": ["caila"]}
    async with in_process(sandbox.env(), state_dir, **options) as (server, _), Client(server) as c:
        unknown = await c.call_tool("ops_call", {"name": "caila_list_dataset", "arguments": {}})
        error = error_of(unknown)
        assert error["code"] == "unknown_operation"
        assert "caila_list_datasets" in error["message"]
        hidden = await c.call_tool("ops_call", {"name": "pieces_list_models"})
        assert error_of(hidden)["code"] == "unknown_operation"
        found = structured(await c.call_tool("ops_search", {"query": "list local models"}))
        assert all(op["name"].startswith("caila_") for op in found["operations"])
        with pytest.raises(MCPError, match="Unknown tool"):
            await c.call_tool("pieces_list_models", {})
        assert sandbox.requests("pieces") == []


async def test_search_mode_over_stdio(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with stdio_server(sandbox.env(), state_dir, "--discovery", "search") as (c, _):
        assert {t.name for t in (await c.list_tools()).tools} == SEARCH_TOOLS | JOB_TOOLS
        listed = structured(
            await c.call_tool("ops_call", {"name": "caila_list_datasets", "arguments": {"account": "demo"}})
        )
        assert any(d["name"] == "support-tickets" for d in listed["result"])
