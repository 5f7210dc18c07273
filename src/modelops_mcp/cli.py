"""Command line: serve | demo | sandbox | tools | jobs | doctor | install | store. Thin: parse, call one function."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from modelops_mcp import __version__, commands
from modelops_mcp.install import add_arguments as add_install_arguments
from modelops_mcp.jobs import JOB_STATUSES
from modelops_mcp.spec.openapi import SchemaError


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", help="where the server keeps its state (env MODELOPS_STATE_DIR)")
    parser.add_argument("--schema", action="append", default=[], metavar="PATH", help="load another OpenAPI document")
    parser.add_argument(
        "--toolsets",
        action="append",
        metavar="NAMES",
        help="expose only these toolsets: backends (caila) or groups (datarobot.tests), comma-separated, "
        "repeatable (env MODELOPS_TOOLSETS; `modelops-mcp tools --list-toolsets` lists them)",
    )
    parser.add_argument(
        "--tools",
        action="append",
        metavar="NAMES",
        help="expose these tools too: names or patterns (datarobot_get_*), comma-separated (env MODELOPS_TOOLS)",
    )
    parser.add_argument(
        "--read-only", action="store_true", help="expose read-only tools only (env MODELOPS_READ_ONLY=1)"
    )
    parser.add_argument(
        "--discovery",
        choices=["tools", "search"],
        help="tools: one tool per operation (default); search: ops_search, ops_describe and ops_call stand in "
        "for them, a small tool list however many operations (env MODELOPS_DISCOVERY)",
    )
    parser.add_argument(
        "--output-schemas",
        choices=["lean", "full"],
        help="lean: each result's shape, a third of the bytes (default); full: every field documented, as "
        "ops_describe and modelops://schemas/{backend} always give (env MODELOPS_OUTPUT_SCHEMAS)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modelops-mcp", description=__doc__)
    parser.add_argument("--version", action="version", version=f"modelops-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    _add_common(serve)
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument(
        "--port",
        type=int,
        default=8770,
        help="HTTP port; 0 picks a free one (default 8770; a backend's own address, such as the Training "
        "Module's default localhost:8000, is refused)",
    )
    serve.add_argument("--sandbox", action="store_true", help="start the local emulators and point every backend there")
    serve.add_argument(
        "--no-confirm",
        action="store_true",
        help="run destructive calls (deletes, cancels, stops, force_restart) without asking the user first, "
        "for unattended use (env MODELOPS_NO_CONFIRM=1); clients without elicitation are never asked",
    )
    serve.add_argument(
        "--auth-token",
        metavar="TOKEN",
        help="HTTP: the bearer token clients must send (prefer env MODELOPS_AUTH_TOKEN: a flag shows in `ps`); "
        "without either, one is generated and printed at start",
    )
    serve.add_argument(
        "--no-auth", action="store_true", help="HTTP: accept requests without a token (loopback binds only)"
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        metavar="HOST",
        help="HTTP: a Host header to accept besides the loopback names and the bound address, e.g. the public "
        "name of a 0.0.0.0 bind; repeatable, comma-separated (env MODELOPS_ALLOW_HOSTS)",
    )
    serve.add_argument(
        "--allow-origin",
        action="append",
        metavar="ORIGIN",
        help="HTTP: a browser Origin to accept (https://app.example.com); repeatable (env MODELOPS_ALLOW_ORIGINS)",
    )
    serve.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    # The numbers are read as text and checked by options.Options, the same way as their variables.
    serve.add_argument(
        "--poll-interval",
        metavar="S",
        help="minimum seconds between two status checks of a job, 0.05 to 3600 (1; env MODELOPS_POLL_INTERVAL)",
    )
    serve.add_argument(
        "--poll-max", metavar="S", help="longest backoff between status checks (30; env MODELOPS_POLL_MAX)"
    )
    serve.add_argument(
        "--read-timeout",
        metavar="S",
        help="seconds to wait for a backend's answer before the call fails with kind timeout "
        "(60; env MODELOPS_READ_TIMEOUT)",
    )
    serve.add_argument(
        "--job-max-age",
        metavar="AGE",
        help="an unfinished job older than this is no longer polled and ends failed, saying so: 90s, 30m, 12h, "
        "7d (7d; env MODELOPS_JOB_MAX_AGE)",
    )
    serve.add_argument(
        "--allow-dir",
        action="append",
        metavar="DIR",
        help="a directory local files may be uploaded from, besides the client's roots; repeatable "
        "(env MODELOPS_ALLOW_DIRS); no default: without one, only the client's roots; / is refused",
    )
    serve.add_argument(
        "--output-dir",
        metavar="DIR",
        help="where downloaded files are saved, one folder per backend (env MODELOPS_OUTPUT_DIR; "
        "default: <state dir>/downloads)",
    )
    serve.add_argument(
        "--max-upload-mb",
        metavar="MB",
        help="largest file an upload may send, in MiB (2048; env MODELOPS_MAX_UPLOAD_MB)",
    )
    serve.add_argument(
        "--max-response-mb",
        metavar="MB",
        help="largest JSON answer read inline, in MiB; a larger one is saved to a file (8; env "
        "MODELOPS_MAX_RESPONSE_MB)",
    )
    serve.add_argument(
        "--store",
        metavar="URL",
        help="keep jobs and session keys in PostgreSQL, shared by replicas: postgresql://user:pass@host/db "
        "(env MODELOPS_STORE_URL; default: SQLite in the state dir); docs/DEPLOY.md",
    )
    serve.add_argument(
        "--lease-time",
        metavar="S",
        help="with --store: seconds a replica's claim on a job lasts unrenewed; a dead replica's jobs are "
        "taken over after it (15; env MODELOPS_LEASE_TIME)",
    )

    store = sub.add_parser("store", help="manage the shared job store (PostgreSQL)")
    store_sub = store.add_subparsers(dest="store_command", required=True)
    migrate = store_sub.add_parser("migrate", help="copy a state dir's jobs and session keys into PostgreSQL")
    migrate.add_argument("--state-dir", help="the state dir to copy from (env MODELOPS_STATE_DIR)")
    migrate.add_argument("--store", metavar="URL", help="the PostgreSQL URL to copy into (env MODELOPS_STORE_URL)")

    jobs = sub.add_parser("jobs", help="list the jobs in the state dir, or show one")
    jobs.add_argument("--state-dir", help="where the server keeps its state (env MODELOPS_STATE_DIR)")
    jobs.add_argument("--json", action="store_true", help="print JSON instead of a table")
    jobs.add_argument(
        "--sandbox", action="store_true", help="the jobs of `serve --sandbox`, kept apart in <state dir>/sandbox"
    )
    jobs.add_argument("--backend", help="only this backend's jobs")
    jobs.add_argument("--status", action="append", choices=list(JOB_STATUSES), help="only jobs in this status")
    jobs.add_argument("--limit", type=int, default=50, help="at most this many (newest first; default 50)")
    jobs.add_argument("--store", metavar="URL", help="the replicas' shared store instead (env MODELOPS_STORE_URL)")
    jobs_sub = jobs.add_subparsers(dest="jobs_command")
    show = jobs_sub.add_parser("show", help="one job in full")
    show.add_argument("job_id")
    # Accepted after the job id too; SUPPRESS keeps an absent flag from undoing one given before `show`.
    show.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    show.add_argument(
        "--state-dir", default=argparse.SUPPRESS, help="where the server keeps its state (env MODELOPS_STATE_DIR)"
    )

    sandbox = sub.add_parser("sandbox", help="serve the backend emulators on 127.0.0.1")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--speed", type=float, help="simulated seconds per real second (env MODELOPS_SANDBOX_SPEED)")
    sandbox.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="JSON",
        help='inject a fault, e.g. \'{"backend": "caila", "method": "GET", "kind": "reset", "times": 2}\'; kinds: '
        "latency, status, reset, truncated, malformed, html, oversized, ws_close; repeatable",
    )
    sandbox.add_argument(
        "--faults", action="append", default=[], metavar="FILE", help="inject the faults of a JSON file (a list)"
    )

    demo = sub.add_parser("demo", help="run each backend's journey end to end on the sandbox")
    demo.add_argument("--speed", help="sandbox speed (default 60: a minute a second; env MODELOPS_SANDBOX_SPEED)")
    demo.add_argument("--dataset", default="support-tickets", help="Caila dataset to fit on (broken-labels fails)")
    demo.add_argument(
        "--backend",
        action="append",
        choices=["caila", "training", "pieces", "tunethemodel", "datarobot"],
        help="run only this backend's journey (repeatable; default: all five)",
    )

    tools = sub.add_parser("tools", help="print the tool catalog")
    _add_common(tools)
    tools.add_argument("--json", action="store_true", help="print tools/list's tool definitions as a JSON array")
    tools.add_argument("--list-toolsets", action="store_true", help="print the toolsets and what each holds")
    tools.add_argument(
        "--sandbox", action="store_true", help="list what `serve --sandbox` lists (it configures every backend)"
    )

    doctor = sub.add_parser(
        "doctor",
        help="check each backend's settings (URL valid, reachable, credential accepted) with one read-only call",
    )
    doctor.add_argument("--schema", action="append", default=[], metavar="PATH", help="load another OpenAPI document")
    doctor.add_argument("--json", action="store_true", help="print JSON instead of a table")
    doctor.add_argument("--sandbox", action="store_true", help="check against the built-in sandbox instead")
    install = sub.add_parser("install", help="add this server to Claude Desktop's, Cursor's or VS Code's config")
    add_install_arguments(install)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    runners = {
        "serve": commands.run_serve,
        "sandbox": commands.run_sandbox,
        "demo": commands.run_demo,
        "tools": commands.run_tools,
        "jobs": commands.run_jobs,
        "doctor": commands.run_doctor,
        "install": commands.run_install,
        "store": commands.run_store,
    }
    try:
        return runners[args.command](args)
    except SchemaError as exc:
        print(f"modelops-mcp: invalid schema document: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        # A toolset, tool pattern or mode that names nothing (a SelectionError is a ValueError; not imported
        # here, since spec.selection loads the catalog's SDK and jsonschema imports, which `jobs`, `install`
        # and `--help` never need): said plainly, before anything starts.
        print(f"modelops-mcp: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
