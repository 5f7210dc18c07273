"""`modelops-mcp install HOST`: add this server to an MCP host's config file, ready to start as written.

The entry names the installed executable by absolute path (launcher.py says how it is found), the file is merged
(other servers and keys kept) after a backup, and secrets go into the file, as the hosts expect, but never to the
screen.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from modelops_mcp.core import start_cache
from modelops_mcp.install.config_file import Merged, merge, read_config, write_config
from modelops_mcp.install.entry import (
    allowed_dirs,
    masked_entry,
    parse_env,
    parse_server_name,
    server_entry,
)
from modelops_mcp.install.hosts import HOSTS, InstallError, config_path
from modelops_mcp.install.launcher import find_launcher

__all__ = ["HOSTS", "InstallError", "add_arguments", "run_install"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("host", choices=list(HOSTS), help="the MCP host whose config file to write")
    parser.add_argument("--sandbox", action="store_true", help="serve with --sandbox: the local emulators, no account")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="a variable the host sets for the server, e.g. CAILA_API_KEY=...; a bare NAME copies its value from "
        "this shell, so the key stays out of your shell history; repeatable. Written to the file, masked on screen",
    )
    parser.add_argument(
        "--allow-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder the server may upload files from (serve --allow-dir); repeatable",
    )
    parser.add_argument("--name", default="modelops", help="the server's key in the file (default: modelops)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--config", metavar="PATH", help="write this file instead of the host's usual one")
    where.add_argument(
        "--workspace",
        metavar="DIR",
        help="write the project's file instead of the user's: DIR/.vscode/mcp.json or DIR/.cursor/mcp.json",
    )
    parser.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing")


def run_install(
    args: argparse.Namespace, *, environ: Mapping[str, str] | None = None, out: TextIO | None = None
) -> int:
    environ = os.environ if environ is None else environ
    out = sys.stdout if out is None else out
    host = HOSTS[args.host]
    name = parse_server_name(args.name)
    env = parse_env(args.env, environ)
    for variable in [variable for variable, value in env.items() if not value]:
        print(f"modelops-mcp: note: {variable} is empty in the entry", file=sys.stderr)
    if args.config:
        path = os.path.abspath(os.path.expanduser(args.config))
    else:
        workspace = os.path.abspath(os.path.expanduser(args.workspace)) if args.workspace else None
        path = str(config_path(host, system=sys.platform, env=environ, workspace=workspace))
    file = Path(path)
    launcher = find_launcher()
    entry = server_entry(host, launcher, sandbox=args.sandbox, allow_dirs=allowed_dirs(args.allow_dir), env=env)
    document, existed = read_config(file)  # refuses a file that is not JSON, before anything is written
    merged = merge(document, host.servers_key, name, entry, existed)

    if args.dry_run:
        print(f"{host.label}: {file} (dry run: nothing written)", file=out)
        if existed:
            print(f"  the old file would be kept as {file.name}.bak-<timestamp>", file=out)
        _describe(out, merged, host.servers_key, name, masked_entry(entry), launcher.how, verb="would be ")
        with start_cache.no_writes():  # nothing written means no cache entry either
            print(_listing(env, sandbox=args.sandbox), file=out)
        return 0
    if env and args.workspace:
        print(
            f"modelops-mcp: note: {file} belongs to the project and is often committed; keep keys out of version "
            "control",
            file=sys.stderr,
        )
    backup = write_config(file, merged.document, private=bool(env))
    print(f"{host.label}: wrote {file}", file=out)
    if backup is not None:
        print(f"  the old file is kept as {backup}", file=out)
    _describe(out, merged, host.servers_key, name, masked_entry(entry), launcher.how, verb="")
    print(_listing(env, sandbox=args.sandbox), file=out)
    print(host.reload_hint, file=out)
    return 0


def _listing(env: Mapping[str, str], *, sandbox: bool) -> str:
    """Which backends the server will list with the entry's env: by default only the configured ones."""
    from modelops_mcp.app.runtime import load_settings_catalog
    from modelops_mcp.settings.config import TOOLS_ENV, TOOLSETS_ENV, Settings, default_state_dir, listed
    from modelops_mcp.surface.exposure import expose

    settings = Settings(
        state_dir=default_state_dir(env), toolsets=listed(None, TOOLSETS_ENV, env), tools=listed(None, TOOLS_ENV, env)
    )
    exposure = expose(settings, load_settings_catalog(settings), env, sandbox=sandbox)[1]
    shown = [b.backend for b in exposure.backends if b.listed]
    line = f"  lists the tools of: {', '.join(shown) or 'no backend'}"
    hidden = exposure.hidden
    if hidden:
        line += (
            f"; not configured, so not listed: {', '.join(b.backend for b in hidden)} (add --env with "
            f"{' or '.join(v.name for b in hidden for v in b.variables if v.needed)}; backends_setup says the same)"
        )
    return line


def _describe(
    out: TextIO, merged: Merged, servers_key: str, name: str, shown: dict[str, Any], how: str, *, verb: str
) -> None:
    action = "replaced" if merged.replaced else "added"
    print(f'  "{servers_key}" > "{name}" {verb}{action} (command: {how}):', file=out)
    for line in json.dumps({name: shown}, indent=2, ensure_ascii=False).splitlines()[1:-1]:
        print(f"  {line}", file=out)
    if merged.other_servers:
        print(f"  other servers kept: {', '.join(merged.other_servers)}", file=out)
    if merged.other_keys:
        print(f"  other settings kept: {', '.join(merged.other_keys)}", file=out)
    if not merged.existed:
        print(f"  the file {verb or 'is '}new", file=out)
