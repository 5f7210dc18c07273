"""Flags and their environment variables pass one set of bounds: a bad value stops the start in one line."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from modelops_mcp.cli import _parser, main
from modelops_mcp.settings.config import Limits
from modelops_mcp.settings.options import OTHER_SOURCES, SOURCES, OptionError, options_from
from tests.support import server_env


def refused(command: list[str], env: dict[str, str], state: Path) -> str:
    """`modelops-mcp <command>` as its own process: it must stop at once, exit 2, one line, no traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "modelops_mcp", *command],
        env=server_env(env, state),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_poll_interval_zero_is_refused_before_anything_starts(tmp_path: Path) -> None:
    # At 0 one job drew 92 status calls in a second: the start stops instead, saying what would do.
    said = refused(["serve", "--poll-interval", "0"], {}, tmp_path / "state")
    assert said == (
        "modelops-mcp: --poll-interval: must be a number of seconds >= 0.05 and <= 3600, not '0' "
        "(given as --poll-interval; env MODELOPS_POLL_INTERVAL sets it too)"
    )
    assert not (tmp_path / "state").exists()  # refused before the state dir was made


# Each bound, through the real command line: (command, its flags, its environment, the range it must name).
BOUNDS = [
    (["serve", "--poll-interval", "3601"], {}, ">= 0.05 and <= 3600"),
    (["serve"], {"MODELOPS_POLL_INTERVAL": "0.01"}, ">= 0.05 and <= 3600"),
    (["serve", "--poll-max", "-1"], {}, ">= 0.05 and <= 86400"),
    (["serve"], {"MODELOPS_POLL_MAX": "86401"}, ">= 0.05 and <= 86400"),
    (["serve", "--read-timeout", "nan"], {}, "> 0 and <= 3600"),
    (["serve"], {"MODELOPS_READ_TIMEOUT": "0"}, "> 0 and <= 3600"),
    (["serve", "--max-upload-mb", "-5"], {}, "> 0 and <= 1048576"),
    (["serve"], {"MODELOPS_MAX_UPLOAD_MB": "inf"}, "> 0 and <= 1048576"),
    (["serve", "--max-response-mb", "0"], {}, ">= 0.001 and <= 1024"),
    (["serve"], {"MODELOPS_MAX_RESPONSE_MB": "2048"}, ">= 0.001 and <= 1024"),
    (["serve", "--job-max-age", "0.5s"], {}, ">= 1s and <= 365d"),
    (["serve"], {"MODELOPS_JOB_MAX_AGE": "2y"}, ">= 1s and <= 365d"),
    (["demo", "--speed", "0"], {}, "> 0 and <= 100000"),
    (["demo"], {"MODELOPS_SANDBOX_SPEED": "-1"}, "> 0 and <= 100000"),
    (["serve"], {"MODELOPS_DISCOVERY": "everything"}, "one of tools, search"),
    (["tools"], {"MODELOPS_OUTPUT_SCHEMAS": "fat"}, "one of lean, full"),
    (["serve"], {"MODELOPS_READ_ONLY": "maybe"}, "true or false (1/0, yes/no, on/off)"),
    (["serve"], {"MODELOPS_NO_CONFIRM": "sometimes"}, "true or false (1/0, yes/no, on/off)"),
]


def check_said(said: str, command: list[str], env: dict[str, str], allowed: str) -> None:
    """The one line names the flag, the variable, which of the two was given, the range, and the value."""
    if env:
        [(variable, value)] = env.items()
        flag = next(s.flag for s in SOURCES.values() if s.env == variable)
        assert f"given as {variable}={value}; the flag {flag} sets it too" in said
    else:
        flag, value = command[1], command[2]
        variable = next(s.env for s in SOURCES.values() if s.flag == flag)
        assert f"given as {flag}; env {variable} sets it too" in said
    assert said.startswith(f"modelops-mcp: {flag}: must be ")
    assert f"{allowed}, not {value!r}" in said


# A process start costs seconds here, so one bound per option runs as its own process, and every bound
# runs through the same entry point (`main`: the parser, the model and the message) in this one.
@pytest.mark.parametrize(
    ("command", "env", "allowed"), [BOUNDS[i] for i in (2, 7, 10, 13, 16)], ids=lambda v: str(v)[:40]
)
def test_a_value_out_of_bounds_stops_the_start_naming_flag_variable_and_range(
    command: list[str], env: dict[str, str], allowed: str, tmp_path: Path
) -> None:
    check_said(refused(command, env, tmp_path / "state"), command, env, allowed)


@pytest.mark.parametrize(("command", "env", "allowed"), BOUNDS, ids=lambda v: str(v)[:40])
def test_every_bound_is_refused_by_the_command_line_entry_point(
    command: list[str],
    env: dict[str, str],
    allowed: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in [n for n in os.environ if n.startswith("MODELOPS_")]:
        monkeypatch.delenv(name)
    for name, value in {**env, "MODELOPS_STATE_DIR": str(tmp_path / "state")}.items():
        monkeypatch.setenv(name, value)
    assert main(command) == 2
    said = capsys.readouterr()
    assert said.out == ""
    [line] = said.err.strip().splitlines()
    check_said(line, command, env, allowed)
    assert not (tmp_path / "state").exists()


def test_a_flag_beats_its_variable_which_beats_the_default(tmp_path: Path) -> None:
    env = {"MODELOPS_STATE_DIR": str(tmp_path), "MODELOPS_POLL_INTERVAL": "2", "MODELOPS_JOB_MAX_AGE": "12h"}
    from_env = options_from(_parser().parse_args(["serve"]), env)
    assert (from_env.poll_interval, from_env.job_max_age) == (2.0, 12 * 3600.0)
    flagged = options_from(_parser().parse_args(["serve", "--poll-interval", "3", "--job-max-age", "90m"]), env)
    assert (flagged.poll_interval, flagged.job_max_age) == (3.0, 90 * 60.0)
    default = options_from(_parser().parse_args(["serve"]), {"MODELOPS_STATE_DIR": str(tmp_path)})
    limits = default.limits()
    assert limits == Limits()  # the defaults are the ones documented: 1 s, 30 s, 60 s, 2048 MiB, 8 MiB, 7 days
    assert limits.job_max_age_s == 7 * 86400.0


def test_the_edges_of_each_range_are_accepted_and_converted(tmp_path: Path) -> None:
    argv = ["serve", "--poll-interval", "0.05", "--poll-max", "86400", "--read-timeout", "3600"]
    argv += ["--max-upload-mb", "0.5", "--max-response-mb", "0.001", "--job-max-age", "365d"]
    limits = options_from(_parser().parse_args(argv), {"MODELOPS_STATE_DIR": str(tmp_path)}).limits()
    assert (limits.poll_min_interval_s, limits.poll_max_s, limits.read_timeout_s) == (0.05, 86400, 3600)
    assert (limits.max_upload_bytes, limits.max_response_bytes) == (512 * 1024, 1048)
    assert limits.job_max_age_s == 365 * 86400.0
    env = {"MODELOPS_READ_ONLY": " Yes ", "MODELOPS_NO_CONFIRM": "0"}
    switches = options_from(_parser().parse_args(["serve"]), env)
    assert (switches.read_only, switches.no_confirm) == (True, False)


def test_an_option_a_command_lacks_ignores_its_variable(tmp_path: Path) -> None:
    # `tools` has no polling: a variable meant for `serve` does not stop it.
    env = {"MODELOPS_STATE_DIR": str(tmp_path), "MODELOPS_POLL_INTERVAL": "0"}
    assert options_from(_parser().parse_args(["tools"]), env).poll_interval == 1.0
    with pytest.raises(OptionError):
        options_from(_parser().parse_args(["serve"]), env)


def test_every_flag_with_a_variable_is_read_by_the_model_and_named_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for source in [*SOURCES.values(), *OTHER_SOURCES.values()]:
        assert f"`{source.env}" in readme, source
        assert f"`{source.flag}" in readme, source
    serve_flags = {a.option_strings[0] for a in _serve_actions()}
    assert {s.flag for s in SOURCES.values() if s.flag != "--speed"} <= serve_flags
    assert {s.flag for s in OTHER_SOURCES.values()} <= serve_flags


def _serve_actions() -> list[argparse.Action]:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return [a for a in sub.choices["serve"]._actions if a.option_strings]


def test_limits_check_a_value_set_after_construction_too() -> None:
    limits = Limits()
    with pytest.raises(ValidationError):
        limits.poll_min_interval_s = 0
    with pytest.raises(ValidationError):
        limits.max_upload_bytes = -1
    assert limits.poll_min_interval_s == 1.0


def test_main_says_the_same_line_in_process(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["serve", "--state-dir", str(tmp_path), "--poll-max", "0"]) == 2
    assert "--poll-max: must be a number of seconds >= 0.05 and <= 86400, not '0'" in capsys.readouterr().err
