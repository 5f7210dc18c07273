#!/usr/bin/env bash
# The whole tool list through the MCP Inspector CLI's strict schema-portability check (`--strict`: no
# error and, stricter than the Inspector itself, no warning either), then compiled schema by schema with
# Ajv's strictest mode (.ci/strict_schemas.mjs); in each listing mode: lean output schemas (the default),
# full output schemas, and search mode.
#
# Usage: bash .ci/strict-schemas.sh <modelops-mcp executable>
set -euo pipefail

INSPECTOR_VERSION="2.12.0"
AJV_VERSION="8.20.0"
AJV_FORMATS_VERSION="3.0.1"
CI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS_DIR="$CI_DIR/node/strict"   # under .ci/node, which is gitignored
SERVER="${1:?usage: strict-schemas.sh <modelops-mcp executable>}"

log() { printf 'strict-schemas: %s\n' "$*" >&2; }
command -v node >/dev/null || { log "node is required"; exit 2; }
command -v npm >/dev/null || { log "npm is required"; exit 2; }

installed() { grep -q "\"version\": \"$INSPECTOR_VERSION\"" "$TOOLS_DIR/node_modules/@modelcontextprotocol/inspector/package.json" 2>/dev/null; }
if ! installed; then
  log "installing @modelcontextprotocol/inspector@$INSPECTOR_VERSION, ajv@$AJV_VERSION into $TOOLS_DIR"
  rm -rf "$TOOLS_DIR" && mkdir -p "$TOOLS_DIR"
  printf '{"name": "modelops-mcp-strict-schemas", "private": true}\n' >"$TOOLS_DIR/package.json"
  timeout 600 npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --loglevel=error \
    "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" "ajv@$AJV_VERSION" "ajv-formats@$AJV_FORMATS_VERSION" >&2
fi
cp "$CI_DIR/strict_schemas.mjs" "$TOOLS_DIR/strict_schemas.mjs"  # resolves ajv from $TOOLS_DIR/node_modules

state="$(mktemp -d)"
trap 'rm -rf "$state"' EXIT
status=0
for mode in "lean" "full:--output-schemas full" "search:--discovery search"; do
  name="${mode%%:*}"
  extra=()
  [[ "$mode" == *:* ]] && read -r -a extra <<<"${mode#*:}"
  out="$state/$name.json"
  report="$state/$name.portability.txt"
  if ! MODELOPS_STATE_DIR="$state/$name" timeout 120 "$TOOLS_DIR/node_modules/.bin/mcp-inspector" --cli \
    "$SERVER" serve --sandbox "${extra[@]}" --method tools/list --strict >"$out" 2>"$report"; then
    log "$name: the Inspector's strict check failed"; status=1
  fi
  if grep -q -E "Warning|Error|error-severity" "$report"; then
    log "$name: the Inspector reports portability problems:"; cat "$report" >&2; status=1
  else
    log "$name: the Inspector's strict portability check: no error, no warning"
  fi
  node "$TOOLS_DIR/strict_schemas.mjs" "$out" "$name" || status=1
done
exit "$status"
