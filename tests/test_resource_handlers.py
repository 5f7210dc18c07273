"""ResourceHandlers alone: resources, templates, reads, completions and subscriptions called directly."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from modelops_mcp.jobs import Job
from modelops_mcp.surface import dashboard
from modelops_mcp.surface.parts import Runtime
from modelops_mcp.surface.resource_handlers import ResourceHandlers
from modelops_mcp.surface.resources import RESOURCE_NOT_FOUND
from tests.handler_context import ClientEnd, legacy_context, modern_context
from tests.support import CAILA_FIT, RunningSandbox, in_process

pytestmark = pytest.mark.anyio

UPDATED = "notifications/resources/updated"


async def start_fit(runtime: Runtime) -> Job:
    result = await runtime.executor.call("caila_fit_service", dict(CAILA_FIT))
    assert not result.is_error, result
    assert result.structured_content is not None
    return runtime.jobs.get(result.structured_content["job"]["id"])


def read(uri: str) -> types.ReadResourceRequestParams:
    return types.ReadResourceRequestParams(uri=uri)


async def test_list_resources_holds_the_backends_each_schema_and_the_jobs(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        handlers = ResourceHandlers(runtime)
        before = await handlers.list_resources(legacy_context(method="resources/list"), None)
        job = await start_fit(runtime)
        after = await handlers.list_resources(legacy_context(method="resources/list"), None)
    uris = [str(resource.uri) for resource in before.resources]
    assert uris[0] == "modelops://backends"
    assert set(uris[1:]) == {f"modelops://schemas/{name}" for name in runtime.catalog.backends}
    assert [str(resource.uri) for resource in after.resources] == [*uris, job.uri]


async def test_the_dashboard_is_listed_only_for_an_mcp_apps_host_and_reads_as_its_html(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    host = types.ClientCapabilities(extensions={dashboard.EXTENSION_ID: {"mimeTypes": [dashboard.APP_MIME_TYPE]}})
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        handlers = ResourceHandlers(runtime)
        plain = await handlers.list_resources(legacy_context(), None)
        apps = await handlers.list_resources(legacy_context(None, host), None)
        (page,) = (await handlers.read_resource(legacy_context(None, host), read(dashboard.URI))).contents
    assert [str(r.uri) for r in apps.resources] == [*(str(r.uri) for r in plain.resources), dashboard.URI]
    assert isinstance(page, types.TextResourceContents)
    assert page.mime_type == dashboard.APP_MIME_TYPE
    assert page.text.lstrip().lower().startswith("<!doctype html>")


async def test_list_templates_offers_a_backends_schema_and_a_job(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        listed = await ResourceHandlers(runtime).list_templates(legacy_context(), None)
    assert [t.uri_template for t in listed.resource_templates] == ["modelops://schemas/{backend}", "job://{job_id}"]


async def test_read_resource_reads_a_job_as_the_backend_last_said_and_the_backends(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        handlers = ResourceHandlers(runtime)
        job = await start_fit(runtime)
        (started,) = (await handlers.read_resource(legacy_context(), read(job.uri))).contents
        sandbox.emulators.clock.advance(600)
        # A read polls the backend once the state is older than the minimum interval (50 ms here).
        with anyio.fail_after(10):
            while True:
                (ended,) = (await handlers.read_resource(legacy_context(), read(job.uri))).contents
                assert isinstance(ended, types.TextResourceContents)
                if json.loads(ended.text)["status"] == "completed":
                    break
                await anyio.sleep(0.02)
        (backends_contents,) = (await handlers.read_resource(legacy_context(), read("modelops://backends"))).contents
    assert isinstance(started, types.TextResourceContents)
    assert started.uri == job.uri
    assert (json.loads(started.text)["id"], json.loads(started.text)["status"]) == (job.id, "working")
    assert json.loads(ended.text)["result"]["state"] == "SUCCESS"
    assert isinstance(backends_contents, types.TextResourceContents)
    backends = json.loads(backends_contents.text)
    assert sorted(b["backend"] for b in backends) == sorted(runtime.catalog.backends)
    assert all(b["credential_set"] is True for b in backends if b["credential_env"])


async def test_an_unknown_resource_is_not_found_with_each_eras_code(sandbox: RunningSandbox, state_dir: Path) -> None:
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        handlers = ResourceHandlers(runtime)
        with pytest.raises(MCPError) as legacy:
            await handlers.read_resource(legacy_context(), read("job://nosuchjob"))
        with pytest.raises(MCPError) as modern:
            await handlers.read_resource(modern_context(), read("modelops://schemas/nosuchbackend"))
    assert legacy.value.error.code == RESOURCE_NOT_FOUND
    assert legacy.value.error.data == {"uri": "job://nosuchjob"}
    assert modern.value.error.code == types.INVALID_PARAMS
    assert "nosuchbackend" in modern.value.error.message


async def test_complete_offers_backends_and_job_ids_by_prefix(sandbox: RunningSandbox, state_dir: Path) -> None:
    def complete(uri: str, argument: str, value: str) -> types.CompleteRequestParams:
        return types.CompleteRequestParams(
            ref=types.ResourceTemplateReference(type="ref/resource", uri=uri),
            argument=types.CompletionArgument(name=argument, value=value),
        )

    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        handlers = ResourceHandlers(runtime)
        job = await start_fit(runtime)
        backends = await handlers.complete(legacy_context(), complete("modelops://schemas/{backend}", "backend", "ca"))
        jobs = await handlers.complete(legacy_context(), complete("job://{job_id}", "job_id", job.id[:3]))
        nothing = await handlers.complete(legacy_context(), complete("job://{job_id}", "other", ""))
    assert (backends.completion.values, backends.completion.total, backends.completion.has_more) == (
        ["caila"],
        1,
        False,
    )
    assert jobs.completion.values == [job.id]
    assert nothing.completion.values == []


async def test_a_subscriber_is_told_of_its_jobs_changes_until_it_unsubscribes(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    subscriber, other = ClientEnd(), ClientEnd()
    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        handlers = ResourceHandlers(runtime)
        runtime.jobs.add_listener(handlers.job_changed)  # as build_server wires it
        job = await start_fit(runtime)
        subscribe = types.SubscribeRequestParams(uri=job.uri)
        await handlers.subscribe(legacy_context(subscriber, method="resources/subscribe"), subscribe)
        await handlers.subscribe(legacy_context(other), types.SubscribeRequestParams(uri="job://another"))
        sandbox.emulators.clock.advance(600)
        assert (await runtime.jobs.wait(job.id, 10)).status == "completed"
        told = [(method, (params or {}).get("uri")) for method, params in subscriber.notifications]
        unsubscribe = types.UnsubscribeRequestParams(uri=job.uri)
        await handlers.unsubscribe(legacy_context(subscriber), unsubscribe)
        heard = len(subscriber.notifications)
        await handlers.job_changed(job)
    assert told
    assert set(told) == {(UPDATED, job.uri)}
    assert len(subscriber.notifications) == heard  # nothing after unsubscribing
    assert other.notifications == []


async def test_a_modern_listen_stream_is_told_of_its_jobs_changes_until_it_is_closed(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    client = ClientEnd(request_id=7)
    ctx = modern_context(client, method="subscriptions/listen")

    async with in_process(sandbox.env(), state_dir) as (_, runtime):
        handlers = ResourceHandlers(runtime)
        job = await start_fit(runtime)
        params = types.SubscriptionsListenRequestParams(
            notifications=types.SubscriptionFilter(resource_subscriptions=[job.uri])
        )
        ended: list[types.SubscriptionsListenResult] = []

        async def listen() -> None:
            ended.append(await handlers.listen(ctx, params))

        async with anyio.create_task_group() as tg:
            tg.start_soon(listen)
            await client.notified(1)  # the acknowledgement
            await handlers.job_changed(job)
            await handlers.subscriptions.publish("job://another")  # not asked for: not sent
            await client.notified(2)
            handlers.listen.close()
    (ack_method, _), (method, updated) = client.notifications[:2]
    assert ack_method == "notifications/subscriptions/acknowledged"
    assert method == UPDATED
    assert updated is not None
    assert updated["uri"] == job.uri
    assert len(client.notifications) == 2
    assert len(ended) == 1
