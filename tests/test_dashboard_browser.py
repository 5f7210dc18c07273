"""The jobs dashboard in a real browser: Debian's Chromium, driven by Playwright, renders the MCP App inside a
minimal host built with the ext-apps SDK's AppBridge, against `modelops-mcp serve --sandbox --transport http`.

Needs Chromium and the npm packages `.ci/browser.sh` installs (marker `browser`, deselected by default; CI runs
it through that script). tests/browser/drive.mjs does the clicking and writes what it saw; this test starts the
server, runs it, and checks its report and the sandbox's own request log.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support import EXAMPLE_DATA, http_server_process

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / "tests" / "browser" / "drive.mjs"
DEPS = Path(os.environ.get("MODELOPS_BROWSER_DEPS", ROOT / ".ci" / ".browser"))
# Where to copy the mid-training screenshot too, e.g. docs/dashboard.png when refreshing the README's picture.
SCREENSHOT_COPY = os.environ.get("MODELOPS_DASHBOARD_PNG")


def test_the_dashboard_draws_each_epoch_shows_a_failure_and_cancels_through_the_host_with_confirmation(
    state_dir: Path, tmp_path: Path
) -> None:
    assert (DEPS / "node_modules" / "playwright-core").is_dir(), f"run .ci/browser.sh first (no {DEPS})"
    token = secrets.token_urlsafe(16)
    report_path, screenshot = tmp_path / "report.json", tmp_path / "dashboard.png"
    env = {"MODELOPS_SANDBOX_SPEED": "0"}  # a frozen clock: the driver moves it an epoch at a time
    args = ("--sandbox", "--auth-token", token, "--allow-dir", str(EXAMPLE_DATA))
    with http_server_process(env, state_dir, *args) as (url, errlog):
        driven = subprocess.run(
            ["node", str(DRIVER)],
            env={
                **os.environ,
                "MCP_URL": url,
                "MCP_TOKEN": token,
                "BROWSER_DEPS": str(DEPS),
                "REPORT": str(report_path),
                "SCREENSHOT": str(screenshot),
                "DATA_DIR": str(EXAMPLE_DATA),
            },
            capture_output=True,
            text=True,
            timeout=240,
        )
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        assert driven.returncode == 0, f"{driven.stderr}\n{report.get('failure')}\nserver: {errlog.read_text()}"
        log = httpx.get(f"{report['control']}/requests", params={"backend": "training"}, timeout=10).json()

    # The host saw the three jobs readers declare the dashboard, and rendered it from the ui:// resource.
    assert set(report["declared"]) == {"jobs_list", "jobs_get", "jobs_wait"}
    assert report["opened"] == {"uri": "ui://modelops-mcp/jobs-dashboard.html", "meta": {"ui": {"prefersBorder": True}}}
    # One point more on the loss curve (and each metric's) per epoch, drawn as SVG circles.
    assert [(e["epoch"], e["loss"], e["circles"], e["accuracy"]) for e in report["epochs"]] == [
        (1, 1, 1, 1),
        (2, 2, 2, 2),
        (3, 3, 3, 3),
    ]
    assert report["message"].startswith("epoch 3/4 · loss ")
    assert report["timeline"] >= 2  # history.states: started, then training
    # The job whose status route failed shows the server's error.
    assert report["failedStatus"] == "failed"
    assert report["error"].startswith("not_found")
    # Cancel went from the view through the host as a tools/call of jobs_cancel, and the server's confirmation
    # rules held: it asked the host's user each time; declined, nothing was sent; accepted, the stop went once.
    cancels = [c for c in report["calls"] if c["name"] == "jobs_cancel"]
    assert cancels == [{"name": "jobs_cancel", "arguments": {"job_id": report["training"]}}] * 2
    assert [q.split(" (")[0] for q in report["questions"]] == [
        f"Confirm jobs_cancel: cancel job {report['training']}"
    ] * 2
    assert "did not confirm jobs_cancel" in report["declinedNote"]
    assert report["stopsAfterDecline"] == 0
    assert "training_stop_training" in report["cancelNote"]
    assert report["cancelledStatus"] == "cancelled"
    stops = [r for r in log["requests"] if r["method"] == "POST" and re.search(r"/training/stop/", r["path"])]
    assert len(stops) == 1, log
    # A view opened by a failed call shows the server's message, not an empty table.
    assert "nosuchjob" in report["openedOnError"]
    # The view refreshed through the server's jobs tools only, and nothing in it failed.
    assert {c["name"] for c in report["calls"]} == {"jobs_list", "jobs_get", "jobs_cancel"}
    assert report["consoleErrors"] == []
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    if SCREENSHOT_COPY:
        shutil.copyfile(screenshot, SCREENSHOT_COPY)
