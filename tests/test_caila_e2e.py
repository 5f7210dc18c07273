"""The whole Caila journey through a real MCP client: in memory (both protocol eras), over stdio and over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client

from tests.support import (
    BACKEND_TOOLS,
    JOB_TOOLS,
    RunningSandbox,
    assert_matches_output_schema,
    error_of,
    http_server_process,
    in_process,
    stdio_server,
    structured,
)

pytestmark = pytest.mark.anyio


async def call(client: Client, tools: dict[str, types.Tool], name: str, arguments: dict[str, Any]) -> Any:
    result = await client.call_tool(name, arguments)
    assert not result.is_error, result
    assert_matches_output_schema(tools[name], result)
    return structured(result)


async def journey(client: Client, sandbox: RunningSandbox, dataset_name: str = "support-tickets") -> dict[str, Any]:
    """List datasets, derive a service, list its fit configs, fit, follow the job to the end."""
    listed = await client.list_tools()
    tools = {t.name: t for t in listed.tools}
    assert set(tools) == BACKEND_TOOLS | JOB_TOOLS

    datasets = (await call(client, tools, "caila_list_datasets", {"account": "demo"}))["result"]
    dataset = next(d for d in datasets if d["name"] == dataset_name)

    service = await call(
        client,
        tools,
        "caila_create_derived_service",
        {"account": "demo", "model": "text-classifier", "name": f"mine-{dataset_name}", "hidden": True},
    )
    account, model = str(service["id"]["accountId"]), str(service["id"]["modelId"])
    assert service["modelName"] == f"mine-{dataset_name}"

    configs = (await call(client, tools, "caila_list_fit_configs", {"account": account, "model": model}))["result"]
    default = next(c for c in configs if c["isDefault"])
    assert isinstance(default["config"], str)  # a JSON-encoded string, as the vendor sends it

    job = await call(
        client,
        tools,
        "caila_fit_service",
        {
            "account": account,
            "model": model,
            "datasetId": dataset["id"]["datasetId"],
            "configId": default["id"]["configId"],
        },
    )
    assert job["done"] is False
    handle = job["job"]
    assert handle["status"] == "working"
    assert handle["uri"] == f"job://{handle['id']}"
    status_args = {"account": str(job["accountId"]), "jobId": job["jobId"]}
    first = await call(client, tools, "caila_get_job_status", status_args)
    assert first["done"] is False
    waited = await call(client, tools, "jobs_wait", {"job_id": handle["id"], "timeout_s": 0.2})
    assert waited["timed_out"] is True
    assert waited["job"]["status"] == "working"

    sandbox.emulators.clock.advance(600)  # past the end of any sandbox fit
    final: dict[str, Any] = await call(client, tools, "caila_get_job_status", status_args)
    assert final["done"] is True
    ended = await call(client, tools, "jobs_wait", {"job_id": handle["id"], "timeout_s": 30})
    assert ended["timed_out"] is False
    assert ended["job"]["result"] == final
    assert ended["job"]["status"] == ("failed" if final.get("error") else "completed")
    return final


def assert_sent_as_documented(sandbox: RunningSandbox) -> None:
    caila = sandbox.requests("caila")
    derived = next(r for r in caila if r.path.endswith("/derived"))
    assert derived.method == "POST"
    assert derived.query == {"name": "mine-support-tickets", "hidden": "true"}
    assert all(r.headers.get("mlp-api-key") for r in caila)
    fit = next(r for r in caila if r.path.endswith("/fit"))
    assert set(fit.body) == {"datasetId", "configId"}


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_journey_in_memory(sandbox: RunningSandbox, state_dir: Path, mode: str) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode=mode) as client:
        final = await journey(client, sandbox)
    assert final["state"] == "SUCCESS"
    assert final.get("error") is False
    assert_sent_as_documented(sandbox)


async def test_journey_over_stdio(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with stdio_server(sandbox.env(), state_dir) as (client, _):
        assert client.server_info is not None
        assert client.server_info.name == "modelops-mcp"
        final = await journey(client, sandbox)
    assert final["state"] == "SUCCESS"
    assert_sent_as_documented(sandbox)


async def test_journey_over_streamable_http(sandbox: RunningSandbox, state_dir: Path) -> None:
    with http_server_process(sandbox.env(), state_dir) as (url, _):
        assert url.startswith("http://127.0.0.1:")
        for mode in ("legacy", "auto"):
            async with Client(url, mode=mode) as client:
                final = await journey(client, sandbox, "product-reviews" if mode == "auto" else "support-tickets")
                assert final["state"] == "SUCCESS"


async def test_a_fit_on_a_broken_dataset_ends_with_the_backend_error(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        final = await journey(client, sandbox, "broken-labels")
    assert final["error"] is True
    assert "broken-labels" in final["errorMessage"]


async def test_backend_errors_keep_the_backends_message(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        missing = error_of(await client.call_tool("caila_list_datasets", {"account": "nobody"}))
        assert missing["kind"] == "not_found"
        assert missing["status"] == 404
        assert missing["backend"] == "caila"
        assert missing["operation"] == "caila_list_datasets"
        assert "nobody" in missing["message"]
        assert missing["retryable"] is False

        args = {"account": "demo", "model": "text-classifier", "name": "twice"}
        assert not (await client.call_tool("caila_create_derived_service", args)).is_error
        conflict = error_of(await client.call_tool("caila_create_derived_service", args))
        assert (conflict["kind"], conflict["status"]) == ("conflict", 409)

        both = error_of(
            await client.call_tool(
                "caila_fit_service",
                {"account": "demo", "model": "text-classifier", "datasetId": 501, "configId": 1, "config": {}},
            )
        )
        assert (both["kind"], both["status"]) == ("validation", 400)


async def test_unknown_tool_is_a_protocol_error(sandbox: RunningSandbox, state_dir: Path) -> None:
    from mcp.shared.exceptions import MCPError

    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        with pytest.raises(MCPError, match="Unknown tool"):
            await client.call_tool("caila_delete_everything", {})
        # and the server keeps serving
        assert not (await client.call_tool("caila_list_datasets", {"account": "demo"})).is_error
