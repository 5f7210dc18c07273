"""Every modelops-mcp command the README shows runs as written, and its client snippets start the server.

The ```sh blocks' lines and the inline `modelops-mcp ...` spans are parsed by the CLI's own parser; the cheap ones
(tools, jobs, doctor, and install as a dry run in a temporary home) run in full; serve, sandbox and demo are
checked up to where they would start listening (the selection, the HTTP access rules, a backend's own address,
the faults), so no long-running server starts here.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from modelops_mcp import cli, commands
from modelops_mcp.app.runtime import exposed_operations, load_settings_catalog
from modelops_mcp.app.self_address import collisions
from modelops_mcp.sandbox.faults import faults_from_cli
from modelops_mcp.surface.exposure import expose
from modelops_mcp.surface.http_auth import http_access
from tests.support import server_env, structured

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
PLACEHOLDER = "/path/to/modelops-mcp/.venv/bin/modelops-mcp"
SEPARATORS = {"&&", "||", ";", "|"}
BACKEND_SETTINGS = ("CAILA_", "MODELOPS_", "TRAINING_", "PIECES_", "TTM_", "DATAROBOT_")


def is_executable(token: str) -> bool:
    return token == "modelops-mcp" or token.endswith("/modelops-mcp")


def sh_invocations() -> list[list[str]]:
    """The argv of each modelops-mcp command in the README's ```sh blocks (one per `&&`-separated part)."""
    found = []
    for language, body in FENCE.findall(README):
        if language != "sh":
            continue
        for line in body.replace("\\\n", " ").splitlines():
            part: list[str] = []
            for token in [*shlex.split(line, comments=True), ";"]:
                if token not in SEPARATORS:
                    part.append(token)
                    continue
                words = list(part)
                while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # VAR=value prefixes
                    words.pop(0)
                if words and is_executable(words[0]):
                    found.append(words[1:])
                part = []
    return found


def inline_invocations() -> list[list[str]]:
    """The argv of each inline `modelops-mcp ...` code span outside the fenced blocks."""
    prose = FENCE.sub("", README)
    spans = [shlex.split(span)[1:] for span in re.findall(r"`(modelops-mcp(?:\s[^`]*)?)`", prose)]
    return [argv for argv in spans if argv]  # a bare `modelops-mcp` names the program, it is no command line


def parsed(argv: list[str]) -> argparse.Namespace:
    try:
        return cli._parser().parse_args(argv)
    except SystemExit as exc:  # argparse's way of refusing (2), or --help/--version (0)
        raise AssertionError(f"`modelops-mcp {shlex.join(argv)}` does not parse (exit {exc.code})") from exc


def test_the_readme_shows_the_commands_this_test_walks() -> None:
    shown = {argv[0] for argv in sh_invocations() + inline_invocations() if argv}
    assert {"demo", "serve", "tools", "sandbox", "jobs", "doctor", "install"} <= shown
    assert ["serve", "--transport", "http", "--port", "8770"] in sh_invocations()


@pytest.mark.parametrize("argv", sh_invocations() + inline_invocations(), ids=shlex.join)
def test_each_readme_command_runs_as_written(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [n for n in os.environ if n.startswith(BACKEND_SETTINGS)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MODELOPS_STATE_DIR", str(tmp_path))
    args = parsed(argv)
    if args.command in ("tools", "jobs"):
        code = cli.main(argv)
        out, err = capsys.readouterr()
        no_job_yet = args.command == "jobs" and args.jobs_command == "show" and "no jobs yet" in err
        assert code == 0 or (code == 1 and no_job_yet), err
        assert out or no_job_yet or "no jobs yet" in err
    elif args.command == "serve":
        # What serve decides before it listens: the tool selection, the HTTP access rules, its own address.
        settings = commands.settings_of(args)
        catalog = load_settings_catalog(settings)
        # No backend is configured here: a plain serve lists no operation, but backends_setup says what to set;
        # serve --sandbox configures every backend.
        exposed, exposure = expose(settings, catalog, os.environ, sandbox=args.sandbox)
        assert exposed or exposure.hidden
        if args.sandbox:
            assert exposed == exposed_operations(settings, catalog, sandbox=True)
            assert {op.backend for op in exposed.values()} == set(catalog.backends)
        if args.transport == "http":
            http_access(args.host, token=args.auth_token, no_auth=args.no_auth, env={})
            assert collisions(args.host, args.port, catalog, {}) == [], "the README's port is a backend's address"
    elif args.command == "sandbox":
        faults_from_cli(args.fault, args.faults)
    elif args.command == "doctor":
        # With no backend configured every backend is "not configured", which is not a failure (exit 0).
        code = cli.main(argv)
        out, err = capsys.readouterr()
        assert code == 0, out + err
        assert "caila" in out
    elif args.command == "install":
        # Run as written, but as a dry run in a temporary home: it must not write the developer's own configs.
        for name in ("HOME", "XDG_CONFIG_HOME", "APPDATA"):
            monkeypatch.setenv(name, str(tmp_path / "home"))
        monkeypatch.chdir(ROOT)  # the README runs it from the clone (--allow-dir examples/data)
        code = cli.main([*argv, "--dry-run"] if "--dry-run" not in argv else argv)
        out, err = capsys.readouterr()
        assert code == 0, out + err
        assert "modelops-mcp" in out
        assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("*.json"))
    else:
        assert args.command == "demo"


def client_configs() -> list[tuple[str, dict[str, Any]]]:
    """Every server entry of the README's JSON snippets and of examples/*.json."""
    documents = [("README.md", json.loads(body)) for lang, body in FENCE.findall(README) if lang == "json"]
    documents += [
        (str(p.relative_to(ROOT)), json.loads(p.read_text())) for p in sorted(ROOT.glob("examples/**/*.json"))
    ]
    entries = []
    for where, document in documents:
        servers = document.get("mcpServers") or document.get("servers") or {}
        entries += [(f"{where}: {name}", entry) for name, entry in servers.items()]
    return entries


def test_client_snippets_name_the_installed_executable_by_absolute_path() -> None:
    entries = client_configs()
    assert len(entries) >= 6  # three README snippets, four in examples/
    for where, entry in entries:
        assert entry["command"] == PLACEHOLDER, where  # the README says: replace it with `realpath ...`
        assert isinstance(entry["args"], list)
        parsed([str(a) for a in entry["args"]])
    assert f"`{PLACEHOLDER}`" in README
    assert "`realpath .venv/bin/modelops-mcp`" in README


@pytest.mark.anyio
async def test_each_snippet_starts_the_server_as_written_once_its_path_is_filled_in(tmp_path: Path) -> None:
    # What `realpath .venv/bin/modelops-mcp` prints after the README's install: this interpreter's console script.
    executable = Path(sys.executable).with_name("modelops-mcp")
    assert executable.is_file()
    distinct = {json.dumps(e["args"]): e for _, e in client_configs()}  # `serve` and `serve --sandbox`
    for entry in distinct.values():
        env = {str(k): str(v) for k, v in (entry.get("env") or {}).items()}
        params = StdioServerParameters(
            command=str(executable),
            args=[str(a) for a in entry["args"]],
            env=server_env(env, tmp_path / "state"),
            cwd=str(tmp_path),
        )
        async with Client(params, mode="legacy") as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert {"caila_fit_service", "jobs_wait"} <= names
            if "--sandbox" in entry["args"]:
                datasets = structured(await client.call_tool("caila_list_datasets", {"account": "demo"}))
                assert [d["name"] for d in datasets["result"]] == [
                    "support-tickets",
                    "product-reviews",
                    "broken-labels",
                ]
