"""One server process's working parts: catalog, backend clients, executor and jobs, opened and closed together."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

from modelops_mcp.calls.executor import Calls, Executor, Workspace
from modelops_mcp.calls.sessions import SessionKeys, SessionKeyStore, StoredSessionKeys
from modelops_mcp.core.redact import RedactingFilter, Redactor
from modelops_mcp.http.backend_config import BackendConfig
from modelops_mcp.http.backends import BackendClient
from modelops_mcp.http.uploads import LocalFiles, UploadPolicy
from modelops_mcp.jobs import JobStore
from modelops_mcp.jobs.polling import PollPolicy
from modelops_mcp.jobs.store import Store
from modelops_mcp.jobs.tool_calls import ToolCalls
from modelops_mcp.jobs.tracker import Tracker
from modelops_mcp.schemas import bundled_documents
from modelops_mcp.settings.config import Limits, Settings
from modelops_mcp.spec.catalog import Catalog, Operation
from modelops_mcp.spec.labels import ClassNames, ClassNameStore, StoredClassNames
from modelops_mcp.spec.load import load_catalog
from modelops_mcp.surface.exposure import expose
from modelops_mcp.surface.listing import shown_output_schemas

# Re-exported: the parts are defined where the surface, which serves from them, can import them.
from modelops_mcp.surface.parts import Runtime as Runtime

log = logging.getLogger(__name__)


def load_settings_catalog(settings: Settings) -> Catalog:
    # The bundled documents are meta-checked by the test suite, so a start skips that (most of the load
    # time); documents a user adds are checked, since a mistake there should fail at start, not mid-call.
    bundled = bundled_documents()
    return load_catalog([*bundled, *settings.schema_paths], trusted=bundled)


def exposed_operations(
    settings: Settings, catalog: Catalog, env: Mapping[str, str] | None = None, *, sandbox: bool = False
) -> dict[str, Operation]:
    """What the tool list offers with `env`'s settings (None: this process's environment); exposure.py says why."""
    return expose(settings, catalog, os.environ if env is None else env, sandbox=sandbox)[0]


def poll_policy(limits: Limits) -> PollPolicy:
    return PollPolicy(
        min_interval=limits.poll_min_interval_s,
        initial=limits.poll_min_interval_s,
        max=max(limits.poll_max_s, limits.poll_min_interval_s),
        concurrency=limits.poll_concurrency,
        max_age=limits.job_max_age_s,
    )


def install_log_redaction(redactor: Redactor) -> Callable[[], None]:
    """Every handler on the root logger masks this runtime's secrets, whichever library logs them.

    Returns the undo, run when the runtime closes: a handler that outlives it (another runtime in the same
    process, a test harness's capture handler) must get the next runtime's filter, not keep a stale one.
    """
    root = logging.getLogger()
    added = [(handler, RedactingFilter(redactor)) for handler in root.handlers]
    for handler, log_filter in added:
        handler.addFilter(log_filter)

    def remove() -> None:
        for handler, log_filter in added:
            handler.removeFilter(log_filter)

    return remove


def _warn_of_home(settings: Settings) -> None:
    # Named on purpose, so allowed; but it holds ~/.ssh and every credential file, so it is said once.
    home = Path.home().resolve()
    if any(path.resolve() == home for path in settings.allow_dirs):
        log.warning(
            "uploads may come from anywhere in your home directory (--allow-dir %s), ~/.ssh and ~/.aws included; "
            "name the folders that hold your data to narrow it",
            home,
        )


def _open_store(settings: Settings, redactor: Redactor) -> tuple[Store, SessionKeyStore, ClassNameStore]:
    """SQLite and files in the state dir, or the shared PostgreSQL store that replicas use (docs/DEPLOY.md)."""
    if settings.store_url is None:
        class_names = ClassNames(settings.state_dir / "class_names.json")
        return JobStore(settings.jobs_db), SessionKeys(settings.sessions_file), class_names
    # Imported only here: a one-machine server never loads the driver.
    import psycopg

    from modelops_mcp.jobs.pg_store import PgJobStore

    url = settings.store_url.get_secret_value()
    redactor.add(psycopg.conninfo.conninfo_to_dict(url).get("password"))  # type: ignore[arg-type]
    store = PgJobStore(url, settings.lease_s)
    log.info("jobs are kept in the shared store; this replica is %s", store.replica)
    return store, StoredSessionKeys(store), StoredClassNames(store)


@asynccontextmanager
async def open_runtime(settings: Settings, env: Mapping[str, str], *, sandbox: bool = False) -> AsyncIterator[Runtime]:
    """`sandbox`: `env` points every backend at the sandbox (which configures them all)."""
    catalog = load_settings_catalog(settings)
    # A selection naming nothing fails before anything opens.
    exposed, exposure = expose(settings, catalog, env, sandbox=sandbox)
    redactor = Redactor()
    settings.ensure_state_dir()
    # Before anything that needs closing: an unreachable store stops the start with nothing left open.
    store, sessions, class_names = _open_store(settings, redactor)
    clients = {
        name: BackendClient(BackendConfig.from_env(spec, env), settings.limits, redactor)
        for name, spec in catalog.backends.items()
    }
    remove_log_redaction = install_log_redaction(redactor)
    _warn_of_home(settings)
    workspace = Workspace(
        files=LocalFiles(UploadPolicy(tuple(settings.allow_dirs), settings.limits.max_upload_bytes)),
        sessions=sessions,
        downloads=settings.downloads_dir.expanduser().resolve(),
        class_names=class_names,
    )
    shown = shown_output_schemas(settings, catalog)
    # An error names as the next step only tools a client can call.
    executor = Executor(catalog, clients, settings.limits, redactor, workspace, shown, frozenset(exposed))
    tracker = Tracker(store, catalog, Calls(executor), redactor, poll_policy(settings.limits), executor.base_url)
    # An error in the caller's block is re-raised as itself once the tracker has stopped, rather than
    # escaping from inside the task group, which would wrap it in an ExceptionGroup.
    body_error: BaseException | None = None
    try:
        async with anyio.create_task_group() as tg:
            await tg.start(tracker.run)
            if settings.store_url is not None:
                from modelops_mcp.jobs.pg_listen import listen_for_changes

                replica = getattr(store, "replica", "")
                url = settings.store_url.get_secret_value()
                await tg.start(listen_for_changes, url, replica, tracker.changed_elsewhere)
            try:
                yield Runtime(
                    settings=settings,
                    catalog=catalog,
                    clients=clients,
                    executor=ToolCalls(executor, tracker),
                    redactor=redactor,
                    jobs=tracker,
                    workspace=workspace,
                    exposed=exposed,
                    shown_outputs=shown,
                    exposure=exposure,
                )
            except BaseException as exc:
                body_error = exc
            finally:
                tg.cancel_scope.cancel()
    finally:
        store.close()
        for client in clients.values():
            await client.aclose()
        remove_log_redaction()
    if body_error is not None:
        raise body_error
