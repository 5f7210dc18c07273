#!/usr/bin/env bash
# CI: the `postgres` tests (replicas sharing jobs, the SIGKILL test) against Debian's PostgreSQL. The tests
# start their own cluster in a temporary directory on 127.0.0.1 (as the postgres user when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
printf '\n==> %s\n' "replicas on a real PostgreSQL (pytest -m postgres; the README's run deselects them)"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
# One process: the kill test runs three server replicas and wants both cores to itself.
set +e
.venv/bin/python -m pytest -m postgres -n 0 tests/
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "CI: pytest -m postgres collected no tests; refusing to pass on zero tests" >&2
  exit 1
fi
exit "$status"
