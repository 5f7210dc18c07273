#!/usr/bin/env bash
# The dashboard's browser test (pytest -m browser): Debian's Chromium, and the npm packages the test host needs
# (ext-apps' AppBridge, the TypeScript MCP client, esbuild to bundle them, playwright-core to drive Chromium)
# pinned in .ci/browser/package.json and installed into .ci/.browser/ (git-ignored; kept when the pins match).
set -euo pipefail
cd "$(dirname "$0")/.."
printf '\n==> %s\n' "the jobs dashboard (MCP App) in headless Chromium: pytest -m browser"

if ! [ -x /usr/bin/chromium ]; then
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version

DIR=.ci/.browser
if ! cmp -s .ci/browser/package.json "$DIR/package.json" || ! [ -d "$DIR/node_modules/playwright-core" ]; then
  rm -rf "$DIR"
  mkdir -p "$DIR"
  cp .ci/browser/package.json "$DIR/"
  (cd "$DIR" && npm install --no-audit --no-fund --loglevel=error)
fi

set +e
.venv/bin/python -m pytest -m browser -n 0 tests/test_dashboard_browser.py
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "CI: the browser tests collected nothing; refusing to pass on zero tests" >&2
  exit 1
fi
exit "$status"
