#!/usr/bin/env bash
# The official Pieces OS client, pieces_os_client 5.0.1, in its own virtualenv at
# .ci/.clients/pieces-os-client/ (idempotent: an install with the same pins is kept).
# Every dependency is pinned too; websocket-client is the library its own BaseWebsocket helper runs on.
set -euo pipefail
cd "$(dirname "$0")/../.."

DIR=.ci/.clients/pieces-os-client
PINS=(
  pieces_os_client==5.0.1
  websocket-client==1.9.2 urllib3==2.8.0 python-dateutil==4.0.0 aenum==3.1.17
  pydantic==2.14.4 pydantic_core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5
  typing_extensions==4.16.0 tzdata==2026.6
)
STAMP="$DIR/.pins"
if [ -x "$DIR/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "${PINS[*]}" ]; then
  echo "pieces_os_client 5.0.1: already installed in $DIR"
  exit 0
fi
rm -rf "$DIR"
python3 -m venv "$DIR"
"$DIR/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}"
printf '%s' "${PINS[*]}" > "$STAMP"
"$DIR/bin/python" -c 'import importlib.metadata as m; print("pieces_os_client", m.version("pieces_os_client"), "installed in '"$DIR"'")'
