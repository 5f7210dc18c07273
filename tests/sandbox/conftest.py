"""Fixtures for the sandbox tests: a frozen-clock sandbox served on loopback, clients, and the vendor schemas."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from importlib.resources import files
from typing import Any

import httpx
import jsonschema
import pytest

from modelops_mcp.sandbox import Sandbox, serve_sandbox

CAILA_KEY = "sandbox-key"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sandbox() -> Sandbox:
    # Speed 0 freezes the simulated clock: tests move it with clock.advance and never wait on wall time.
    return Sandbox(speed=0)


@pytest.fixture
async def base_url(sandbox: Sandbox) -> AsyncIterator[str]:
    async with serve_sandbox(sandbox) as url:
        yield url


@pytest.fixture
async def caila(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client at the emulated Caila gateway root (``.../caila/api/mlpgate``) sending a valid key."""
    async with httpx.AsyncClient(base_url=base_url + "/caila/api/mlpgate", headers={"MLP-API-KEY": CAILA_KEY}) as c:
        yield c


@pytest.fixture
async def control(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url) as c:
        yield c


# --- the vendor's shapes ------------------------------------------------------------------------------
# caila.json carries the vendor spec's component schemas field for field (types, formats, enums, required
# lists); reading them from the package keeps these tests independent of files outside the repository.


def _strict(schema: Any) -> Any:
    """Forbid fields the vendor schema does not declare, so a misspelt field name fails the test."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if out.get("type") == "object" and "properties" in out:
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _load_schemas(names: list[str]) -> dict[str, Any]:
    document = json.loads((files("modelops_mcp.schemas") / "caila.json").read_text(encoding="utf-8"))
    components = document["components"]["schemas"]
    schemas: dict[str, Any] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in schemas:
            continue
        schemas[name] = _strict(components[name])
        todo += re.findall(r"#/components/schemas/(\w+)", repr(schemas[name]))
    return schemas


# JSON integers only: jsonschema would otherwise accept 42.0 as an integer, and int64 ids must be integers.
_TYPES = jsonschema.Draft7Validator.TYPE_CHECKER.redefine(
    "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
)
_Validator = jsonschema.validators.extend(jsonschema.Draft7Validator, type_checker=_TYPES)  # type: ignore[no-untyped-call]


@pytest.fixture(scope="session")
def vendor_schemas() -> dict[str, Any]:
    return _load_schemas(["ModelInfoData", "FitConfigData", "DatasetInfoData", "JobStatusData"])


@pytest.fixture(scope="session")
def assert_matches(vendor_schemas: dict[str, Any]) -> Callable[[Any, str], None]:
    """``assert_matches(value, "ModelInfoData")`` validates against the vendor schema, strictly."""
    root = {"components": {"schemas": vendor_schemas}}

    def check(value: Any, name: str) -> None:
        schema = {**vendor_schemas[name], "components": root["components"]}
        _Validator(schema).validate(value)

    return check
