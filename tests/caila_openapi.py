"""Caila's own OpenAPI document (tests/vendor/caila/) as a validator of real HTTP exchanges, with openapi-core.

openapi-core validates a request (path, query, headers, body) and a response (status, content type, body)
against the operation the document declares for that method and path; it works from the local file alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from modelops_mcp.sandbox.log import LoggedRequest

VENDOR_SPEC = Path(__file__).resolve().parent / "vendor" / "caila" / "mlp-rest-api.mlpgate-2024-08-15.yml"
# The document's own server is https://app.caila.io; the sandbox mounts the same paths under /caila on a
# loopback port, which a server variable stands for (the only change made to the document when loading it).
SANDBOX_SERVER = {"url": "http://127.0.0.1:{port}/caila", "variables": {"port": {"default": "80"}}}
# The five operations of the Caila fit flow, as the document names them (method, path).
FLOW_OPERATIONS = {
    "createDerivedModel": ("post", "/api/mlpgate/account/{account}/model/{model}/derived"),
    "listFitConfigs": ("get", "/api/mlpgate/account/{account}/model/{model}/fit-config"),
    "listDatasets": ("get", "/api/mlpgate/account/{account}/dataset"),
    "fit": ("post", "/api/mlpgate/account/{account}/model/{model}/fit"),
    "jobStatus": ("get", "/api/mlpgate/account/{account}/job/{jobId}"),
}


def vendor_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(VENDOR_SPEC.read_text(encoding="utf-8"))
    return document


@cache
def caila_api() -> OpenAPI:
    """The vendor document, checked as a valid OpenAPI 3.0 document by openapi-core on load (about a second)."""
    document = vendor_document()
    document["servers"] = [SANDBOX_SERVER]
    return OpenAPI.from_dict(document)


def _mock_request(
    url: str,
    method: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
) -> MockRequest:
    parts = urlsplit(url)
    args: dict[str, list[str]] = {}
    for name, value in query:
        args.setdefault(name, []).append(value)
    return MockRequest(
        f"{parts.scheme}://{parts.netloc}",
        method,
        parts.path,
        args={name: values if len(values) > 1 else values[0] for name, values in args.items()},
        headers=dict(headers),
        data=body or None,
        content_type=headers.get("content-type", ""),
    )


def _messages(errors: Iterable[Exception]) -> list[str]:
    """Each error with the schema errors behind it (openapi-core chains them as the cause)."""
    found: list[str] = []
    for error in errors:
        cause = error.__cause__
        details = [e.message for e in getattr(cause, "schema_errors", ())] if cause is not None else []
        found.append(f"{type(error).__name__}: {cause or error}" + (f" {details}" if details else ""))
    return found


def exchange_errors(response: httpx.Response) -> list[str]:
    """What the vendor document finds wrong with a real request and the answer it got (empty: both conform)."""
    sent = response.request
    headers = {k.lower(): v for k, v in sent.headers.items()}
    request = _mock_request(str(sent.url), sent.method, sent.url.params.multi_items(), headers, sent.content)
    answer = MockResponse(
        response.content,
        status_code=response.status_code,
        headers=dict(response.headers),
        content_type=response.headers.get("content-type", ""),
    )
    api = caila_api()
    return [f"request {m}" for m in _messages(api.iter_request_errors(request))] + [
        f"response {m}" for m in _messages(api.iter_response_errors(request, answer))
    ]


def logged_request_errors(base_url: str, entry: LoggedRequest) -> list[str]:
    """What the vendor document finds wrong with a request the sandbox's recorder saw (a client's, e.g. ours)."""
    query = [(n, v) for n, values in entry.query.items() for v in (values if isinstance(values, list) else [values])]
    body = b"" if entry.body is None else json.dumps(entry.body).encode()
    if isinstance(entry.body, str):
        body = entry.body.encode()
    request = _mock_request(base_url.rstrip("/") + entry.path, entry.method, query, entry.headers, body)
    return _messages(caila_api().iter_request_errors(request))
