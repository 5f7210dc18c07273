"""What each subcommand does with its parsed arguments (cli.py parses them and calls one of these).

The server's heavy imports (the SDK, jsonschema, the catalog) stay inside the commands that need them, so
`--help`, `jobs` and `install` start fast and a start refused for its flags costs none of them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import anyio

from modelops_mcp.settings.config import Settings
from modelops_mcp.settings.options import options_from


def settings_of(args: argparse.Namespace) -> Settings:
    # Every flag and its variable pass the bounds of one model; a bad value stops here (exit 2).
    return options_from(args, os.environ).settings([Path(p) for p in getattr(args, "schema", [])])


def run_serve(args: argparse.Namespace) -> int:
    from modelops_mcp.surface.http_auth import http_access

    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    settings = settings_of(args)
    access = None
    if args.transport == "http":
        # Decided before anything listens: an unsafe combination stops the start (exit 2).
        access = http_access(
            args.host,
            token=args.auth_token,
            no_auth=args.no_auth,
            allow_hosts=args.allow_host,
            allow_origins=args.allow_origin,
            env=os.environ,
        )
        if not args.sandbox:  # the sandbox points every backend at its own emulators
            _refuse_self_address(settings, args.host, args.port)
    # Imported once the settings and the access rules passed: a start refused for them (exit 2) skips the
    # server's imports (the SDK's alone take about 2 s of CPU).
    from modelops_mcp.app.serve import serve

    anyio.run(
        lambda: serve(
            settings,
            dict(os.environ),
            transport=args.transport,
            host=args.host,
            port=args.port,
            sandbox=args.sandbox,
            access=access,
        )
    )
    return 0


def _refuse_self_address(settings: Settings, host: str, port: int) -> None:
    from modelops_mcp.app.runtime import load_settings_catalog
    from modelops_mcp.app.self_address import collisions

    found = collisions(host, port, load_settings_catalog(settings), os.environ)
    if found:
        raise ValueError(f"refusing to serve at {host}:{port}: " + "; ".join(found))


def run_sandbox(args: argparse.Namespace) -> int:
    from modelops_mcp.sandbox import Sandbox, run_sandbox_forever
    from modelops_mcp.sandbox.faults import faults_from_cli

    faults = faults_from_cli(args.fault, args.faults)  # a bad fault stops the start, before anything listens
    emulators = Sandbox.from_env(os.environ) if args.speed is None else Sandbox(speed=args.speed)
    for fault in faults:
        emulators.faults.add(fault)

    def ready(url: str) -> None:
        print(f"# modelops-mcp sandbox serving at {url} (speed {emulators.speed:g}x); paste to use it:")
        for fault in faults:
            print(f"# fault: {json.dumps(fault.to_json())}")
        for name, value in emulators.env(url).items():
            print(f"export {name}={value}")
        sys.stdout.flush()

    run_sandbox_forever(emulators, args.host, args.port, ready)
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from modelops_mcp.demo.journeys import JOURNEYS
    from modelops_mcp.demo.run import run_demo

    # Every journey unless --backend names some (each once, in the order named).
    backends = list(dict.fromkeys(args.backend or JOURNEYS))
    speed = options_from(args, os.environ).speed
    return anyio.run(lambda: run_demo(speed, args.dataset, backends=backends))


def run_tools(args: argparse.Namespace) -> int:
    from modelops_mcp.app.runtime import load_settings_catalog
    from modelops_mcp.spec.selection import ALL, CONFIGURED, toolsets
    from modelops_mcp.surface.exposure import configured_backends, expose
    from modelops_mcp.surface.listing import listed_tools

    settings = settings_of(args)
    catalog = load_settings_catalog(settings)
    if args.list_toolsets:
        configured = configured_backends(catalog, os.environ, sandbox=args.sandbox)
        mine = [op for op in catalog.operations.values() if op.backend in configured]
        print(f"{CONFIGURED:<34} {len(mine):>3} tools  the default: {', '.join(configured) or 'none configured here'}")
        print(f"{ALL:<34} {len(catalog.operations):>3} tools  every backend")
        for name, names in toolsets(catalog).items():
            backend, _, group = name.partition(".")
            spec = catalog.backends[backend]
            about = spec.groups.get(group, "") if group else spec.title
            print(f"{name:<34} {len(names):>3} tools  {about}")
        return 0
    exposed, exposure = expose(settings, catalog, os.environ, sandbox=args.sandbox)
    listed = listed_tools(settings, catalog, exposed, exposure=exposure)
    if args.json:
        print(json.dumps([t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in listed], indent=2))
        return 0
    if not exposed and not exposure.hidden:
        print("modelops-mcp: the selection exposes no operation", file=sys.stderr)
        return 1
    # The same tools as --json, in the same order: an operation shows its method and path, a tool this
    # server implements itself (jobs_*, search mode's ops_*) says so.
    width = max(len(tool.name) for tool in listed)
    for tool in listed:
        op = exposed.get(tool.name) if settings.discovery == "tools" else None
        route = f"{op.method:<6} {op.path}" if op is not None else "(a tool of this server)"
        summary = (op.description if op is not None else tool.description or "").split("\n", 1)[0]
        print(f"{tool.name:<{width}}  {route}\n{'':<{width}}  {summary}")
    own_tools = "jobs_*, backends_setup" if exposure.hidden else "jobs_*"
    if settings.discovery == "tools" or not exposed:
        own = len(listed) - len(exposed)
        print(f"\n{len(listed)} tools: {len(exposed)} backend operations and {own} tools of this server ({own_tools})")
    else:
        print(
            f"\n{len(listed)} tools: ops_search, ops_describe and ops_call reach {len(exposed)} backend operations "
            f"(`--discovery tools` lists them), and the {own_tools} tools"
        )
    print("\nBackends:")
    width = max(len(b.backend) for b in exposure.backends)
    for place in exposure.backends:
        print(f"  {place.backend:<{width}}  {'listed' if place.listed else 'not listed':<10}  {place.why}")
    return 0


def run_jobs(args: argparse.Namespace) -> int:
    from modelops_mcp.jobs import JobStore
    from modelops_mcp.jobs.report import show_job, table
    from modelops_mcp.jobs.store import Store
    from modelops_mcp.settings.store_url import shown_url

    settings = settings_of(args)
    if args.sandbox:
        settings = settings.for_sandbox()
    if args.backend is not None and args.jobs_command is None:
        _check_jobs_backend(settings, args.backend)
    store: Store
    if settings.store_url is not None:  # the replicas' shared store (--store / MODELOPS_STORE_URL)
        from modelops_mcp.jobs.pg_store import PgJobStore

        url = settings.store_url.get_secret_value()
        store, where = PgJobStore(url), shown_url(url)
    elif not settings.jobs_db.exists():
        print(f"no jobs yet (no {settings.jobs_db})", file=sys.stderr)
        return 0 if args.jobs_command is None else 1
    else:
        store, where = JobStore(settings.jobs_db), str(settings.jobs_db)
    try:
        if args.jobs_command == "show":
            job = store.get(args.job_id)
            if job is None:
                print(f"modelops-mcp: no job {args.job_id!r} in {where}", file=sys.stderr)
                return 1
            print(json.dumps(job.public("full"), indent=2) if args.json else show_job(job))
            return 0
        jobs, _ = store.page(backend=args.backend, statuses=args.status, limit=max(1, args.limit))
        print(json.dumps([job.public("none") for job in jobs], indent=2) if args.json else table(jobs))
        return 0
    finally:
        store.close()


def run_doctor(args: argparse.Namespace) -> int:
    from modelops_mcp.app.runtime import load_settings_catalog
    from modelops_mcp.doctor import diagnose, exit_code, report_json, table
    from modelops_mcp.surface.exposure import expose

    # What `serve` with this environment would list (its MODELOPS_TOOLSETS / _TOOLS / _READ_ONLY included).
    as_serve = argparse.Namespace(toolsets=None, tools=None, read_only=None, schema=args.schema)
    settings = settings_of(as_serve)
    exposure = expose(settings, load_settings_catalog(settings), os.environ, sandbox=args.sandbox)[1]
    found = anyio.run(lambda: diagnose(settings, dict(os.environ), sandbox=args.sandbox))
    print(report_json(found, exposure) if args.json else table(found, exposure))
    return exit_code(found)


def _check_jobs_backend(settings: Settings, backend: str) -> None:
    """A backend nobody knows would list no jobs, as if there were none: say so instead (exit 2)."""
    from modelops_mcp.app.runtime import load_settings_catalog
    from modelops_mcp.jobs import JobStore

    known = sorted(load_settings_catalog(settings).backends)
    if backend in known:
        return
    if settings.jobs_db.exists():  # a backend of an extra --schema document the server was started with
        store = JobStore(settings.jobs_db)
        try:
            if store.page(backend=backend, limit=1)[0]:
                return
        finally:
            store.close()
    raise ValueError(f"unknown backend {backend!r}; the backends are {', '.join(known)}")


def run_store(args: argparse.Namespace) -> int:
    from modelops_mcp.app.store_migrate import migrate_state

    settings = settings_of(args)
    if settings.store_url is None:
        raise ValueError("store migrate: name the PostgreSQL store to copy into with --store or MODELOPS_STORE_URL")
    print(migrate_state(settings.state_dir, settings.store_url.get_secret_value()))
    return 0


def run_install(args: argparse.Namespace) -> int:
    from modelops_mcp.install import run_install

    return run_install(args)
