"""A backend's base URL checked before any call: what is wrong with it, and what a valid one looks like.

A malformed URL must not stop the server (every other backend still works) nor pass for a network failure
(which says "retry" where the fix is a setting): it becomes a configuration error of that backend alone.
"""

from __future__ import annotations

import re

import httpx

SCHEMES = ("http", "https")
# `scheme://user:password@`: the password is shown masked wherever the value is echoed, parsable or not.
_USERINFO_PASSWORD = re.compile(r"(?P<head>//[^/?#@:]*:)(?P<password>[^/?#@]*)@")


def masked(value: str) -> str:
    """The URL as it may be shown: any password in it replaced by `***`."""
    return _USERINFO_PASSWORD.sub(lambda m: f"{m.group('head')}***@", value)


def password_in(value: str) -> str | None:
    """The password of `user:password@` in the URL, even one too malformed to parse, so it can be redacted."""
    match = _USERINFO_PASSWORD.search(value)
    return match.group("password") or None if match else None


def url_problem(value: str, documented: str) -> str | None:
    """What is wrong with `value` as the base URL of an API documented at `documented`; None when nothing is.

    `documented`'s path is where the API's routes live (DataRobot's `/api/v2`): a base URL must end with it.
    """
    if not value.strip():
        return "is empty"
    if any(c.isspace() for c in value.strip()):
        return "contains a space"
    try:
        url = httpx.URL(value.strip())
    except httpx.InvalidURL as exc:
        return f"is not a URL ({exc})"
    if url.scheme not in SCHEMES:
        if "://" not in value:
            return "has no scheme: it must start with http:// or https://"
        return f"uses the scheme {url.scheme}:, where only http: and https: are supported"
    if not url.host:
        return "names no host"
    if url.port is not None and not 0 < url.port < 65536:
        return f"has the port {url.port}, outside 1..65535"
    if url.query or url.fragment:
        return "carries a query or fragment (?… or #…), which a base URL cannot have"
    root = httpx.URL(documented).path.rstrip("/")
    if root and not url.path.rstrip("/").endswith(root):
        return f"does not end with {root}, where the API's routes live"
    return None


def suggestion(value: str, documented: str) -> str:
    """A valid value close to what was set, when one is evident; else the documented URL."""
    stripped = value.strip().rstrip("/")
    root = httpx.URL(documented).path.rstrip("/")
    try:
        url = httpx.URL(stripped)
    except httpx.InvalidURL:
        return documented
    if url.scheme in SCHEMES and url.host and not url.query and not url.fragment:
        if root and not url.path.rstrip("/").endswith(root):
            return masked(stripped) + root
        return documented
    # `caila.io` or `localhost:8000`: a host (and port) without a scheme.
    if "://" not in stripped and re.fullmatch(r"[A-Za-z0-9.-]+(:\d{1,5})?(/\S*)?", stripped):
        scheme = httpx.URL(documented).scheme or "https"
        candidate = f"{scheme}://{stripped}"
        if url_problem(candidate, documented) is None:
            return candidate
    return documented
