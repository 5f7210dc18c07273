"""Fixtures for the sandbox tests: a frozen-clock sandbox served on loopback, clients, and the vendor schemas."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from modelops_mcp.sandbox import Sandbox, serve_sandbox

VENDOR_SPEC = Path("/work/shared/vendor/caila/mlp-rest-api.mlpgate-2024-08-15.yml")
if not VENDOR_SPEC.exists():  # a checkout elsewhere keeps the shared tree next to the repo
    VENDOR_SPEC = Path(__file__).resolve().parents[3] / "shared/vendor/caila/mlp-rest-api.mlpgate-2024-08-15.yml"

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


# --- the vendor's OpenAPI document, read without a YAML library ----------------------------------------
# The venv has no YAML parser and the schemas use only a small block-style subset (mappings, "- item"
# sequences, plain or single-quoted scalars), so a few lines suffice for the schemas the tests need.


def _scalar(text: str) -> Any:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def _parse(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    if lines[i][1].startswith("- "):
        seq: list[Any] = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            text = lines[i][1][2:]
            if re.match(r"[\w$]+:( |$)", text):  # a mapping item: re-read it as a mapping two columns in
                lines[i] = (indent + 2, text)
                item, i = _parse(lines, i, indent + 2)
            else:
                item, i = _scalar(text), i + 1
            seq.append(item)
        return seq, i
    mapping: dict[str, Any] = {}
    while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
        key, _, rest = lines[i][1].partition(":")
        i += 1
        if rest.strip():
            mapping[key] = _scalar(rest.strip())
        elif i < len(lines) and (lines[i][0] > indent or lines[i][1].startswith("- ")):
            mapping[key], i = _parse(lines, i, lines[i][0])
        else:
            mapping[key] = None
    return mapping, i


def _schema_block(text: list[str], name: str) -> dict[str, Any]:
    start = text.index("  schemas:")
    head = text.index(f"    {name}:", start)
    block: list[tuple[int, str]] = []
    for line in text[head + 1 :]:
        indent = len(line) - len(line.lstrip(" "))
        if line.strip() and indent <= 4:
            break
        if line.strip():
            block.append((indent, line.strip()))
    parsed, _ = _parse(block, 0, block[0][0])
    assert isinstance(parsed, dict)
    return parsed


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
    text = VENDOR_SPEC.read_text().splitlines()
    schemas: dict[str, Any] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in schemas:
            continue
        schemas[name] = _strict(_schema_block(text, name))
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
