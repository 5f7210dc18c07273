"""ToolHandlers alone: tools/list and tools/call called directly, over a real runtime and the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from modelops_mcp.surface import dashboard
from modelops_mcp.surface.parts import Runtime
from modelops_mcp.surface.tasks import Tasks
from modelops_mcp.surface.tool_handlers import ToolHandlers
from tests.handler_context import (
    TASKS,
    ClientEnd,
    elicitation,
    legacy_context,
    modern_context,
    user_answers,
)
from tests.support import (
    BACKEND_TOOLS,
    CAILA_FIT,
    EXAMPLE_DATA,
    JOB_TOOLS,
    RunningSandbox,
    error_in_json,
    in_process,
)

pytestmark = pytest.mark.anyio

TRAIN = EXAMPLE_DATA / "sentiment-train.csv"


def handlers(runtime: Runtime) -> ToolHandlers:
    return ToolHandlers(runtime, Tasks(runtime.jobs, runtime.catalog))


def call(name: str, arguments: dict[str, Any] | None = None, **more: Any) -> types.CallToolRequestParams:
    return types.CallToolRequestParams(name=name, arguments=arguments, **more)


def answer_of(result: types.CallToolResult | dict[str, Any]) -> dict[str, Any]:
    """The wire answer of a successful call: call_tool hands the SDK the dict it sends."""
    assert isinstance(result, dict), result
    assert result.get("isError") is not True, result
    structured: dict[str, Any] = result["structuredContent"]
    return structured


def error_of(result: types.CallToolResult | dict[str, Any]) -> dict[str, Any]:
    if isinstance(result, types.CallToolResult):
        result = result.model_dump(by_alias=True, mode="json", exclude_none=True)
    return error_in_json(result)


def deletes(sandbox: RunningSandbox) -> list[Any]:
    return sandbox.emulators.log.entries("tunethemodel", method="DELETE")


async def test_list_tools_lists_every_exposed_operation_and_the_job_tools(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        listed = await handlers(runtime).list_tools(legacy_context(), None)
    assert {tool.name for tool in listed.tools} == BACKEND_TOOLS | JOB_TOOLS


async def test_the_server_finds_a_listed_tools_input_schema_without_running_tools_list(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    # The SDK checks a 2026-07-28 call's Mcp-Param-* headers against the tool's schema: without this lookup it
    # ran and serialised the whole tools/list on every such call (15 ms of CPU each here).
    async with in_process(sandbox.env(), state_dir) as (server, runtime):
        listed = (await handlers(runtime).list_tools(legacy_context(), None)).tools
        lookup = server.get_tool_input_schema
        assert lookup is not None
        assert {tool.name: lookup(tool.name) for tool in listed} == {tool.name: tool.input_schema for tool in listed}
        assert lookup("no_such_tool") is None


async def test_list_tools_points_the_jobs_tools_at_the_dashboard_only_for_an_mcp_apps_host(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    host = types.ClientCapabilities(extensions={dashboard.EXTENSION_ID: {"mimeTypes": [dashboard.APP_MIME_TYPE]}})
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        tools = handlers(runtime)
        plain = {tool.name: tool for tool in (await tools.list_tools(legacy_context(), None)).tools}
        apps = {tool.name: tool for tool in (await tools.list_tools(legacy_context(None, host), None)).tools}
    assert set(apps) == set(plain)
    declared = {name for name, tool in apps.items() if (tool.meta or {}).get("ui") == {"resourceUri": dashboard.URI}}
    assert declared == {"jobs_list", "jobs_get", "jobs_wait"}
    assert not any((tool.meta or {}).get("ui") for tool in plain.values())


async def test_list_tools_in_search_mode_lists_three_tools_for_every_operation(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir, discovery="search", read_only=True) as (_, runtime):
        listed = await handlers(runtime).list_tools(legacy_context(), None)
    # Read-only: jobs stay readable, not cancellable.
    assert {tool.name for tool in listed.tools} == {"ops_search", "ops_describe", "ops_call"} | JOB_TOOLS - {
        "jobs_cancel"
    }


async def test_a_call_sends_its_request_and_answers_with_the_wire_result(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        result = await handlers(runtime).call_tool(legacy_context(), call("caila_list_datasets", {"account": "demo"}))
    datasets = answer_of(result)["result"]
    assert "support-tickets" in [d["name"] for d in datasets]
    assert isinstance(result, dict)
    assert result["content"][0]["type"] == "text"
    (sent,) = sandbox.requests("caila")
    assert sent.method == "GET"
    assert "/demo/" in sent.path


async def test_bad_arguments_are_an_error_result_and_nothing_is_sent(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        result = await handlers(runtime).call_tool(legacy_context(), call("caila_list_datasets", {"account": 5}))
    error = error_of(result)
    assert (error["kind"], error["operation"]) == ("validation", "caila_list_datasets")
    assert "account" in json.dumps(error["violations"])
    assert sandbox.requests() == []


async def test_an_unknown_tool_is_invalid_params_and_one_of_a_backend_not_configured_says_what_to_set(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    env = {k: v for k, v in sandbox.env().items() if not k.startswith("DATAROBOT_")}
    async with in_process(env, state_dir) as (_, runtime):
        tools = handlers(runtime)
        with pytest.raises(MCPError) as unknown:
            await tools.call_tool(legacy_context(), call("caila_no_such_tool"))
        with pytest.raises(MCPError) as hidden:
            await tools.call_tool(legacy_context(), call("datarobot_list_custom_models"))
    assert unknown.value.error.code == types.INVALID_PARAMS
    assert unknown.value.error.message == "Unknown tool: caila_no_such_tool"
    assert hidden.value.error.code == types.INVALID_PARAMS
    assert "DataRobot is not configured" in hidden.value.error.message
    assert "DATAROBOT_API_TOKEN" in hidden.value.error.message
    assert sandbox.requests() == []


async def test_backends_setup_names_the_missing_variables_and_the_asking_clients_host(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    env = {k: v for k, v in sandbox.env().items() if not k.startswith("DATAROBOT_")}
    async with in_process(env, state_dir) as (_, runtime):
        tools = handlers(runtime)
        assert "backends_setup" in {tool.name for tool in (await tools.list_tools(legacy_context(), None)).tools}
        result = await tools.call_tool(legacy_context(client_name="cursor-vscode"), call("backends_setup"))
    body = answer_of(result)
    (datarobot,) = [b for b in body["backends"] if b["backend"] == "datarobot"]
    assert datarobot["listed"] is False
    assert "install cursor" in datarobot["install"]
    assert "DATAROBOT_API_TOKEN" in datarobot["install"]
    assert all("install" not in b for b in body["backends"] if b["backend"] != "datarobot")


async def test_a_destructive_call_on_the_legacy_wire_asks_first_and_only_a_yes_sends_it(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    client = ClientEnd(answers={"elicitation/create": user_answers("decline")})
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        tools = handlers(runtime)
        created = answer_of(
            await tools.call_tool(legacy_context(), call("tunethemodel_create_model", {"model_type": "classifier"}))
        )
        # Bad arguments are refused before the user is asked about a call that cannot run.
        bad = call("tunethemodel_delete_model", {"model_id": 5})
        invalid = error_of(await tools.call_tool(legacy_context(client, elicitation()), bad))
        assert (invalid["kind"], client.requests) == ("validation", [])
        delete = call("tunethemodel_delete_model", {"model_id": created["model_id"]})
        refused = error_of(await tools.call_tool(legacy_context(client, elicitation()), delete))
        assert deletes(sandbox) == []
        client.answers["elicitation/create"] = user_answers("accept")
        answer_of(await tools.call_tool(legacy_context(client, elicitation()), delete))
    assert (refused["code"], refused["operation"]) == ("not_confirmed", "tunethemodel_delete_model")
    assert len(deletes(sandbox)) == 1
    asked = [params for method, params in client.requests if method == "elicitation/create"]
    assert len(asked) == 2
    assert asked[0] is not None
    assert created["model_id"] in asked[0]["message"]


async def test_a_destructive_call_on_the_modern_wire_answers_with_the_question_then_runs_on_the_answer(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        tools = handlers(runtime)
        created = answer_of(
            await tools.call_tool(modern_context(), call("tunethemodel_create_model", {"model_type": "classifier"}))
        )
        arguments = {"model_id": created["model_id"]}
        pending = await tools.call_tool(
            modern_context(None, elicitation()), call("tunethemodel_delete_model", arguments)
        )
        assert isinstance(pending, dict)
        assert pending["resultType"] == "input_required", pending
        assert deletes(sandbox) == []
        question = pending["inputRequests"]["confirm"]
        assert question["method"] == "elicitation/create"
        assert created["model_id"] in question["params"]["message"]
        retry = call(
            "tunethemodel_delete_model",
            arguments,
            input_responses={"confirm": {"action": "accept", "content": {"confirm": True}}},
            request_state=pending["requestState"],
        )
        answer_of(await tools.call_tool(modern_context(None, elicitation()), retry))
        # The answer is bound to its call: the same state with other arguments asks again.
        other = retry.model_copy(update={"arguments": {"model_id": created["model_id"] + "x"}})
        again = await tools.call_tool(modern_context(None, elicitation()), other)
    assert isinstance(again, dict)
    assert again["resultType"] == "input_required"
    assert len(deletes(sandbox)) == 1


async def test_jobs_cancel_of_a_running_job_is_asked_and_a_no_leaves_it_followed(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    client = ClientEnd(answers={"elicitation/create": user_answers("accept", confirm=False)})
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        tools = handlers(runtime)
        job = answer_of(await tools.call_tool(legacy_context(), call("caila_fit_service", CAILA_FIT)))["job"]
        refused = error_of(
            await tools.call_tool(legacy_context(client, elicitation()), call("jobs_cancel", {"job_id": job["id"]}))
        )
        assert runtime.jobs.get(job["id"]).following is True
        # An unknown job is not asked about: jobs_cancel says it does not know it.
        unknown = error_of(
            await tools.call_tool(legacy_context(client, elicitation()), call("jobs_cancel", {"job_id": "nosuchjob"}))
        )
    assert refused["code"] == "not_confirmed"
    assert unknown["kind"] == "not_found"
    (asked,) = [params for method, params in client.requests if method == "elicitation/create"]
    assert asked is not None
    assert job["id"] in asked["message"]


async def test_jobs_wait_reports_progress_to_the_requests_client_until_the_job_ends(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    client = ClientEnd()
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        tools = handlers(runtime)
        job = answer_of(await tools.call_tool(legacy_context(), call("caila_fit_service", CAILA_FIT)))["job"]
        sandbox.emulators.clock.advance(600)
        with anyio.fail_after(20):
            waited = answer_of(
                await tools.call_tool(legacy_context(client), call("jobs_wait", {"job_id": job["id"], "timeout_s": 15}))
            )
    assert (waited["timed_out"], waited["job"]["status"]) == (False, "completed")
    assert len(client.progress_reports) >= 2
    values = [value for value, _, _ in client.progress_reports]
    assert values == sorted(values)
    assert values[-1] == 100
    assert all(total == 100 for _, total, _ in client.progress_reports)


async def test_a_job_starting_call_from_a_task_aware_client_answers_with_a_task_handle(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        tools = handlers(runtime)
        task = await tools.call_tool(modern_context(extensions=(TASKS,)), call("caila_fit_service", CAILA_FIT))
        plain = await tools.call_tool(modern_context(), call("caila_fit_service", CAILA_FIT))
        jobs = [job.id for job in runtime.jobs.store.page(limit=10)[0]]
    assert isinstance(task, dict)
    assert task["resultType"] == "task"
    assert task["status"] == "working"
    assert task["taskId"] in jobs
    assert answer_of(plain)["job"]["id"] in jobs  # without the extension: the job handle, as before


async def test_ops_call_runs_an_operation_through_the_same_path_and_asks_for_a_destructive_one(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    client = ClientEnd(answers={"elicitation/create": user_answers("decline")})
    async with in_process(sandbox.env(), state_dir, discovery="search") as (_, runtime):
        tools = handlers(runtime)
        listed = answer_of(
            await tools.call_tool(
                legacy_context(),
                call("ops_call", {"name": "caila_list_datasets", "arguments": {"account": "demo"}}),
            )
        )
        delete = {"name": "tunethemodel_delete_model", "arguments": {"model_id": "m-1"}}
        refused = error_of(await tools.call_tool(legacy_context(client, elicitation()), call("ops_call", delete)))
        unknown = error_of(await tools.call_tool(legacy_context(), call("ops_call", {"name": "caila_fit_it"})))
    assert "support-tickets" in [d["name"] for d in listed["result"]]
    assert len(sandbox.requests("caila")) == 1
    assert (refused["code"], refused["operation"]) == ("not_confirmed", "tunethemodel_delete_model")
    assert deletes(sandbox) == []
    assert unknown["code"] == "unknown_operation"


async def test_an_upload_may_come_from_the_clients_roots(
    sandbox: RunningSandbox, state_dir: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.csv").write_bytes(TRAIN.read_bytes())
    roots = {"roots": [{"uri": project.as_uri(), "name": "project"}]}
    client = ClientEnd(answers={"roots/list": lambda params: roots})
    capabilities = types.ClientCapabilities(roots=types.RootsCapability())
    async with in_process(sandbox.env(), state_dir, allow_dirs=[EXAMPLE_DATA]) as (_, runtime):
        tools = handlers(runtime)
        answer_of(await tools.call_tool(legacy_context(), call("training_start_session")))
        upload = call("training_upload_dataset", {"train_file": "train.csv", "test_file": str(TRAIN)})
        refused = error_of(await tools.call_tool(legacy_context(), upload))  # a client without roots
        uploaded = answer_of(await tools.call_tool(legacy_context(client, capabilities), upload))
    assert refused["kind"] == "validation"
    assert uploaded["dataset"]["train_rows"] == 40
    assert [method for method, _ in client.requests] == ["roots/list"]
    sent = [r for r in sandbox.requests("training") if "/upload_dataset" in r.path]
    assert len(sent) == 1
    assert json.dumps(sent[0].body).count("train.csv") >= 1
