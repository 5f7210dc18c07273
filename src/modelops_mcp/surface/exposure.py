"""Which backends the tool list holds, and why: by default, the ones the user configured.

Every listed tool costs an agent context on every turn, so a backend nobody set up should cost nothing. What
"configured" means is read from the environment alone, with no network at start (a probe would slow every
start, answer differently from one start to the next, and touch services the user never named):

- Caila, Tune the Model and DataRobot (a credential, a cloud default URL) are configured when their key or
  their URL variable is set: the key alone with the default URL, or a self-hosted URL alone (whose calls then
  name the missing key);
- the Training Module and Pieces OS have no credential and a localhost default, so their URL variable
  configures them; naming them in `--toolsets` (`MODELOPS_TOOLSETS=configured,pieces`) chooses them too, and
  keeps Pieces' search of its local ports;
- `serve --sandbox` configures every backend (its emulators), and a document added with `--schema` is a choice.

`--toolsets` and `--tools` still say exactly what is listed; `configured` (the default) and `all` are toolsets
too. A backend named but not configured is listed, and its calls fail with the config error naming the
variable to set.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops_mcp.schemas import bundled_documents
from modelops_mcp.settings.config import Settings
from modelops_mcp.spec.catalog import BackendSpec, Catalog, Operation
from modelops_mcp.spec.selection import CONFIGURED, Selection, select

# The always-available tool that says what to set, listed while some backend is hidden for want of settings.
SETUP_TOOL = "backends_setup"
INSTALL_HOSTS = ("claude-desktop", "cursor", "vscode")


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    meaning: str
    # Needed to use the backend (a key; the URL of a backend without one), else optional (a cloud's URL).
    needed: bool
    set: bool
    # A URL variable's documented value: the default, or the example for a local service.
    default: str | None = None


@dataclass(frozen=True, slots=True)
class BackendExposure:
    backend: str
    title: str
    configured: bool
    listed: bool
    why: str  # one line a user reads: why it is listed or not
    # Left out because nobody configured it (not because a --toolsets/--tools choice left it out).
    hidden_unconfigured: bool
    variables: tuple[Variable, ...]
    # Pieces OS: with no URL set, the service is looked for on its documented local ports.
    discovers_ports: bool = False

    def to_configure(self) -> str:
        """What to set, as an instruction: the needed variables, then the optional ones."""
        needed = [v.name + (f" (e.g. {v.default})" if v.default else "") for v in self.variables if v.needed]
        optional = [f"{v.name} if not {v.default}" for v in self.variables if not v.needed and v.default]
        said = f"set {' and '.join(needed)}" if needed else f"name {self.backend} in --toolsets"
        if optional:
            said += f" (and {', '.join(optional)})"
        if self.discovers_ports:
            said += (
                f", or add {self.backend} to MODELOPS_TOOLSETS (e.g. MODELOPS_TOOLSETS=configured,{self.backend}) "
                "to find it on its local ports"
            )
        return said

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "title": self.title,
            "configured": self.configured,
            "listed": self.listed,
            "why": self.why,
            "variables": [
                {"name": v.name, "meaning": v.meaning, "needed": v.needed, "set": v.set} for v in self.variables
            ],
        }


@dataclass(frozen=True, slots=True)
class Exposure:
    backends: tuple[BackendExposure, ...]

    @property
    def hidden(self) -> list[BackendExposure]:
        """The backends left out for want of settings: what the setup tool and the instructions speak of."""
        return [b for b in self.backends if b.hidden_unconfigured]

    def of(self, backend: str) -> BackendExposure | None:
        return next((b for b in self.backends if b.backend == backend), None)

    def install_command(self, backend: BackendExposure, host: str = INSTALL_HOSTS[0]) -> str:
        """The `modelops-mcp install` line that keeps what is set and adds what `backend` needs.

        Install rewrites the server's entry: the variables already set are passed again as bare names (install
        copies their values from the shell it runs in), the new ones with a placeholder value. Pieces OS is
        chosen by name rather than by URL, so its port is still found for the user."""
        kept = [v.name for b in self.backends for v in b.variables if v.set]
        if backend.discovers_ports:
            added = [f"MODELOPS_TOOLSETS={CONFIGURED},{backend.backend}"]
        else:
            added = [f"{v.name}=<{v.meaning}>" for v in backend.variables if v.needed and not v.set]
        return shlex.join(["modelops-mcp", "install", host, *(a for item in [*kept, *added] for a in ("--env", item))])

    def note(self) -> str:
        """A sentence for the server's instructions; empty when nothing is hidden for want of settings."""
        hidden = self.hidden
        if not hidden:
            return ""
        titles = ", ".join(b.title for b in hidden)
        if all(not b.listed for b in self.backends):
            return (
                f" No backend is configured yet ({titles}), so no operation is listed: call {SETUP_TOOL} and "
                "tell the user what to set."
            )
        return f" Not configured, so not listed: {titles}; {SETUP_TOOL} says what the user must set to add them."


def configured_by(spec: BackendSpec, env: Mapping[str, str]) -> tuple[str, ...]:
    """The variables that configure this backend and are set (to something other than blanks)."""
    names = [spec.auth.credential_env if spec.auth else None, spec.base_url_env]
    return tuple(name for name in names if name and env.get(name, "").strip())


def added_backends(catalog: Catalog) -> set[str]:
    """Backends of documents the user added with --schema (not shipped with the package)."""
    bundled = {doc.name for doc in bundled_documents()}
    return {name for name, spec in catalog.backends.items() if spec.source not in bundled}


def configured_backends(catalog: Catalog, env: Mapping[str, str], *, sandbox: bool = False) -> tuple[str, ...]:
    added = added_backends(catalog)
    return tuple(
        name for name, spec in catalog.backends.items() if sandbox or name in added or configured_by(spec, env)
    )


def expose(
    settings: Settings, catalog: Catalog, env: Mapping[str, str], *, sandbox: bool = False
) -> tuple[dict[str, Operation], Exposure]:
    """The operations the tool list offers, and each backend's place in it with the reason."""
    configured = configured_backends(catalog, env, sandbox=sandbox)
    selection = Selection(tuple(settings.toolsets), tuple(settings.tools), settings.read_only, configured)
    exposed = select(catalog, selection)
    hides_unconfigured = CONFIGURED in selection.named
    listed = {op.backend for op in exposed.values()}
    added = added_backends(catalog)
    return exposed, Exposure(
        tuple(
            _place(
                spec, env, spec.name in configured, spec.name in listed, hides_unconfigured, sandbox, spec.name in added
            )
            for spec in catalog.backends.values()
        )
    )


def _variables(spec: BackendSpec, env: Mapping[str, str]) -> tuple[Variable, ...]:
    credential = spec.auth.credential_env if spec.auth else None
    found: list[Variable] = []
    if credential:
        found.append(Variable(credential, f"your {spec.title} API key", True, bool(env.get(credential, "").strip())))
    if spec.base_url_env:
        if credential:
            meaning = f"the {spec.title} API URL, default {spec.default_base_url}"
        else:
            meaning = f"the {spec.title} URL, e.g. {spec.default_base_url}"
        is_set = bool(env.get(spec.base_url_env, "").strip())
        found.append(Variable(spec.base_url_env, meaning, credential is None, is_set, spec.default_base_url))
    return tuple(found)


def _place(
    spec: BackendSpec,
    env: Mapping[str, str],
    configured: bool,
    listed: bool,
    hides_unconfigured: bool,
    sandbox: bool,
    added: bool,
) -> BackendExposure:
    set_names = configured_by(spec, env)
    if sandbox:
        source = "serve --sandbox points it at its emulator"
    elif added:
        source = "its document was added with --schema"
    elif set_names:
        source = f"{' and '.join(set_names)} {'is' if len(set_names) == 1 else 'are'} set"
    else:
        source = "not configured"
    hidden = not listed and not configured and hides_unconfigured
    variables = _variables(spec, env)
    place = BackendExposure(
        spec.name, spec.title, configured, listed, "", hidden, variables, spec.discovery is not None
    )
    if listed and configured:
        why = source
    elif listed:
        why = f"named in --toolsets/--tools, though not configured: {_unset(spec, place)}"
    elif hidden:
        why = f"not configured: to list it, {place.to_configure()}"
    else:
        why = "left out by --toolsets/--tools" + (f" ({source})" if configured else "")
    return dataclasses.replace(place, why=why)


def _unset(spec: BackendSpec, place: BackendExposure) -> str:
    """What a listed but unconfigured backend's calls do."""
    if spec.auth is not None and spec.auth.credential_env:
        return f"its calls fail until you {place.to_configure()}"
    if spec.discovery is not None:
        return f"{spec.base_url_env} is not set, so it is looked for on its local ports"
    return f"{spec.base_url_env} is not set, so its calls go to {spec.default_base_url}"
