"""Which backend a job belongs to: the URL it was started against, and whether the server may poll it now.

A job is polled only against the endpoint that started it, so a job begun on the sandbox is never checked
against a real backend with the real key (nor a real job against the sandbox). The credential sent is always
the one configured for the job's backend at that endpoint; a key rotated at the same endpoint keeps polling,
since rotation must not orphan every running job.
"""

from __future__ import annotations

import functools

import httpx


# Three per status poll, of a handful of distinct URLs: parsing each with httpx was a sixth of a poll's CPU.
@functools.lru_cache(maxsize=256)
def origin_of(base_url: str) -> str:
    """The base URL as stored and compared: no user:password (a credential), no trailing slash."""
    try:
        url = httpx.URL(base_url).copy_with(username=None, password=None)
    except (httpx.InvalidURL, TypeError, ValueError):
        return base_url.rstrip("/")
    return str(url).rstrip("/")


def mismatch(started: str | None, current: str, variable: str | None) -> str | None:
    """Why a job started against `started` is not polled against `current`; None when it may be."""
    setting = variable or "the base URL"
    if started is None:
        # Stored by a version that did not record the endpoint: it may be a sandbox job, and polling it
        # against a real backend with the real key is exactly what must not happen.
        return (
            f"stored without the backend URL it was started against (an older modelops-mcp); {setting} is now "
            f"{current}: not polled. Check it with the backend's own get tools"
        )
    if origin_of(started) == origin_of(current):
        return None
    return f"started against {started}; {setting} is now {current}: not polled"
