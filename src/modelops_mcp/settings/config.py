"""Server settings: where state lives, limits, and how the backends are reached (from env and flags)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr

STATE_DIR_ENV = "MODELOPS_STATE_DIR"
ALLOW_DIRS_ENV = "MODELOPS_ALLOW_DIRS"  # os.pathsep-separated, like PATH
OUTPUT_DIR_ENV = "MODELOPS_OUTPUT_DIR"
TOOLSETS_ENV = "MODELOPS_TOOLSETS"  # comma-separated, like the flag
TOOLS_ENV = "MODELOPS_TOOLS"
READ_ONLY_ENV = "MODELOPS_READ_ONLY"  # 1 / true / yes
NO_CONFIRM_ENV = "MODELOPS_NO_CONFIRM"  # 1 / true / yes: destructive calls run without asking the user
DISCOVERY_ENV = "MODELOPS_DISCOVERY"  # tools | search
OUTPUT_SCHEMAS_ENV = "MODELOPS_OUTPUT_SCHEMAS"  # lean | full
# The sub-directory of the state dir a sandboxed server keeps its state in.
SANDBOX_STATE = "sandbox"
Discovery = Literal["tools", "search"]
# The longest jobs these backends run are fine-tunes (Caila fits, Training Module trainings, Tune the Model
# models, DataRobot custom model builds and tests): hours, at most a day or two. A week is several times
# that, and bounds what a job its backend forgot (or a server pointed elsewhere) costs in status calls.
DEFAULT_JOB_MAX_AGE_S = 7 * 86400.0
OutputSchemas = Literal["lean", "full"]


class Limits(BaseModel):
    """Bounds on what one call may cost; every number here has a flag or a default that is safe.

    Checked on construction and on assignment alike: a bound set here holds however a value arrives (the
    flags and variables are read, and refused in their own units, by `options.Options`).
    """

    model_config = ConfigDict(validate_assignment=True)

    connect_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_base_delay_s: float = 0.25
    retry_max_delay_s: float = 8.0
    # A Retry-After longer than this is handed to the agent (rate_limited, retry_after) instead of slept on.
    max_retry_after_s: float = 10.0
    text_chars: int = Field(default=8000, ge=200)
    # Job status polling: never two calls for one job closer than the minimum interval; idle jobs back
    # off from that interval doubling to the maximum; at most `poll_concurrency` calls at once.
    # Never 0 (one job then drew 92 status calls a second). A user's floor is 0.05 s (options.Options); a
    # program compressing time (the jobs benchmark at scale 60) may go lower.
    poll_min_interval_s: float = Field(default=1.0, gt=0, le=3600)
    poll_max_s: float = Field(default=30.0, gt=0, le=86400)
    poll_concurrency: int = Field(default=8, ge=1)
    max_upload_bytes: int = Field(default=2 * 1024**3, gt=0)
    # A JSON answer larger than this is not read into memory (nor into the agent's context): it is saved to a
    # file and the call says where. Files (downloads) are streamed to disk whatever their size.
    max_response_bytes: int = Field(default=8 * 1024**2, ge=1024)
    # An unfinished job older than this is no longer polled: it ends `failed`, saying so.
    job_max_age_s: float = Field(default=DEFAULT_JOB_MAX_AGE_S, ge=1, le=365 * 86400.0)


class Settings(BaseModel):
    state_dir: Path
    schema_paths: list[Path] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    # Directories local files may be uploaded from, besides the client's roots (the CLI defaults to the cwd).
    allow_dirs: list[Path] = Field(default_factory=list)
    # Where binary responses are saved, one subdirectory per backend; None: `<state dir>/downloads`.
    output_dir: Path | None = None
    # What the tool list exposes: toolsets (backends or `<backend>.<group>`), an allowlist of tool names
    # or patterns, read-only tools only; and every operation as its own tool, or behind ops_search.
    toolsets: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    read_only: bool = False
    discovery: Discovery = "tools"
    # The output schemas tools/list carries: the result's shape (lean) or its full documentation.
    output_schemas: OutputSchemas = "lean"
    # Ask the user (elicitation, when the client offers it) before a destructive call is sent.
    confirm: bool = True
    # Jobs and session keys in PostgreSQL, shared by replicas (store_url.py); None: SQLite in the state dir.
    store_url: SecretStr | None = None
    # How long a replica's claim on a job lasts unrenewed: a killed replica's jobs are taken over after it.
    lease_s: float = Field(default=15.0, ge=1, le=3600)

    def for_sandbox(self) -> Settings:
        """The settings of a server on the sandbox: its own state (jobs, sessions, downloads) under
        `<state dir>/sandbox`, so nothing it starts is ever resumed by a server on the real backends (nor
        shared with replicas: a shared store is not used)."""
        return self.model_copy(update={"state_dir": self.state_dir / SANDBOX_STATE, "store_url": None})

    def ensure_state_dir(self) -> Path:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        return self.state_dir

    @property
    def jobs_db(self) -> Path:
        return self.state_dir / "jobs.sqlite3"

    @property
    def sessions_file(self) -> Path:
        return self.state_dir / "sessions.json"

    @property
    def downloads_dir(self) -> Path:
        return self.output_dir if self.output_dir is not None else self.state_dir / "downloads"


def default_state_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    configured = env.get(STATE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_state_dir("modelops-mcp", appauthor=False))


def is_filesystem_root(path: Path) -> bool:
    """`/` (or a drive's root), however it is spelled: `/..`, `.` run from `/`, a symlink to it."""
    real = path.expanduser().absolute().resolve()
    return real == real.parent


def allowed_dirs(flags: list[str], env: Mapping[str, str] | None = None) -> list[Path]:
    """Upload directories the user named: the flags, else the environment; none otherwise.

    Never the current directory by default: desktop hosts start servers in `/` or the home directory, so a
    default there would let an agent send any file the user can read. The filesystem root is refused even
    when named (a ValueError, which stops the start): it would allow every file on the machine, where naming
    the folders that hold the data costs one flag each.
    """
    env = os.environ if env is None else env
    from_flags = bool(flags)
    raw = flags or [p for p in env.get(ALLOW_DIRS_ENV, "").split(os.pathsep) if p.strip()]
    dirs = [Path(p).expanduser().absolute() for p in raw]
    for given, path in zip(raw, dirs, strict=True):
        if is_filesystem_root(path):
            where = f"--allow-dir {given}" if from_flags else f"{ALLOW_DIRS_ENV} entry {given!r}"
            raise ValueError(
                f"{where} is the filesystem root, which would let uploads send any file on this machine; "
                "name the folders that hold your data instead (e.g. --allow-dir ~/datasets)"
            )
    return dirs


def output_dir(flag: str | None, env: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if env is None else env
    raw = flag or env.get(OUTPUT_DIR_ENV)
    return Path(raw).expanduser().absolute() if raw else None


def listed(flags: list[str] | None, variable: str, env: Mapping[str, str] | None = None) -> list[str]:
    """Names from repeatable, comma-separated flags, else from the same list in an environment variable."""
    env = os.environ if env is None else env
    raw = flags if flags else [env.get(variable, "")]
    return [name.strip() for item in raw for name in item.split(",") if name.strip()]
