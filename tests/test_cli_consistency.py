"""The CLI and the resources agree with each other: jobs flags in any order, backends that exist, real tools."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client

from modelops_mcp.cli import main
from tests.support import CAILA_FIT, RunningSandbox, in_process, server_env, structured

pytestmark = pytest.mark.anyio
BACKENDS = "caila, datarobot, pieces, training, tunethemodel"


def cli(*args: str, env_state_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelops_mcp", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=server_env({}, env_state_dir),
        stdin=subprocess.DEVNULL,
    )


async def test_jobs_show_takes_state_dir_after_the_id_and_an_unknown_backend_is_refused(
    sandbox: RunningSandbox, state_dir: Path, tmp_path: Path
) -> None:
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        job = structured(await client.call_tool("caila_fit_service", CAILA_FIT))["job"]
    elsewhere = tmp_path / "elsewhere"  # MODELOPS_STATE_DIR points away: only the flag finds the job

    shown = cli("jobs", "show", job["id"], "--state-dir", str(state_dir), env_state_dir=elsewhere)
    assert shown.returncode == 0, shown.stderr
    assert f"job {job['id']}" in shown.stdout
    # --json given before `show` survives the subcommand; --state-dir after the id still applies.
    as_json = cli("jobs", "--json", "show", job["id"], "--state-dir", str(state_dir), env_state_dir=elsewhere)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["id"] == job["id"]
    both_after = cli("jobs", "show", job["id"], "--json", "--state-dir", str(state_dir), env_state_dir=elsewhere)
    assert json.loads(both_after.stdout)["status"] == "working"

    listed = cli("jobs", "--backend", "caila", "--state-dir", str(state_dir), env_state_dir=elsewhere)
    assert listed.returncode == 0, listed.stderr
    assert job["id"] in listed.stdout
    # A misspelt backend is refused, naming the real ones, with jobs in the store and without any.
    for where in (state_dir, elsewhere):
        refused = cli("jobs", "--backend", "nope", "--state-dir", str(where), env_state_dir=elsewhere)
        assert refused.returncode == 2
        assert refused.stdout == ""
        assert f"unknown backend 'nope'; the backends are {BACKENDS}" in refused.stderr
        assert "no jobs" not in refused.stderr


async def test_the_backends_resource_lists_only_tools_that_tools_list_has(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    for options in ({}, {"toolsets": ["caila", "datarobot.tests"]}):
        async with (
            in_process(sandbox.env(), state_dir, **options) as (server, _),
            Client(server, mode="legacy") as client,
        ):
            listed = {tool.name for tool in (await client.list_tools()).tools}
            read = (await client.read_resource("modelops://backends")).contents[0]
        assert isinstance(read, types.TextResourceContents)
        backends = {b["backend"]: b for b in json.loads(read.text)}
        named = {name for b in backends.values() for name in b["tools"]}
        assert "datarobot_get_status" not in named  # the status operation jobs poll, not a tool
        assert named == listed - {"jobs_list", "jobs_get", "jobs_wait", "jobs_cancel"}
        if options:
            assert backends["training"]["tools"] == []
            assert "caila_fit_service" in backends["caila"]["tools"]


def test_tools_prints_the_same_tools_as_json_and_says_how_they_add_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [n for n in os.environ if n.startswith("MODELOPS_")]:
        monkeypatch.delenv(name)  # the flags below alone choose the listing
    # --sandbox: every backend configured, as `serve --sandbox` has them (test_exposure_default.py: the others).
    for mode in (("--sandbox",), ("--sandbox", "--discovery", "search"), ("--toolsets", "caila", "--read-only")):
        assert main(["tools", "--json", *mode]) == 0
        names = [tool["name"] for tool in json.loads(capsys.readouterr().out)]
        assert main(["tools", *mode]) == 0
        table = capsys.readouterr().out
        rows = re.findall(r"^(\w+)  ", table, re.MULTILINE)
        assert rows == names
        total = re.search(r"^(\d+) tools: (.*)$", table, re.MULTILINE)
        assert total is not None
        assert int(total.group(1)) == len(names)
        if "--discovery" not in mode:
            jobs = [name for name in names if name.startswith("jobs_")]  # no jobs_cancel when --read-only
            said = f"{len(names) - len(jobs)} backend operations and {len(jobs)} tools of this server (jobs_*)"
            assert total.group(2) == said
        else:
            assert "ops_search, ops_describe and ops_call reach" in total.group(2)
