"""`serve --transport http` refuses to listen at a backend's own address, before anything listens."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.app.self_address import collisions
from modelops_mcp.settings.config import Settings
from tests.support import server_env

SERVE = [sys.executable, "-m", "modelops_mcp", "serve", "--transport", "http"]


def refused(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*SERVE, *args], capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    return done.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_training_modules_default_port_is_refused_naming_its_variable(tmp_path: Path) -> None:
    said = refused(server_env({}, tmp_path), "--port", "8000")
    assert "refusing to serve at 127.0.0.1:8000: port 8000 is the training backend's address" in said
    assert "TRAINING_MODULE_URL unset: its default http://localhost:8000" in said
    assert "choose another --port, or set TRAINING_MODULE_URL" in said


def test_the_default_port_is_checked_against_a_configured_url(tmp_path: Path) -> None:
    # The default port (8770) collides with no backend's default, but with a URL set to it, it is refused.
    said = refused(server_env({"TTM_API_URL": "http://localhost:8770"}, tmp_path))
    assert "127.0.0.1:8770: port 8770 is the tunethemodel backend's address (TTM_API_URL=http://localhost:8770)" in said


def test_collisions_cover_configured_urls_and_wildcard_binds() -> None:
    catalog = load_settings_catalog(Settings(state_dir=Path("unused")))
    endpoint = {"DATAROBOT_ENDPOINT": "http://127.0.0.1:9123/api/v2", "PIECES_OS_URL": "http://127.0.0.1:1/"}
    [said] = collisions("127.0.0.1", 9123, catalog, endpoint)
    assert said.startswith("port 9123 is the datarobot backend's address (DATAROBOT_ENDPOINT=")
    assert collisions("0.0.0.0", 9123, catalog, endpoint) == [said]  # a wildcard bind answers loopback too
    assert collisions("127.0.0.1", 0, catalog, endpoint) == []  # an ephemeral port is nobody's address
    remote = {"DATAROBOT_ENDPOINT": "http://dr.example.com:9123/api/v2"}
    assert not any("datarobot" in line for line in collisions("127.0.0.1", 9123, catalog, remote))
    # Pieces OS unset is found by probing for a 2xx health answer, which this server never gives: no collision.
    assert collisions("127.0.0.1", 39301, catalog, {}) == []
    [pieces] = collisions("127.0.0.1", 39301, catalog, {"PIECES_OS_URL": "http://localhost:39301"})
    assert pieces.startswith("port 39301 is the pieces backend's address (PIECES_OS_URL=http://localhost:39301)")
    assert collisions("127.0.0.1", 8770, catalog, {"CAILA_BASE_URL": "http://localhost:abc/x"}) == []  # malformed


def test_a_port_no_backend_uses_starts_serving(tmp_path: Path) -> None:
    port = free_port()
    env = server_env({"TRAINING_MODULE_URL": f"http://localhost:{free_port()}"}, tmp_path)
    proc = subprocess.Popen(
        [*SERVE, "--port", str(port)], stderr=subprocess.PIPE, text=True, env=env, stdin=subprocess.DEVNULL
    )
    try:
        assert proc.stderr is not None
        assert proc.stderr.readline().strip() == f"modelops-mcp: serving Streamable HTTP at http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=15)
