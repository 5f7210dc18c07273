"""The MCP hosts `install` knows: where each keeps its server list, under which key, in which shape.

Checked against each host's documentation (December 2026):
- Claude Desktop: `claude_desktop_config.json` in the app's data folder: `~/Library/Application Support/Claude`
  (macOS), `%APPDATA%\\Claude` (Windows), `~/.config/Claude` (Linux builds, Electron's appData, which follows
  XDG_CONFIG_HOME); servers under `mcpServers`, each `command` / `args` / `env`.
- Cursor: `~/.cursor/mcp.json` (global; `%USERPROFILE%\\.cursor` on Windows) or `.cursor/mcp.json` in a project;
  servers under `mcpServers`, the same fields.
- VS Code: `mcp.json` in the user profile folder (`~/.config/Code/User`, `~/Library/Application Support/Code/User`,
  `%APPDATA%\\Code\\User`) or `.vscode/mcp.json` in a workspace; servers under `servers`, a stdio one with
  `"type": "stdio"` (code.visualstudio.com/docs/copilot/reference/mcp-configuration).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath, PureWindowsPath


class InstallError(ValueError):
    """A request `install` refuses, said plainly; nothing has been written."""


@dataclass(frozen=True)
class Host:
    name: str  # as typed on the command line
    label: str  # as the user knows it
    servers_key: str  # the top-level object holding the servers
    stdio_type: bool  # whether a stdio server says `"type": "stdio"`
    workspace_dir: str | None  # the folder of a project-level config, if the host has one
    reload_hint: str


HOSTS: dict[str, Host] = {
    host.name: host
    for host in (
        Host(
            "claude-desktop",
            "Claude Desktop",
            "mcpServers",
            stdio_type=False,
            workspace_dir=None,
            reload_hint="Quit Claude Desktop completely and open it again to load it.",
        ),
        Host(
            "cursor",
            "Cursor",
            "mcpServers",
            stdio_type=False,
            workspace_dir=".cursor",
            reload_hint="Cursor lists it under Settings > MCP; switch it on there if it is off.",
        ),
        Host(
            "vscode",
            "VS Code",
            "servers",
            stdio_type=True,
            workspace_dir=".vscode",
            reload_hint="In VS Code, run 'MCP: List Servers' and start it.",
        ),
    )
}


def config_path(host: Host, *, system: str, env: Mapping[str, str], workspace: str | None = None) -> PurePath:
    """The file `host` reads on `system` (sys.platform's value), given the user's environment.

    Pure (no file is looked at), so every platform's answer can be checked on any machine."""
    windows = system == "win32"
    pure: type[PurePath] = PureWindowsPath if windows else PurePosixPath
    if workspace is not None:
        if host.workspace_dir is None:
            raise InstallError(f"{host.label} has no per-project configuration; leave out --workspace")
        return pure(workspace) / host.workspace_dir / "mcp.json"
    if host.name == "cursor":
        return pure(_home(system, env)) / ".cursor" / "mcp.json"
    folder, file = {"claude-desktop": ("Claude", "claude_desktop_config.json"), "vscode": ("Code/User", "mcp.json")}[
        host.name
    ]
    return pure(_app_data(system, env)) / folder / file


def _home(system: str, env: Mapping[str, str]) -> str:
    name = "USERPROFILE" if system == "win32" else "HOME"
    home = env.get(name, "")
    if not home:
        raise InstallError(f"{name} is not set, so the home folder is unknown; pass --config PATH")
    return home


def _app_data(system: str, env: Mapping[str, str]) -> str:
    """Electron's appData folder, where both Claude Desktop and VS Code keep their settings."""
    if system == "win32":
        appdata = env.get("APPDATA", "")
        if not appdata:
            raise InstallError("APPDATA is not set, so the settings folder is unknown; pass --config PATH")
        return appdata
    if system == "darwin":
        return str(PurePosixPath(_home(system, env)) / "Library" / "Application Support")
    # Linux and other Unixes: the XDG config folder; the XDG spec says to ignore a relative XDG_CONFIG_HOME.
    xdg = env.get("XDG_CONFIG_HOME", "")
    if xdg and PurePosixPath(xdg).is_absolute():
        return xdg
    return str(PurePosixPath(_home(system, env)) / ".config")
