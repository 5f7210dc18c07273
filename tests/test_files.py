"""Local files: which upload paths are accepted, and how a downloaded file is named and written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from mcp import Client

from modelops_mcp.http.downloads import disposition_name, safe_file_name, save_response
from modelops_mcp.http.uploads import PathRefused, check_path
from modelops_mcp.sandbox import Fault
from modelops_mcp.sandbox.datarobot_state import DEMO_MODEL_ID
from tests.support import RunningSandbox, dump, in_process

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("model.zip", "model.zip"),
        ("numenta/sparse-bert-trained.zip", "sparse-bert-trained.zip"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        (".bashrc", "bashrc"),
        ("..", "fallback.bin"),
        ("", "fallback.bin"),
        (None, "fallback.bin"),
        ("modèle final.zip", "modele_final.zip"),
        ("a; rm -rf ~.zip", "a_rm_-rf_.zip"),
        ("x" * 300 + ".tar", "x" * 116 + ".tar"),
    ],
)
def test_file_names_from_a_backend_are_made_safe(raw: str | None, expected: str) -> None:
    name = safe_file_name(raw, "fallback.bin")
    assert name == expected
    assert "/" not in name
    assert len(name) <= 120


def test_content_disposition_prefers_the_utf8_name() -> None:
    response = httpx.Response(
        200, headers={"content-disposition": "attachment; filename=\"plain.zip\"; filename*=utf-8''mod%C3%A8le.zip"}
    )
    assert disposition_name(response) == "modèle.zip"
    assert disposition_name(httpx.Response(200)) is None


async def test_a_download_never_overwrites_an_earlier_one(tmp_path: Path) -> None:
    headers = {"content-disposition": 'attachment; filename="results.csv"', "content-type": "text/csv"}
    first = await save_response(httpx.Response(200, headers=headers, content=b"a,b\n1,2\n"), tmp_path, "op")
    second = await save_response(httpx.Response(200, headers=headers, content=b"a,b\n3,4\n"), tmp_path, "op")
    assert (first.path.name, second.path.name) == ("results.csv", "results-1.csv")
    assert first.path.read_bytes() == b"a,b\n1,2\n"
    assert second.sha256 == hashlib.sha256(b"a,b\n3,4\n").hexdigest()
    assert second.content_type == "text/csv"


async def test_a_download_without_a_name_gets_one_from_the_operation(tmp_path: Path) -> None:
    saved = await save_response(
        httpx.Response(200, headers={"content-type": "application/zip"}, content=b"PK"), tmp_path, "dl"
    )
    assert saved.path.name.startswith("dl-")
    assert saved.path.suffix == ".zip"
    assert saved.structured()["uri"] == saved.path.as_uri()


def test_a_relative_path_is_looked_up_in_each_allowed_directory(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    (second / "data.csv").write_text("x\n")
    assert check_path("data.csv", [first, second], MiB) == (second / "data.csv").resolve()


@pytest.mark.parametrize(
    ("setup", "raw", "code"),
    [
        ("outside", "{tmp}/outside.csv", "path_not_allowed"),
        ("traversal", "../outside.csv", "path_not_allowed"),
        ("symlink", "link.csv", "path_not_allowed"),
        ("directory", "sub", "not_a_file"),
        ("missing", "absent.csv", "file_not_found"),
        ("large", "big.bin", "file_too_large"),
    ],
)
def test_paths_that_are_refused_say_why(tmp_path: Path, setup: str, raw: str, code: str) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (tmp_path / "outside.csv").write_text("secret\n")
    (allowed / "link.csv").symlink_to(tmp_path / "outside.csv")
    (allowed / "sub").mkdir()
    (allowed / "big.bin").write_bytes(b"\0" * 2048)
    with pytest.raises(PathRefused) as refused:
        check_path(raw.format(tmp=tmp_path), [allowed], max_bytes=1024)
    assert refused.value.code == code


def test_no_allowed_directory_refuses_everything(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n")
    with pytest.raises(PathRefused) as refused:
        check_path(str(tmp_path / "a.csv"), [], MiB)
    assert refused.value.code == "no_upload_dir"
    assert "--allow-dir" in str(refused.value)  # and how to allow a folder


async def test_a_hostile_download_name_lands_inside_the_output_dir_and_never_through_a_symlink(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """End to end: a backend names its file `../../escape.sh`, and a symlink of that name already waits in the
    output dir pointing outside; the download still lands as a new file inside the output dir."""
    output, outside = tmp_path / "out", tmp_path / "outside.sh"
    outside.write_text("untouched\n")
    (output / "datarobot").mkdir(parents=True)
    (output / "datarobot" / "escape.sh").symlink_to(outside)
    hostile = {"Content-Disposition": 'attachment; filename="../../escape.sh"', "Content-Type": "text/plain"}
    sandbox.emulators.faults.add(
        Fault(backend="datarobot", method="GET", path="/download/$", status=200, body="#!/bin/sh\n", headers=hostile)
    )
    async with (
        in_process(sandbox.env(), tmp_path / "state", output_dir=output) as (server, _),
        Client(server, mode="legacy") as client,
    ):
        result = await client.call_tool("datarobot_download_custom_model", {"customModelId": DEMO_MODEL_ID})
    assert not result.is_error, dump(result)
    assert_landed_inside(Path((result.structured_content or {})["path"]), output / "datarobot", tmp_path)


def assert_landed_inside(saved: Path, folder: Path, tmp_path: Path) -> None:
    assert saved.parent == folder.resolve()
    assert saved.name == "escape-1.sh"
    assert not saved.is_symlink()
    assert saved.read_text() == "#!/bin/sh\n"
    assert (tmp_path / "outside.sh").read_text() == "untouched\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "outside.sh", "state"]
