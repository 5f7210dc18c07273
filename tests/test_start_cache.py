"""A start reads what it derives from the bundled documents (catalog, tool list) from the cache folder: the same
tools/list byte for byte, whether the entries were just written, read back, or found unreadable and rebuilt."""

from __future__ import annotations

import json
import os
import time
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


def entries(cache: Path) -> dict[Path, int]:
    return {p.relative_to(cache): p.stat().st_mtime_ns for p in cache.rglob("*.pickle")}


async def test_a_second_start_reads_the_tool_list_from_the_cache_and_lists_the_same(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = await tools_of_a_start(cache, tmp_path / "s1")
    written = entries(cache)
    kinds = sorted(name.name.split("-", 1)[0] for name in written)
    assert len({name.parent for name in written}) == 1  # one subfolder: this code's
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


def test_entries_are_keyed_by_every_source_file_of_the_package() -> None:
    # The stamp must cover every layer (spec/, surface/ build what is cached), not only core/ where this module is.
    assert (start_cache._PACKAGE / "spec" / "load.py").is_file()
    assert (start_cache._PACKAGE / "surface" / "listing.py").is_file()


def test_other_codes_entries_go_a_day_after_their_last_write(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(start_cache.CACHE_DIR_ENV, str(tmp_path))
    stale, recent = tmp_path / "0ld", tmp_path / "recent"
    for folder in (stale, recent):
        folder.mkdir()
        (folder / "listed-x.pickle").write_bytes(b"old")
    day_ago = time.time() - start_cache.PRUNE_AFTER_S - 60
    os.utime(stale, (day_ago, day_ago))
    (tmp_path / "a file of the user's").write_text("kept")

    start_cache.store("listed", ("key",), b"\x80\x04K\x01.")
    assert start_cache.load("listed", ("key",)) == (b"\x80\x04K\x01.", 1)
    assert not stale.exists()
    assert (recent / "listed-x.pickle").read_bytes() == b"old"  # another version in use: kept
    assert (tmp_path / "a file of the user's").read_text() == "kept"


def test_no_writes_reads_but_writes_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(start_cache.CACHE_DIR_ENV, str(tmp_path / "cache"))
    with start_cache.no_writes():
        start_cache.store("listed", ("key",), b"\x80\x04K\x01.")
    assert not (tmp_path / "cache").exists()
    start_cache.store("listed", ("key",), b"\x80\x04K\x01.")
    with start_cache.no_writes():
        assert start_cache.load("listed", ("key",)) == (b"\x80\x04K\x01.", 1)
