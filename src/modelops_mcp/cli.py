"""Command line: serve | demo | sandbox | tools | jobs. Thin: parse, then call one function."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio

from modelops_mcp import __version__
from modelops_mcp.config import Limits, Settings, allowed_dirs, default_state_dir, output_dir
from modelops_mcp.jobs import JOB_STATUSES
from modelops_mcp.tools.openapi import SchemaError


def _settings(args: argparse.Namespace) -> Settings:
    state_dir = Path(args.state_dir).expanduser() if args.state_dir else default_state_dir()
    limits = Limits()
    if getattr(args, "poll_interval", None) is not None:
        limits.poll_min_interval_s = args.poll_interval
    if getattr(args, "poll_max", None) is not None:
        limits.poll_max_s = args.poll_max
    if getattr(args, "max_upload_mb", None) is not None:
        limits.max_upload_bytes = int(args.max_upload_mb * 1024 * 1024)
    return Settings(
        state_dir=state_dir,
        schema_paths=[Path(p) for p in getattr(args, "schema", [])],
        limits=limits,
        allow_dirs=allowed_dirs(getattr(args, "allow_dir", None) or []),
        output_dir=output_dir(getattr(args, "output_dir", None)),
    )


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", help="where the server keeps its state (env MODELOPS_STATE_DIR)")
    parser.add_argument("--schema", action="append", default=[], metavar="PATH", help="load another OpenAPI document")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modelops-mcp", description=__doc__)
    parser.add_argument("--version", action="version", version=f"modelops-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    _add_common(serve)
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="HTTP port; 0 picks a free one (default 8000)")
    serve.add_argument("--sandbox", action="store_true", help="start the local emulators and point every backend there")
    serve.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    serve.add_argument(
        "--poll-interval", type=float, metavar="S", help="minimum seconds between two status checks of a job (1)"
    )
    serve.add_argument("--poll-max", type=float, metavar="S", help="longest backoff between status checks (30)")
    serve.add_argument(
        "--allow-dir",
        action="append",
        metavar="DIR",
        help="a directory local files may be uploaded from, besides the client's roots; repeatable "
        "(env MODELOPS_ALLOW_DIRS; default: the current directory)",
    )
    serve.add_argument(
        "--output-dir",
        metavar="DIR",
        help="where downloaded files are saved, one folder per backend (env MODELOPS_OUTPUT_DIR; "
        "default: <state dir>/downloads)",
    )
    serve.add_argument(
        "--max-upload-mb", type=float, metavar="MB", help="largest file an upload may send, in MiB (2048)"
    )

    jobs = sub.add_parser("jobs", help="list the jobs in the state dir, or show one")
    jobs.add_argument("--state-dir", help="where the server keeps its state (env MODELOPS_STATE_DIR)")
    jobs.add_argument("--json", action="store_true", help="print JSON instead of a table")
    jobs.add_argument("--backend", help="only this backend's jobs")
    jobs.add_argument("--status", action="append", choices=list(JOB_STATUSES), help="only jobs in this status")
    jobs.add_argument("--limit", type=int, default=50, help="at most this many (newest first; default 50)")
    jobs_sub = jobs.add_subparsers(dest="jobs_command")
    show = jobs_sub.add_parser("show", help="one job in full")
    show.add_argument("job_id")
    show.add_argument("--json", action="store_true", help="print JSON")

    sandbox = sub.add_parser("sandbox", help="serve the backend emulators on 127.0.0.1")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--speed", type=float, help="simulated seconds per real second (env MODELOPS_SANDBOX_SPEED)")

    demo = sub.add_parser("demo", help="run each backend's journey end to end on the sandbox")
    demo.add_argument("--speed", type=float, default=60.0, help="sandbox speed (default 60: a minute a second)")
    demo.add_argument("--dataset", default="support-tickets", help="Caila dataset to fit on (broken-labels fails)")
    demo.add_argument(
        "--backend",
        action="append",
        choices=["caila", "training", "pieces", "tunethemodel", "datarobot"],
        help="run only this backend's journey (repeatable; default: all of them)",
    )

    tools = sub.add_parser("tools", help="print the tool catalog")
    _add_common(tools)
    tools.add_argument("--json", action="store_true", help="print the MCP tool definitions as a JSON array")
    return parser


def _run_serve(args: argparse.Namespace) -> int:
    from modelops_mcp.serve import serve

    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    settings = _settings(args)
    anyio.run(
        lambda: serve(
            settings,
            dict(os.environ),
            transport=args.transport,
            host=args.host,
            port=args.port,
            sandbox=args.sandbox,
        )
    )
    return 0


def _run_sandbox(args: argparse.Namespace) -> int:
    from modelops_mcp.sandbox import Sandbox, run_sandbox_forever

    emulators = Sandbox.from_env(os.environ) if args.speed is None else Sandbox(speed=args.speed)

    def ready(url: str) -> None:
        print(f"# modelops-mcp sandbox serving at {url} (speed {emulators.speed:g}x); paste to use it:")
        for name, value in emulators.env(url).items():
            print(f"export {name}={value}")
        sys.stdout.flush()

    run_sandbox_forever(emulators, args.host, args.port, ready)
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from modelops_mcp.demo import run_demo

    backends = args.backend or ["caila", "training", "pieces"]
    return anyio.run(lambda: run_demo(args.speed, args.dataset, backends=backends))


def _run_tools(args: argparse.Namespace) -> int:
    from modelops_mcp.runtime import load_settings_catalog

    catalog = load_settings_catalog(_settings(args))
    if args.json:
        tools = [t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in catalog.tools()]
        print(json.dumps(tools, indent=2))
        return 0
    width = max(len(name) for name in catalog.operations)
    for name, op in catalog.operations.items():
        summary = op.description.split("\n", 1)[0]
        print(f"{name:<{width}}  {op.method:<6} {op.path}\n{'':<{width}}  {summary}")
    return 0


def _run_jobs(args: argparse.Namespace) -> int:
    from modelops_mcp.jobs import JobStore
    from modelops_mcp.jobs.report import show_job, table

    settings = _settings(args)
    if not settings.jobs_db.exists():
        print(f"no jobs yet (no {settings.jobs_db})", file=sys.stderr)
        return 0 if args.jobs_command is None else 1
    store = JobStore(settings.jobs_db)
    try:
        if args.jobs_command == "show":
            job = store.get(args.job_id)
            if job is None:
                print(f"modelops-mcp: no job {args.job_id!r} in {settings.jobs_db}", file=sys.stderr)
                return 1
            print(json.dumps(job.public(), indent=2) if args.json else show_job(job))
            return 0
        jobs, _ = store.page(backend=args.backend, statuses=args.status, limit=max(1, args.limit))
        print(json.dumps([job.public() for job in jobs], indent=2) if args.json else table(jobs))
        return 0
    finally:
        store.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    runners = {"serve": _run_serve, "sandbox": _run_sandbox, "demo": _run_demo, "tools": _run_tools, "jobs": _run_jobs}
    try:
        return runners[args.command](args)
    except SchemaError as exc:
        print(f"modelops-mcp: invalid schema document: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
