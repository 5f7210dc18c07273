"""A start reads what it derives from the bundled documents (catalog, tool list) from the cache folder: the same
tools/list byte for byte, whether the entries were just written, read back, or found unreadable and rebuilt."""

from __future__ import annotations

import json
from pathlib import Path

import mcp_types as types
import pytest

from modelops_mcp.core import start_cache
from tests.support import stdio_server

pytestmark = pytest.mark.anyio


def listing(tools: list[types.Tool]) -> str:
    return json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools], sort_keys=True)


async def tools_of_a_start(cache: Path, state: Path) -> str:
    async with stdio_server({"MODELOPS_CACHE_DIR": str(cache)}, state, "--sandbox") as (client, _):
        return listing((await client.list_tools()).tools)


def entries(cache: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}


async def test_a_second_start_reads_the_tool_list_from_the_cache_and_lists_the_same(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = await tools_of_a_start(cache, tmp_path / "s1")
    written = entries(cache)
    kinds = sorted(name.split("-", 1)[0] for name in written)
    assert kinds == ["backend"] * 5 + ["listed", "shown"]  # one per bundled document, the list, its outputs
    assert len(json.loads(first)) > 90

    second = await tools_of_a_start(cache, tmp_path / "s2")
    assert second == first
    assert entries(cache) == written  # read back, not built and written again

    for name in written:  # garbage where a pickle was: built anew, the same list, the entries rewritten
        (cache / name).write_bytes(b"not a pickle")
    third = await tools_of_a_start(cache, tmp_path / "s3")
    assert third == first
    assert all((cache / name).read_bytes()[:1] == b"\x80" for name in written)


def test_the_cache_is_off_when_asked_and_keyed_by_this_code(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(start_cache.CACHE_DIR_ENV, "off")
    start_cache.store("listed", ("key",), b"data")
    assert start_cache.load("listed", ("key",)) is None

    monkeypatch.setenv(start_cache.CACHE_DIR_ENV, str(tmp_path))
    start_cache.store("listed", ("key",), b"\x80\x04K\x01.")  # pickle of 1
    assert start_cache.load("listed", ("key",)) == (b"\x80\x04K\x01.", 1)
    assert start_cache.load("listed", ("other key",)) is None
    # Another version or an edited source file is another code stamp: its entries are never read.
    monkeypatch.setattr(start_cache, "_code_stamp", lambda: b"other code")
    assert start_cache.load("listed", ("key",)) is None
