"""How a backend is reached, from its document and the environment: base URL, credential, auth scheme, and what
to say when the URL is unusable (every call then fails as a config error naming the variable to fix)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from modelops_mcp.core.errors import ToolError, ToolFailure
from modelops_mcp.http.base_urls import masked, suggestion
from modelops_mcp.http.base_urls import url_problem as problem_of
from modelops_mcp.spec.catalog import AuthSpec, BackendSpec
from modelops_mcp.spec.extension import DiscoverySpec

log = logging.getLogger(__name__)

SCHEME_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,31}")


@dataclass(frozen=True, slots=True)
class BackendConfig:
    name: str
    base_url: str
    credential: str | None
    credential_env: str | None
    auth: AuthSpec | None
    base_url_env: str | None = None
    # Set when the URL was not configured and the schema says how to find a running local service.
    discovery: DiscoverySpec | None = None
    # The word before a bearer credential: "Bearer", or what the scheme's variable names (DataRobot: "Token").
    scheme_word: str = "Bearer"
    # What is wrong with the base URL, set when it cannot be used: every call then fails as a config error.
    url_problem: str | None = None
    # The URL the backend's document names: the default when the variable is unset, and the model of a fix.
    documented_url: str | None = None
    # Whether base_url came from the variable (False: the documented default).
    url_configured: bool = False
    title: str = ""

    @classmethod
    def from_env(cls, spec: BackendSpec, env: Mapping[str, str]) -> BackendConfig:
        configured = (env.get(spec.base_url_env) if spec.base_url_env else None) or None
        credential_env = spec.auth.credential_env if spec.auth else None
        credential = env.get(credential_env) if credential_env else None
        scheme_env = spec.auth.scheme_env if spec.auth else None
        scheme_word = (env.get(scheme_env, "") if scheme_env else "").strip()
        if not SCHEME_WORD.fullmatch(scheme_word):
            if scheme_word:
                log.warning("%s is not an auth scheme word; sending Bearer", scheme_env)
            scheme_word = "Bearer"
        base_url = (configured or spec.default_base_url).strip()
        problem = problem_of(base_url, spec.default_base_url)
        return cls(
            name=spec.name,
            base_url=base_url if problem else base_url.rstrip("/"),
            credential=credential or None,
            credential_env=credential_env,
            auth=spec.auth,
            base_url_env=spec.base_url_env,
            discovery=spec.discovery if configured is None else None,
            scheme_word=scheme_word,
            url_problem=problem,
            documented_url=spec.default_base_url,
            url_configured=configured is not None,
            title=spec.title,
        )

    @property
    def url_setting(self) -> str:
        """Where the URL comes from, as a user reads it: `NAME=value` (secrets masked), or the default."""
        if self.url_configured and self.base_url_env:
            return f"{self.base_url_env}={masked(self.base_url)}"
        unset = f"{self.base_url_env} is not set" if self.base_url_env else "no variable names it"
        if self.discovery is not None:
            return f"{unset}; the service is looked for on its documented local ports"
        return f"{unset}; the documented {masked(self.base_url)} is used"

    def url_fix(self) -> str:
        """How to correct an unusable base URL: the variable, and a valid value close to the one set."""
        example = suggestion(self.base_url, self.documented_url or self.base_url)
        variable = self.base_url_env or "the base URL"
        return f"set {variable} to the {self.title or self.name} API's http:// or https:// URL, e.g. {example}"

    def unreachable_hint(self) -> str:
        """Said when nothing answered at all: the likeliest fix is the URL setting or starting the service."""
        if not self.base_url_env:
            return ""
        return (
            f". Check that the service runs there and {self.base_url_env} names it ({self.url_setting}); "
            "`modelops-mcp doctor` checks every backend"
        )

    def url_failure(self, operation: str) -> ToolFailure | None:
        """The config error every call of this backend answers while its base URL is unusable."""
        if self.url_problem is None:
            return None
        variable = self.base_url_env or "the base URL"
        return ToolFailure(
            ToolError(
                kind="config",
                code="invalid_base_url",
                message=f"{variable}={masked(self.base_url)!r} {self.url_problem}; nothing was sent. "
                f"To fix it, {self.url_fix()}, and restart the server",
                backend=self.name,
                operation=operation,
            )
        )
