"""`--store` / MODELOPS_STORE_URL refused before anything starts, in one line naming both, password masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelops_mcp import cli

SECRET = "store-pass-8c2e61"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        (f"mysql://u:{SECRET}@db.internal/jobs", "the scheme must be postgresql:// or postgres://"),
        (f"postgresql://u:{SECRET}@db.internal", "it names no database"),
        (f"postgresql://u:{SECRET}@/jobs", "it names no host"),
        (f"postgresql://u:{SECRET}@db.internal:port/jobs", "it does not parse as a URL"),
    ],
)
@pytest.mark.parametrize("given", ["flag", "env"])
def test_a_bad_store_url_names_the_flag_and_variable_and_never_the_password(
    url: str, why: str, given: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["serve", "--state-dir", str(tmp_path)]
    if given == "flag":
        args += ["--store", url]
    else:
        monkeypatch.setenv("MODELOPS_STORE_URL", url)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("modelops-mcp: --store: must be a PostgreSQL URL like postgresql://"), err
    assert why in err
    assert "MODELOPS_STORE_URL" in err
    assert ("given as --store" in err) == (given == "flag")
    assert SECRET not in err
    assert err.count("\n") == 1
    assert not (tmp_path / "jobs.sqlite3").exists()  # nothing started


def test_an_unreachable_store_stops_the_start_with_the_password_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    url = f"postgresql://ops:{SECRET}@127.0.0.1:1/jobs"
    assert cli.main(["serve", "--state-dir", str(tmp_path), "--store", url, "--transport", "http", "--no-auth"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the job store at postgresql://ops:***@127.0.0.1:1/jobs" in err, err
    assert SECRET not in err


def test_store_migrate_needs_a_store_and_something_to_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MODELOPS_STORE_URL", raising=False)
    assert cli.main(["store", "migrate", "--state-dir", str(tmp_path)]) == 2
    assert "name the PostgreSQL store to copy into with --store or MODELOPS_STORE_URL" in capsys.readouterr().err
    url = f"postgresql://ops:{SECRET}@127.0.0.1:1/jobs"
    assert cli.main(["store", "migrate", "--state-dir", str(tmp_path), "--store", url]) == 2
    err = capsys.readouterr().err
    assert f"nothing to copy: {tmp_path} has neither jobs.sqlite3 nor sessions.json" in err
    assert SECRET not in err


def test_the_sandbox_never_shares_the_replicas_store(tmp_path: Path) -> None:
    from pydantic import SecretStr

    from modelops_mcp.settings.config import Settings

    shared = Settings(state_dir=tmp_path, store_url=SecretStr(f"postgresql://ops:{SECRET}@db/jobs"))
    sandboxed = shared.for_sandbox()
    assert sandboxed.store_url is None  # its jobs stay in <state dir>/sandbox, apart from the real ones
    assert sandboxed.jobs_db == tmp_path / "sandbox" / "jobs.sqlite3"
    assert SECRET not in repr(shared)
