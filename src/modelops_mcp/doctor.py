"""`modelops-mcp doctor`: each backend's settings checked with one cheap read-only call, and the fix for each failure.

Checked in order, stopping at the first that fails: the base URL is well-formed, something answers there,
the credential is accepted, and the answer is the API's (not some other service's 404).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import anyio
import httpx

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.core.errors import ToolFailure
from modelops_mcp.core.redact import Redactor
from modelops_mcp.http.backend_config import BackendConfig
from modelops_mcp.http.backends import BackendClient
from modelops_mcp.settings.config import Limits, Settings
from modelops_mcp.spec.catalog import BackendSpec
from modelops_mcp.surface.exposure import Exposure

Status = Literal["ok", "failed", "skipped"]
Stage = Literal["url", "reachable", "credential", "answer"]


@dataclass(frozen=True, slots=True)
class Probe:
    path: str
    authenticated: bool
    why: str


# The cheapest documented read per bundled backend. One that needs no id of the user's, so it works on a
# fresh account, and that proves the credential wherever the backend has one.
PROBES = {
    # The vendor document's ensureAccount: the key's own account, so no account name is needed (and the
    # answer names the account every Caila tool asks for).
    "caila": Probe("/api/mlpgate/account", True, "the API key's own account"),
    # What the official client calls on connect; it answers 401 to a key it refuses.
    "datarobot": Probe("/version/", True, "the API version, as the official client checks on connect"),
    "pieces": Probe("/.well-known/health", False, "the health check Pieces' own clients probe"),
    "tunethemodel": Probe("/v0/models", True, "the account's models (one small list)"),
    "training": Probe("/healthcheck", False, "the health check; it touches no session"),
}


@dataclass(frozen=True, slots=True)
class Check:
    backend: str
    status: Status
    setting: str  # where the URL comes from: `NAME=value` (secrets masked), or the default
    probe: str  # the call made, e.g. "GET /version/"
    stage: Stage | None  # the check that failed (None when none did)
    detail: str
    fix: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _probe_of(spec: BackendSpec) -> Probe | None:
    if spec.name in PROBES:
        return PROBES[spec.name]
    # A backend a user added: its first read that needs no argument.
    for op in spec.operations:
        if op.method == "GET" and not op.input_schema.get("required"):
            return Probe(op.path, op.authenticated, op.tool_name)
    return None


def _configured(spec: BackendSpec, env: Mapping[str, str]) -> bool:
    names = [spec.base_url_env, spec.auth.credential_env if spec.auth else None]
    return any(name and env.get(name) for name in names)


async def check_backend(spec: BackendSpec, env: Mapping[str, str], redactor: Redactor) -> Check:
    config = BackendConfig.from_env(spec, env)
    configured = _configured(spec, env)
    probe = _probe_of(spec)
    shown = f"GET {probe.path}" if probe else "-"
    setting = config.url_setting

    def result(status: Status, stage: Stage | None, detail: str, fix: str | None = None) -> Check:
        return Check(spec.name, status, setting, shown, stage, redactor.text(detail), fix and redactor.text(fix))

    if config.url_problem is not None:
        failure = config.url_failure("doctor")
        assert failure is not None
        return result("failed", "url", f"the URL {config.url_problem}", config.url_fix())
    needs_key = probe is not None and probe.authenticated and spec.auth is not None
    if not configured and needs_key and not config.credential:
        variables = " and ".join(v for v in [spec.auth.credential_env if spec.auth else None, spec.base_url_env] if v)
        return result("skipped", None, "not configured", f"to use it, set {variables}")
    if probe is None:
        return result("ok" if configured else "skipped", None, "the URL is well-formed; no argument-free read to call")
    # One attempt, short timeouts: a check that hangs is no check.
    limits = Limits(connect_timeout_s=5.0, read_timeout_s=15.0, max_attempts=1)
    client = BackendClient(config, limits, redactor)
    started = time.monotonic()
    try:
        base = await client.base_url("doctor")
        request = httpx.Request("GET", base + probe.path)
        if needs_key:
            client.authorize(request, "doctor")
        response = await client.send(request, idempotent=True, operation="doctor")
    except ToolFailure as failure:
        error = failure.error
        if error.kind == "config":
            return result("failed", "credential", error.message, error.message)
        if not configured:
            hint = f"to use it, start {spec.title}" + (f" or set {spec.base_url_env}" if spec.base_url_env else "")
            return result("skipped", None, "not configured, and nothing answers at the default", hint)
        variable = spec.base_url_env or "the base URL"
        fix = f"nothing answers at {variable}'s URL: correct its host or port, or start {spec.title} there"
        return result("failed", "reachable", error.message.removesuffix(config.unreachable_hint()), fix)
    finally:
        await client.aclose()
    took = f"in {(time.monotonic() - started) * 1000:.0f} ms"
    status = response.status_code
    credential = spec.auth.credential_env if spec.auth else None
    if status in (401, 403) and credential:
        fix = f"{credential} was refused: set it to a valid key of this {spec.title} ({setting})"
        return result("failed", "credential", f"HTTP {status} {took}", fix)
    if status == 404:
        variable = spec.base_url_env or "the base URL"
        fix = f"something answers at {config.url_setting} but not the {spec.title} API there: check {variable}"
        return result("failed", "answer", f"HTTP 404 for GET {probe.path} {took}", fix)
    if not response.is_success:
        return result("failed", "answer", f"HTTP {status} {took}", f"{spec.title} answered HTTP {status}; retry later")
    return result("ok", None, f"HTTP {status} {took}{_about(spec.name, response)}")


def _about(backend: str, response: httpx.Response) -> str:
    """What the answer tells the user: Caila's account name (every Caila tool asks for it), the API version."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    if backend == "caila" and body.get("shortName"):
        return f"; account {body['shortName']!r}"
    if backend == "datarobot" and body.get("versionString"):
        return f"; API {body['versionString']}"
    return ""


async def run_checks(settings: Settings, env: Mapping[str, str]) -> list[Check]:
    catalog = load_settings_catalog(settings)
    redactor = Redactor()
    for spec in catalog.backends.values():  # every key is masked in every line, whichever backend's it is
        if spec.auth:
            redactor.add(env.get(spec.auth.credential_env or ""))
    specs = list(catalog.backends.values())
    found: dict[str, Check] = {}

    async def check(spec: BackendSpec) -> None:
        found[spec.name] = await check_backend(spec, env, redactor)

    # At once: a backend that takes its whole timeout to fail does not hold up the others.
    async with anyio.create_task_group() as tg:
        for spec in specs:
            tg.start_soon(check, spec)
    return [found[spec.name] for spec in specs]


async def diagnose(settings: Settings, env: Mapping[str, str], *, sandbox: bool = False) -> list[Check]:
    """The checks against `env`'s settings, or against the built-in sandbox started for the occasion."""
    if not sandbox:
        return await run_checks(settings, env)
    # Imported here: the sandbox is a separate concern that a production server never loads.
    from modelops_mcp.sandbox import Sandbox, serve_sandbox

    emulators = Sandbox.from_env(env)
    async with serve_sandbox(emulators) as url:
        return await run_checks(settings, {**env, **emulators.env(url)})


def table(checks: list[Check], exposure: Exposure | None = None) -> str:
    rows = [("BACKEND", "STATUS", "CHECK", "URL", "RESULT")]
    for c in checks:
        rows.append((c.backend, c.status + (f" ({c.stage})" if c.stage else ""), c.probe, c.setting, c.detail))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r[:4], widths, strict=True)) + "  " + r[4] for r in rows]
    fixes = [f"  {c.backend}: {c.fix}" for c in checks if c.fix and c.status == "failed"]
    if fixes:
        lines += ["", "How to fix:", *fixes]
    unused = [f"  {c.backend}: {c.fix}" for c in checks if c.fix and c.status == "skipped"]
    if unused:
        lines += ["", "Not configured (not counted as failures):", *unused]
    if exposure is not None:
        lines += ["", "In `modelops-mcp serve`'s tool list with this environment:", *listing(checks, exposure)]
    return "\n".join(lines)


def listing(checks: list[Check], exposure: Exposure) -> list[str]:
    """Each backend listed or not, and why; a service answering at its default but unlisted says how to list it."""
    status = {c.backend: c.status for c in checks}
    width = max(len(b.backend) for b in exposure.backends)
    lines = []
    for place in exposure.backends:
        why = place.why
        if not place.listed and place.hidden_unconfigured and status.get(place.backend) == "ok":
            why = f"it answers at its default address, but is not configured: to list it, {place.to_configure()}"
        lines.append(f"  {place.backend:<{width}}  {'listed' if place.listed else 'not listed':<10}  {why}")
    return lines


def report_json(checks: list[Check], exposure: Exposure | None = None) -> str:
    report: dict[str, Any] = {"ok": exit_code(checks) == 0, "backends": [c.to_json() for c in checks]}
    if exposure is not None:  # what `serve` with this environment lists, and why
        report["listing"] = [place.to_json() for place in exposure.backends]
    return json.dumps(report, indent=2)


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.status == "failed" for c in checks) else 0
