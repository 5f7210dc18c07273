"""`--store` / MODELOPS_STORE_URL: where jobs and session keys live (SQLite in the state dir by default).

A URL carries a password, so it is never shown as given: errors and logs show it with the password masked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

STORE_URL_ENV = "MODELOPS_STORE_URL"
STORE_FLAG = "--store"
SCHEMES = ("postgresql", "postgres")
_EXAMPLE = "postgresql://user:password@host:5432/dbname"


def shown_url(url: str) -> str:
    """`url` with its password replaced by ***, for messages and logs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))
    except ValueError:
        return "<a URL that does not parse>"


def store_url(flag: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The PostgreSQL URL the flag, else the variable, names; None: SQLite in the state dir. A ValueError
    (exit 2) names the flag and the variable, and shows the URL with its password masked."""
    env = os.environ if env is None else env
    from_flag = bool(flag and flag.strip())
    raw = (flag if from_flag else env.get(STORE_URL_ENV, "")) or ""
    raw = raw.strip()
    if not raw:
        return None
    where = (
        f"given as {STORE_FLAG}; env {STORE_URL_ENV} sets it too"
        if from_flag
        else (f"given as {STORE_URL_ENV}; the flag {STORE_FLAG} sets it too")
    )
    problem = _problem(raw)
    if problem is not None:
        raise ValueError(
            f"{STORE_FLAG}: must be a PostgreSQL URL like {_EXAMPLE} ({problem}), not {shown_url(raw)!r} ({where})"
        )
    return raw


def _problem(raw: str) -> str | None:
    if not raw.isprintable():
        return "it holds control characters"
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018  # raises on a port that is not a number
    except ValueError:
        return "it does not parse as a URL"
    if parts.scheme not in SCHEMES:
        return f"the scheme must be {' or '.join(s + '://' for s in SCHEMES)}"
    if not parts.hostname and "host=" not in parts.query:
        return "it names no host"
    if not parts.path.strip("/"):
        return "it names no database"
    return None
