#!/usr/bin/env bash
# The official DataRobot Python client, datarobot 3.20.0, in its own virtualenv at .ci/.clients/datarobot/
# (it pulls pandas, numpy, requests, trafaret...: none of them meets our own virtualenv).
# Idempotent: a virtualenv that already holds this exact version is left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=3.20.0
DIR=.ci/.clients/datarobot

if [ -x "$DIR/bin/python" ] && "$DIR/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('datarobot') != '$VERSION')" 2>/dev/null; then
  echo "datarobot $VERSION already installed in $DIR"
  exit 0
fi
rm -rf "$DIR"
python3 -m venv "$DIR"
"$DIR/bin/pip" install --quiet --upgrade pip
"$DIR/bin/pip" install --quiet "datarobot==$VERSION"
"$DIR/bin/python" -c "import datarobot; print('installed datarobot', datarobot.__version__)"
