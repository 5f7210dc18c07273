"""`modelops-mcp install HOST`: the config it writes starts the server exactly as written, and loses nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from modelops_mcp.cli import main
from modelops_mcp.install import HOSTS, InstallError
from modelops_mcp.install.hosts import config_path
from modelops_mcp.install.launcher import find_launcher
from tests.support import BACKEND_TOOLS, JOB_TOOLS

# The script the README's install puts in .venv/bin, next to this interpreter.
SCRIPT = str(Path(sys.executable).parent / "modelops-mcp")
SECRET = "sk-install-test-0123456789abcdef"
# Where each host keeps its user config on Linux, under the home folder.
USER_FILES = {
    "claude-desktop": ".config/Claude/claude_desktop_config.json",
    "cursor": ".cursor/mcp.json",
    "vscode": ".config/Code/User/mcp.json",
}


def home_env(home: Path, **extra: str) -> dict[str, str]:
    """This environment with `home` as the user's home, and no backend or XDG setting of the real user."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CAILA_", "MODELOPS_", "TRAINING_", "PIECES_", "TTM_", "DATAROBOT_", "XDG_"))
    }
    return {**base, "HOME": str(home), "APPDATA": str(home / "AppData" / "Roaming"), **extra}


def install(
    home: Path, *args: str, command: tuple[str, ...] = (SCRIPT,), **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, "install", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=home_env(home, **env),
        cwd=home,
        stdin=subprocess.DEVNULL,
    )


def install_here(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, **env: str
) -> tuple[int, str, str]:
    """The same command line in this process: quicker, for what does not depend on how it was started."""
    for name in [k for k in os.environ if k.startswith(("CAILA_", "XDG_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["install", *args])
    out, err = capsys.readouterr()
    return code, out, err


def existing_config(host: str) -> dict[str, Any]:
    """A user's file before the install: another server and a setting of the host's own."""
    key = HOSTS[host].servers_key
    other = {"command": "/usr/bin/other-server", "args": ["--flag"], "env": {"OTHER_TOKEN": "keep-me"}}
    if HOSTS[host].stdio_type:
        other = {"type": "stdio", **other}
    return {"globalShortcut": "Ctrl+Space", key: {"other": other}, "inputs": [{"id": "x", "type": "promptString"}]}


async def listed_tools(entry: dict[str, Any], cwd: str) -> set[str]:
    """Start the server as a host does: the entry's command, args and env, nothing else of ours."""
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=entry.get("env"), cwd=cwd)
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as errlog:
        try:
            async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
                return {tool.name for tool in (await client.list_tools()).tools}
        except Exception as exc:
            errlog.seek(0)
            raise AssertionError(f"the server did not start as written; its stderr:\n{errlog.read()}") from exc


@pytest.mark.anyio
@pytest.mark.parametrize("host", list(HOSTS))
async def test_install_merges_backs_up_and_the_entry_starts_the_server_as_written(
    host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    data = home / "data"
    data.mkdir(parents=True)
    file = home / USER_FILES[host]
    file.parent.mkdir(parents=True)
    before = json.dumps(existing_config(host), indent=4)
    file.write_text(before)

    done = install(home, host, "--sandbox", "--env", f"CAILA_API_KEY={SECRET}", "--allow-dir", str(data))
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert SECRET[-4:] in done.stdout  # masked, yet two keys can be told apart
    assert str(file) in done.stdout

    written = json.loads(file.read_text())
    key = HOSTS[host].servers_key
    assert written["globalShortcut"] == "Ctrl+Space"
    assert written["inputs"] == [{"id": "x", "type": "promptString"}]
    assert written[key]["other"] == existing_config(host)[key]["other"]
    entry = written[key]["modelops"]
    assert entry["command"] == SCRIPT
    assert Path(entry["command"]).is_absolute()
    assert entry["args"] == ["serve", "--sandbox", "--allow-dir", str(data)]
    assert entry["env"] == {"CAILA_API_KEY": SECRET}
    assert ("type" in entry) == (host == "vscode")
    if host == "vscode":
        assert entry["type"] == "stdio"
    backups = list(file.parent.glob(f"{file.name}.bak-*"))
    assert len(backups) == 1
    assert backups[0].read_text() == before
    assert file.stat().st_mode & 0o077 == 0  # it now holds a key

    # A host's environment: its own HOME and PATH (no venv activated), the entry's env on top, started in /.
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert await listed_tools(entry, cwd="/") == BACKEND_TOOLS | JOB_TOOLS


def test_a_file_that_is_not_json_is_refused_and_left_alone(tmp_path: Path) -> None:
    file = tmp_path / USER_FILES["claude-desktop"]
    file.parent.mkdir(parents=True)
    before = '{\n  "mcpServers": {\n    // mine\n    "other": {"command": "x"},\n  }\n}\n'
    file.write_text(before)

    done = install(tmp_path, "claude-desktop", "--env", f"CAILA_API_KEY={SECRET}")
    assert done.returncode == 2
    assert f"{file} is not valid JSON (line 3, column 5" in done.stderr
    assert "nothing was written" in done.stderr
    assert "Traceback" not in done.stderr
    assert SECRET not in done.stderr
    assert file.read_text() == before
    assert sorted(p.name for p in file.parent.iterdir()) == [file.name]  # no backup, no temporary file


def test_a_servers_key_that_is_not_an_object_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / USER_FILES["cursor"]
    file.parent.mkdir(parents=True)
    file.write_text('{"mcpServers": ["old", "style"]}')
    code, _, err = install_here(tmp_path, monkeypatch, capsys, "cursor")
    assert code == 2
    assert '"mcpServers" in the file is a JSON list, not an object; nothing was written' in err
    assert file.read_text() == '{"mcpServers": ["old", "style"]}'


def test_dry_run_prints_the_masked_entry_and_writes_nothing(tmp_path: Path) -> None:
    done = install(
        tmp_path,
        "vscode",
        "--dry-run",
        "--sandbox",
        "--env",
        f"CAILA_API_KEY={SECRET}",
        "--env",
        "CAILA_BASE_URL=https://user:pa55word@caila.example/",
    )
    assert done.returncode == 0, done.stderr
    assert "dry run: nothing written" in done.stdout
    assert "would be kept" not in done.stdout  # there is no old file
    assert SECRET not in done.stdout
    assert "pa55word" not in done.stdout
    assert '"CAILA_API_KEY": "***cdef"' in done.stdout
    assert '"CAILA_BASE_URL": "https://user:***@caila.example/"' in done.stdout
    assert f'"command": "{SCRIPT}"' in done.stdout
    assert '"type": "stdio"' in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # not even the folders


def test_a_bare_env_name_takes_the_value_from_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = install_here(
        tmp_path, monkeypatch, capsys, "cursor", "--env", "CAILA_API_KEY", CAILA_API_KEY=SECRET
    )
    assert code == 0, err
    assert SECRET not in out + err
    entry = json.loads((tmp_path / USER_FILES["cursor"]).read_text())["mcpServers"]["modelops"]
    assert entry["env"] == {"CAILA_API_KEY": SECRET}

    code, _, err = install_here(tmp_path, monkeypatch, capsys, "cursor", "--env", "CAILA_API_KEY=")
    assert code == 0
    assert "CAILA_API_KEY is empty in the entry" in err

    monkeypatch.delenv("CAILA_API_KEY", raising=False)
    code, out, err = install_here(tmp_path, monkeypatch, capsys, "cursor", "--env", "CAILA_API_KEY")
    assert code == 2
    assert "CAILA_API_KEY is not set here; pass --env CAILA_API_KEY=VALUE" in err


def test_reinstalling_replaces_the_entry_in_place_and_keeps_each_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / USER_FILES["cursor"]
    assert install_here(tmp_path, monkeypatch, capsys, "cursor", "--sandbox")[0] == 0
    assert install_here(tmp_path, monkeypatch, capsys, "cursor", "--name", "modelops-sandbox", "--sandbox")[0] == 0
    code, out, err = install_here(tmp_path, monkeypatch, capsys, "cursor")
    assert code == 0, err
    assert '"mcpServers" > "modelops" replaced' in out
    servers = json.loads(file.read_text())["mcpServers"]
    assert list(servers) == ["modelops", "modelops-sandbox"]
    assert servers["modelops"]["args"] == ["serve"]
    assert servers["modelops-sandbox"]["args"] == ["serve", "--sandbox"]
    assert len(list(file.parent.glob("mcp.json.bak-*"))) == 2  # the first install had no file to keep


def test_a_linked_config_stays_a_link_and_its_target_is_updated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dotfiles = tmp_path / "dotfiles" / "cursor-mcp.json"
    dotfiles.parent.mkdir()
    dotfiles.write_text('{"mcpServers": {"other": {"command": "x"}}}')
    link = tmp_path / USER_FILES["cursor"]
    link.parent.mkdir()
    link.symlink_to(dotfiles)
    code, _, err = install_here(tmp_path, monkeypatch, capsys, "cursor", "--sandbox")
    assert code == 0, err
    assert link.is_symlink()
    assert list(json.loads(dotfiles.read_text())["mcpServers"]) == ["other", "modelops"]
    assert [p.name.split(".bak-")[0] for p in dotfiles.parent.glob("*.bak-*")] == ["cursor-mcp.json"]


def test_workspace_writes_the_projects_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    code, _, err = install_here(tmp_path, monkeypatch, capsys, "vscode", "--workspace", str(project), "--sandbox")
    assert code == 0, err
    written = json.loads((project / ".vscode" / "mcp.json").read_text())
    assert written == {"servers": {"modelops": {"type": "stdio", "command": SCRIPT, "args": ["serve", "--sandbox"]}}}
    assert not (tmp_path / ".config").exists()

    code, _, err = install_here(tmp_path, monkeypatch, capsys, "claude-desktop", "--workspace", str(project))
    assert code == 2
    assert "Claude Desktop has no per-project configuration" in err


def test_config_overrides_the_file_and_python_m_finds_the_same_script(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "mine.json"
    done = install(tmp_path, "claude-desktop", "--config", str(target), command=(sys.executable, "-m", "modelops_mcp"))
    assert done.returncode == 0, done.stderr
    entry = json.loads(target.read_text())["mcpServers"]["modelops"]
    assert entry == {"command": SCRIPT, "args": ["serve"]}


def test_bad_options_are_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for args, said in (
        (["--env", "NOT A NAME=1"], "'NOT A NAME' is not a variable name"),
        (["--allow-dir", str(tmp_path / "nowhere")], "no such directory"),
        (["--name", "has space"], "--name 'has space'"),
    ):
        code, _, err = install_here(tmp_path, monkeypatch, capsys, "cursor", *args)
        assert code == 2, args
        assert said in err
    assert not (tmp_path / ".cursor").exists()


def test_each_platforms_config_location() -> None:
    posix = {"HOME": "/home/ann"}
    assert config_path(HOSTS["claude-desktop"], system="linux", env=posix) == PurePosixPath(
        "/home/ann/.config/Claude/claude_desktop_config.json"
    )
    assert config_path(HOSTS["vscode"], system="linux", env={**posix, "XDG_CONFIG_HOME": "/x/cfg"}) == PurePosixPath(
        "/x/cfg/Code/User/mcp.json"
    )
    mac = {"HOME": "/Users/ann"}
    assert config_path(HOSTS["claude-desktop"], system="darwin", env=mac) == PurePosixPath(
        "/Users/ann/Library/Application Support/Claude/claude_desktop_config.json"
    )
    assert config_path(HOSTS["vscode"], system="darwin", env=mac) == PurePosixPath(
        "/Users/ann/Library/Application Support/Code/User/mcp.json"
    )
    assert config_path(HOSTS["cursor"], system="darwin", env=mac) == PurePosixPath("/Users/ann/.cursor/mcp.json")
    win = {"APPDATA": "C:\\Users\\ann\\AppData\\Roaming", "USERPROFILE": "C:\\Users\\ann"}
    assert config_path(HOSTS["claude-desktop"], system="win32", env=win) == PureWindowsPath(
        "C:\\Users\\ann\\AppData\\Roaming\\Claude\\claude_desktop_config.json"
    )
    assert config_path(HOSTS["vscode"], system="win32", env=win) == PureWindowsPath(
        "C:\\Users\\ann\\AppData\\Roaming\\Code\\User\\mcp.json"
    )
    assert config_path(HOSTS["cursor"], system="win32", env=win) == PureWindowsPath("C:\\Users\\ann\\.cursor\\mcp.json")
    with pytest.raises(InstallError, match="APPDATA is not set"):
        config_path(HOSTS["vscode"], system="win32", env={})


def test_without_a_script_the_launcher_is_this_python_with_dash_m(tmp_path: Path) -> None:
    launcher = find_launcher(argv0=str(tmp_path / "__main__.py"), scripts_dirs=[str(tmp_path)])
    assert launcher.command == os.path.abspath(sys.executable)
    assert launcher.args == ["-m", "modelops_mcp"]
    # And that command does start this installation.
    done = subprocess.run([launcher.command, *launcher.args, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("modelops-mcp ")
