"""Per-backend HTTP clients: base URL and credential from config, connection reuse, timeouts, retries."""

from __future__ import annotations

import functools
import logging
import random
import re
import ssl
import time
from datetime import UTC
from pathlib import Path
from typing import Literal

import anyio
import httpx

from modelops_mcp import __version__
from modelops_mcp.core.errors import SavedBody, ToolError, ToolFailure
from modelops_mcp.core.redact import Redactor
from modelops_mcp.http.backend_config import BackendConfig
from modelops_mcp.http.base_urls import password_in
from modelops_mcp.http.bounded import ERROR_BODY_BYTES, Overflow, read_within, with_content
from modelops_mcp.http.downloads import save_response
from modelops_mcp.settings.config import Limits
from modelops_mcp.spec.extension import DiscoverySpec, expand_ports

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Delta-seconds is ASCII digits only (RFC 9110, 10.2.3): str.isdigit() also takes "²", which float() refuses.
DELTA_SECONDS = re.compile(r"[0-9]+", re.ASCII)
# Longer than a day is no wait anyone acts on; the cap also keeps a 400-digit value finite (JSON has no inf).
LONGEST_RETRY_AFTER_S = 86400.0
# A local service answers its health check in milliseconds; a port nobody listens on refuses at once.
PROBE_TIMEOUT_S = 1.0


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds, from either of its two forms (delta-seconds or an HTTP date).

    None when it is neither (the usual backoff applies): a malformed header is the backend's slip, never a
    reason to fail the call.
    """
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    if DELTA_SECONDS.fullmatch(raw):
        return min(float(raw), LONGEST_RETRY_AFTER_S)
    import email.utils  # here: a start need not load the email package for the rare dated Retry-After

    try:
        when = email.utils.parsedate_to_datetime(raw)
        if when.tzinfo is None:  # "-0000": UTC, the zone unsaid
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - time.time()
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return min(max(0.0, seconds), LONGEST_RETRY_AFTER_S)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every backend client: each loads the CA bundle, about 20 ms apiece at start."""
    return httpx.create_ssl_context()


@functools.lru_cache(maxsize=64)
def _without_userinfo(url: str) -> str:
    # Cached: parsing a URL is 20 µs, and a classify call asked twice (class names, job origins).
    return str(httpx.URL(url).copy_with(username=None, password=None))


class BackendClient:
    """One `httpx.AsyncClient` per backend, so connections are reused across tool calls."""

    def __init__(self, config: BackendConfig, limits: Limits, redactor: Redactor) -> None:
        self.config = config
        self._limits = limits
        self._redactor = redactor
        redactor.add(config.credential)
        # A password in the base URL (basic auth through a proxy) is a credential too, in both spellings:
        # httpx logs the URL percent-encoded, and an error may echo it decoded. A URL too malformed to
        # parse (its calls all fail as config errors) may still carry one.
        redactor.add(password_in(config.base_url))
        if config.url_problem is None:
            userinfo = httpx.URL(config.base_url).userinfo.decode("ascii")
            if ":" in userinfo:
                redactor.add(userinfo.partition(":")[2])
                redactor.add(httpx.URL(config.base_url).password)
        # Made on the backend's first request (`_http`): the TLS context loads the CA bundle, a tenth of a start's
        # CPU, and a start (handshake, tool list) sends nothing.
        self._client: httpx.AsyncClient | None = None
        self._found: str | None = None
        self._discovering = anyio.Lock()

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                verify=_tls_context(),
                timeout=httpx.Timeout(self._limits.read_timeout_s, connect=self._limits.connect_timeout_s),
                headers={"User-Agent": f"modelops-mcp/{__version__}", "Accept": "application/json"},
                # Redirects are not followed blindly: a Location from a backend is data, not an order.
                follow_redirects=False,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def base_url(self, operation: str) -> str:
        """The configured URL, or the one a probe of the documented local ports found (probed once, then kept)."""
        failure = self.config.url_failure(operation)
        if failure is not None:
            raise failure
        discovery = self.config.discovery
        if discovery is None:
            return self.config.base_url
        async with self._discovering:  # concurrent first calls share one probe
            if self._found is None:
                self._found = await self._discover(discovery, operation)
            return self._found

    @property
    def known_base_url(self) -> str | None:
        """The URL calls go to now, without any user:password; None while a local service has yet to be found."""
        if self.config.url_problem is not None:
            return None
        url = self.config.base_url if self.config.discovery is None else self._found
        return None if url is None else _without_userinfo(url)

    def forget_discovered(self) -> None:
        """After a connection failure: the service may have moved to another port, so probe again next time."""
        self._found = None

    async def _discover(self, discovery: DiscoverySpec, operation: str) -> str:
        default = httpx.URL(self.config.base_url)
        ports = expand_ports(discovery.ports)
        answered: dict[int, str] = {}

        async def probe(port: int) -> None:
            root = str(default.copy_with(port=port)).rstrip("/")
            try:
                response = await self._http.get(root + discovery.path, timeout=PROBE_TIMEOUT_S)
            except httpx.HTTPError:
                return
            if response.is_success:
                answered[port] = root

        async with anyio.create_task_group() as tg:
            for port in ports:
                tg.start_soon(probe, port)
        for port in ports:  # the documented order is the preference order
            if port in answered:
                log.info("%s found at %s", self.config.name, answered[port])
                return answered[port]
        shown = ", ".join(str(p) for p in discovery.ports)
        hint = f", or set {self.config.base_url_env} to its URL" if self.config.base_url_env else ""
        raise ToolFailure(
            ToolError(
                kind="network",
                code="not_running",
                message=f"{self.config.name} is not running: nothing answered GET {discovery.path} on "
                f"{default.host} ports {shown}. Start it{hint}.",
                retryable=True,
                backend=self.config.name,
                operation=operation,
            )
        )

    def authorize(self, request: httpx.Request, operation: str) -> None:
        auth = self.config.auth
        if auth is None:
            return
        if not self.config.credential:
            raise ToolFailure(
                ToolError(
                    kind="config",
                    message=f"no credential for {self.config.name}: set the environment variable "
                    f"{self.config.credential_env or '(none named in the schema)'}",
                    backend=self.config.name,
                    operation=operation,
                )
            )
        value = (
            self.config.credential if auth.style == "header" else f"{self.config.scheme_word} {self.config.credential}"
        )
        request.headers[auth.header] = value

    async def send(
        self,
        request: httpx.Request,
        *,
        idempotent: bool,
        operation: str,
        stream: bool = False,
        spill_to: Path | None = None,
    ) -> httpx.Response:
        """Send; retry 429/502/503/504, and connections refused, reset or dropped, only if safe.

        The body is read before this returns (within `Limits.max_response_bytes`: a larger answer is a
        `response_too_large` failure, saved whole under `spill_to` when given), unless `stream`: then the
        caller reads it and must close it.
        """
        attempts = self._limits.max_attempts if idempotent else 1
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = await self._http.send(request, stream=True)
                retry, retry_after = self._verdict(response, last)
                if not retry:
                    return response if stream else await self._read(response, operation, spill_to)
            except httpx.TimeoutException as exc:
                # Only a connect timeout proves the request never arrived; a read timeout may have run it.
                if isinstance(exc, httpx.ConnectTimeout) and not last:
                    await anyio.sleep(self._delay(attempt, None))
                    continue
                raise self._network_failure("timeout", exc, request, operation) from None
            except httpx.TransportError as exc:
                # Refused, reset, or closed before the answer was whole: sending again is safe for an idempotent
                # request (`attempts` is 1 for the others, which may have been acted on).
                if not last:
                    log.info("%s: %s, retrying (attempt %d of %d)", operation, type(exc).__name__, attempt, attempts)
                    await anyio.sleep(self._delay(attempt, None))
                    continue
                if isinstance(exc, httpx.ConnectError):
                    self.forget_discovered()
                raise self._network_failure("network", exc, request, operation) from None
            await response.aclose()
            log.info("%s: HTTP %s, retrying (attempt %d of %d)", operation, response.status_code, attempt, attempts)
            await anyio.sleep(self._delay(attempt, retry_after))
        raise AssertionError("unreachable: the last attempt always returns or raises")

    def _verdict(self, response: httpx.Response, last: bool) -> tuple[bool, float | None]:
        """Whether to send again, and the Retry-After to wait first (None: the usual backoff)."""
        if response.status_code not in RETRY_STATUSES or last:
            return False, None
        retry_after = retry_after_seconds(response)
        if retry_after is not None and retry_after > self._limits.max_retry_after_s:
            return False, None  # handed to the agent as rate_limited / retry_after rather than slept on
        return True, retry_after

    async def _read(self, response: httpx.Response, operation: str, spill_to: Path | None) -> httpx.Response:
        """The answer read, within the limits; the connection is released whatever happens."""
        try:
            if not response.is_success:
                body = await read_within(response, ERROR_BODY_BYTES)
                return with_content(response, body if isinstance(body, bytes) else body.head[:ERROR_BODY_BYTES])
            limit = self._limits.max_response_bytes
            body = await read_within(response, limit)
            if isinstance(body, bytes):
                return with_content(response, body)
            raise await self._too_large(response, body, operation, spill_to)
        finally:
            await response.aclose()

    async def _too_large(
        self, response: httpx.Response, overflow: Overflow, operation: str, spill_to: Path | None
    ) -> ToolFailure:
        limit = self._limits.max_response_bytes
        # A cut JSON body is no answer (it matches no schema), and the whole one would flood the agent's
        # context: the call fails, and the body is kept as a file the agent (or its user) can open.
        error = ToolError(
            kind="backend",
            status=response.status_code,
            code="response_too_large",
            message=f"the answer is larger than the {limit}-byte limit for inline answers and was not kept",
            backend=self.config.name,
            operation=operation,
        )
        if spill_to is None:
            return ToolFailure(error)
        saved = await save_response(response, spill_to, operation, head=overflow.head, rest=overflow.rest)
        error.message = (
            f"the answer is {saved.size} bytes, more than the {limit}-byte limit for inline answers: saved whole "
            f"to {saved.path} (sha256 {saved.sha256}). Open the file, or ask for less (a filter, a smaller page)."
        )
        error.saved = SavedBody(
            path=str(saved.path),
            uri=saved.path.as_uri(),
            size=saved.size,
            sha256=saved.sha256,
            limit=limit,
            content_type=saved.content_type,
        )
        return ToolFailure(error)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        backoff = min(self._limits.retry_max_delay_s, self._limits.retry_base_delay_s * 2 ** (attempt - 1))
        # Jitter spreads retries of many callers so they do not hit a recovering backend together.
        return float(backoff * (0.5 + random.random() / 2))

    def _network_failure(
        self, kind: Literal["timeout", "network"], exc: Exception, request: httpx.Request, operation: str
    ) -> ToolFailure:
        detail = self._redactor.text(str(exc) or type(exc).__name__)
        if kind == "timeout":
            what = "timed out"
        elif isinstance(exc, httpx.ConnectError):
            what = "could not be reached"
        else:
            what = "dropped the connection before answering in full"
        # Scheme, host and port only: a path may carry a session key or other ids that are not ours to show.
        where = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        # Nothing answered at all: the likeliest fix is the URL setting (or starting the service), so say which.
        check = self.config.unreachable_hint() if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)) else ""
        return ToolFailure(
            ToolError(
                kind=kind,
                message=f"{self.config.name} at {where} {what}: {detail}{check}",
                code=type(exc).__name__,
                retryable=True,
                backend=self.config.name,
                operation=operation,
            )
        )
