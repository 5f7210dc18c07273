"""Flags and environment variables as one validated model: every value meets its bounds however it arrives.

A flag wins over its variable, the variable over the default, and all three pass the same checks on
construction: `--poll-interval 0` and `MODELOPS_POLL_INTERVAL=0` are refused alike, before anything starts,
with one line naming the flag, the variable and the allowed range (the CLI exits 2, as argparse does).
Plain pydantic rather than pydantic-settings: the variables keep their own formats (comma- or
`os.pathsep`-separated lists, `1`/`yes` switches), which its JSON-decoded lists would change, and a message
naming both the flag and the variable needs the mapping below whichever library reads them.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import annotated_types
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError

from modelops_mcp.settings.config import (
    ALLOW_DIRS_ENV,
    DEFAULT_JOB_MAX_AGE_S,
    DISCOVERY_ENV,
    NO_CONFIRM_ENV,
    OUTPUT_DIR_ENV,
    OUTPUT_SCHEMAS_ENV,
    READ_ONLY_ENV,
    STATE_DIR_ENV,
    TOOLS_ENV,
    TOOLSETS_ENV,
    Discovery,
    Limits,
    OutputSchemas,
    Settings,
    allowed_dirs,
    default_state_dir,
    listed,
    output_dir,
)
from modelops_mcp.settings.store_url import STORE_FLAG, STORE_URL_ENV, store_url

MIB = 1024 * 1024
DAY_S = 86400.0
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": DAY_S}
_DURATION = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([smhd]?)\s*", re.ASCII)


def duration_seconds(raw: object) -> object:
    """`90s`, `30m`, `12h`, `7d` or a plain number of seconds, as seconds; anything else is left to fail."""
    if isinstance(raw, str):
        found = _DURATION.fullmatch(raw.lower())
        if found:
            return float(found.group(1)) * _UNITS[found.group(2) or "s"]
    return raw


def shown_duration(seconds: float) -> str:
    for unit, size in (("d", DAY_S), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _choice(raw: object) -> object:
    return raw.strip().lower() if isinstance(raw, str) else raw


def _switch(raw: object) -> object:
    return raw.strip() if isinstance(raw, str) else raw


Seconds = Annotated[float, Field(allow_inf_nan=False)]
Switch = Annotated[bool, BeforeValidator(_switch)]


class Options(BaseModel):
    """What `serve`, `tools`, `jobs` and `demo` were told, checked; its fields are named as the flags are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state_dir: Path
    poll_interval: Seconds = Field(default=1.0, ge=0.05, le=3600)
    poll_max: Seconds = Field(default=30.0, ge=0.05, le=DAY_S)
    read_timeout: Seconds = Field(default=60.0, gt=0, le=3600)
    max_upload_mb: Seconds = Field(default=2048.0, gt=0, le=1024 * 1024)
    max_response_mb: Seconds = Field(default=8.0, ge=0.001, le=1024)
    job_max_age: Annotated[Seconds, BeforeValidator(duration_seconds)] = Field(
        default=DEFAULT_JOB_MAX_AGE_S, ge=1, le=365 * DAY_S
    )
    speed: Seconds = Field(default=60.0, gt=0, le=100_000)
    read_only: Switch = False
    no_confirm: Switch = False
    discovery: Annotated[Discovery, BeforeValidator(_choice)] = "tools"
    output_schemas: Annotated[OutputSchemas, BeforeValidator(_choice)] = "lean"
    toolsets: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    allow_dir: list[Path] = Field(default_factory=list)
    output_dir: Path | None = None
    store: SecretStr | None = None
    lease_time: Seconds = Field(default=15.0, ge=1, le=3600)

    def limits(self) -> Limits:
        return Limits(
            poll_min_interval_s=self.poll_interval,
            poll_max_s=self.poll_max,
            read_timeout_s=self.read_timeout,
            max_upload_bytes=max(1, int(self.max_upload_mb * MIB)),
            max_response_bytes=max(1024, int(self.max_response_mb * MIB)),
            job_max_age_s=self.job_max_age,
        )

    def settings(self, schema_paths: list[Path]) -> Settings:
        return Settings(
            state_dir=self.state_dir,
            schema_paths=schema_paths,
            limits=self.limits(),
            allow_dirs=self.allow_dir,
            output_dir=self.output_dir,
            toolsets=self.toolsets,
            tools=self.tools,
            read_only=self.read_only,
            discovery=self.discovery,
            output_schemas=self.output_schemas,
            confirm=not self.no_confirm,
            store_url=self.store,
            lease_s=self.lease_time,
        )


@dataclass(frozen=True, slots=True)
class Source:
    """Where one option comes from, and what it must be, as a user reads it."""

    flag: str
    env: str
    what: str


_SECONDS, _MIB = "a number of seconds", "a number of MiB"
_SWITCH = "true or false (1/0, yes/no, on/off)"
# Options read here from the flag, else the variable: a scalar each. Lists and paths (further down) keep
# the readers they had, which already name the flag or the variable when they refuse a value.
SOURCES: dict[str, Source] = {
    "poll_interval": Source("--poll-interval", "MODELOPS_POLL_INTERVAL", _SECONDS),
    "poll_max": Source("--poll-max", "MODELOPS_POLL_MAX", _SECONDS),
    "read_timeout": Source("--read-timeout", "MODELOPS_READ_TIMEOUT", _SECONDS),
    "max_upload_mb": Source("--max-upload-mb", "MODELOPS_MAX_UPLOAD_MB", _MIB),
    "max_response_mb": Source("--max-response-mb", "MODELOPS_MAX_RESPONSE_MB", _MIB),
    "job_max_age": Source("--job-max-age", "MODELOPS_JOB_MAX_AGE", "a duration (90s, 30m, 12h, 7d)"),
    "speed": Source("--speed", "MODELOPS_SANDBOX_SPEED", "a number of simulated seconds per second"),
    "read_only": Source("--read-only", READ_ONLY_ENV, _SWITCH),
    "no_confirm": Source("--no-confirm", NO_CONFIRM_ENV, _SWITCH),
    "discovery": Source("--discovery", DISCOVERY_ENV, "one of tools, search"),
    "output_schemas": Source("--output-schemas", OUTPUT_SCHEMAS_ENV, "one of lean, full"),
    "lease_time": Source("--lease-time", "MODELOPS_LEASE_TIME", _SECONDS),
}
# The list and path options, for the README and the checks that every flag with a variable is read here.
OTHER_SOURCES: dict[str, Source] = {
    "state_dir": Source("--state-dir", STATE_DIR_ENV, "a directory"),
    "toolsets": Source("--toolsets", TOOLSETS_ENV, "comma-separated names"),
    "tools": Source("--tools", TOOLS_ENV, "comma-separated names or patterns"),
    "allow_dir": Source("--allow-dir", ALLOW_DIRS_ENV, "directories"),
    "output_dir": Source("--output-dir", OUTPUT_DIR_ENV, "a directory"),
    "store": Source(STORE_FLAG, STORE_URL_ENV, "a postgresql:// URL"),
}


class OptionError(ValueError):
    """A value out of bounds: said in one line, and the start stops (exit 2)."""


def options_from(args: argparse.Namespace, env: Mapping[str, str]) -> Options:
    """The options of the flags this command has, each else from its variable, else its default."""
    raw: dict[str, Any] = {}
    given: dict[str, tuple[object, bool]] = {}  # option -> (value as given, from the flag?)
    for name, source in SOURCES.items():
        if not hasattr(args, name):
            continue  # not an option of this command: its variable is none of its business either
        flag = getattr(args, name)
        if flag is not None and flag is not False:
            raw[name], given[name] = flag, (flag, True)
        elif env.get(source.env, "").strip():
            raw[name], given[name] = env[source.env], (env[source.env], False)
    state = getattr(args, "state_dir", None)
    raw["state_dir"] = Path(state).expanduser() if state else default_state_dir(env)
    if hasattr(args, "toolsets"):
        raw["toolsets"] = listed(args.toolsets, TOOLSETS_ENV, env)
        raw["tools"] = listed(args.tools, TOOLS_ENV, env)
    if hasattr(args, "allow_dir"):
        raw["allow_dir"] = allowed_dirs(args.allow_dir or [], env)
        raw["output_dir"] = output_dir(args.output_dir, env)
    if hasattr(args, "store"):
        raw["store"] = store_url(args.store, env)  # a ValueError shows the URL with its password masked
    try:
        return Options.model_validate(raw)
    except ValidationError as exc:
        raise OptionError(_said(exc, given)) from None


def _said(exc: ValidationError, given: dict[str, tuple[object, bool]]) -> str:
    first = exc.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else ""
    source = SOURCES.get(name)
    if source is None or name not in given:
        return f"invalid {name or 'option'}: {first['msg']}"
    value, from_flag = str(given[name][0]), given[name][1]
    shown = value if value.isprintable() else repr(value)  # one line, whatever the variable holds
    where = (
        f"given as {source.flag}; env {source.env} sets it too"
        if from_flag
        else f"given as {source.env}={shown}; the flag {source.flag} sets it too"
    )
    return f"{source.flag}: must be {source.what}{bounds(name)}, not {value!r} ({where})"


def bounds(name: str) -> str:
    """An option's range as a user reads it: ` > 0 and <= 3600` (durations in their own units)."""
    show = shown_duration if name == "job_max_age" else _shown_number
    parts: list[str] = []
    for rule in Options.model_fields[name].metadata:
        for kind, sign in ((annotated_types.Gt, ">"), (annotated_types.Ge, ">="), (annotated_types.Le, "<=")):
            if isinstance(rule, kind):
                limit = float(getattr(rule, kind.__name__.lower()))
                if math.isfinite(limit):
                    parts.append(f"{sign} {show(limit)}")
    return " " + " and ".join(parts) if parts else ""


def _shown_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:g}"
