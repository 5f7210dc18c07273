"""The declarative status adapter: rule matching, progress scaling, ids from runtime expressions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.calls.reply import Reply, evaluate
from modelops_mcp.core.errors import ToolFailure
from modelops_mcp.jobs.declared import DeclaredAdapter, matches
from modelops_mcp.settings.config import Settings
from modelops_mcp.spec.extension import JobDeclaration, OperationRef


@pytest.mark.parametrize(
    ("actual", "expected", "result"),
    [
        (True, True, True),
        (1, True, False),
        (True, 1, False),
        ("SUCCESS", "success", True),
        ("RUNNING", ["pending", "running"], True),
        ("FAILED", ["pending", "running"], False),
        (3, 3.0, True),
        (None, None, True),
        (None, False, False),
    ],
)
def test_rule_values_match_as_documented(actual: Any, expected: Any, result: bool) -> None:
    assert matches(actual, expected) is result


def adapter(**declaration: Any) -> DeclaredAdapter:
    catalog = load_settings_catalog(Settings(state_dir="/nonexistent"))
    fit = catalog.operations["caila_fit_service"]
    base = {"ids": {"jobId": "$response.body#/jobId"}, "status": {"operation": "getJobStatus"}}
    return DeclaredAdapter(JobDeclaration.model_validate({**base, **declaration}), fit, catalog)


def test_status_rules_state_message_and_a_percentage_progress() -> None:
    declared = adapter(
        rules=[{"when": {"/phase": ["done", "finished"]}, "status": "completed"}],
        state="/phase",
        message="/note",
        progress={"pointer": "/pct", "scale": 100},
    )
    running = declared.interpret({"phase": "training", "pct": 40, "note": "epoch 2 of 5"})
    assert (running.status, running.state, running.message, running.progress) == (
        "working",
        "training",
        "epoch 2 of 5",
        0.4,
    )
    assert running.result is None
    done = declared.interpret({"phase": "DONE", "pct": 100})
    assert done.status == "completed"
    assert done.result == {"phase": "DONE", "pct": 100}
    assert declared.interpret({"phase": "x", "pct": "n/a"}).progress is None
    assert declared.interpret({"phase": "x", "pct": 250}).progress == 1.0


def test_remote_ids_come_from_the_response_the_request_and_headers() -> None:
    declared = adapter(
        ids={"account": "$request.path.account", "jobId": "$response.body#/jobId", "loc": "$response.header.Location"}
    )
    reply = Reply(200, {"jobId": 7}, httpx.Headers({"Location": "/jobs/7"}))
    assert declared.remote_ids({"account": "demo", "model": "m", "datasetId": 1}, reply) == {
        "account": "demo",
        "jobId": 7,
        "loc": "/jobs/7",
    }
    assert evaluate("$request.body#/datasetId", declared.start, {"datasetId": 501}, reply) == 501


def test_a_start_answer_without_the_job_id_is_a_clear_error() -> None:
    with pytest.raises(ToolFailure, match="has no jobId"):
        adapter().remote_ids({}, Reply(200, {"state": "PENDING"}, httpx.Headers()))


def test_status_arguments_keep_id_types_unless_the_parameter_is_a_string() -> None:
    catalog = load_settings_catalog(Settings(state_dir="/nonexistent"))
    status = catalog.operations["caila_get_job_status"]  # `account` is a string ("id or name"), jobId an int64
    ref = OperationRef(
        operation="getJobStatus", arguments={"account": "{account}", "jobId": "{jobId}", "x": "j-{jobId}"}
    )
    filled = DeclaredAdapter.arguments_for(status, ref, {"account": 1001, "jobId": 9001})
    assert filled == {"account": "1001", "jobId": 9001, "x": "j-9001"}
