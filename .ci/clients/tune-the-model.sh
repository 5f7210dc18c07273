#!/usr/bin/env bash
# The official Tune the Model client, tune-the-model 0.1.33, in its own virtualenv at
# .ci/.clients/tune-the-model/ (idempotent: an install with the same pins is kept).
# Every dependency is pinned too, so the contract test runs the same code on every machine.
# setuptools is pinned below 81 because the client imports pkg_resources (tune_the_model/__init__.py:1),
# which newer setuptools no longer ships and Python 3.12+ virtualenvs no longer include.
set -euo pipefail
cd "$(dirname "$0")/../.."

DIR=.ci/.clients/tune-the-model
PINS=(
  tune-the-model==0.1.33
  setuptools==80.9.0
  requests==2.34.2 urllib3==2.8.0 certifi==2026.10.19.post1 charset-normalizer==3.5.3 idna==3.20
  pandas==3.1.1 numpy==2.4.6 python-dateutil==4.0.0 tzdata==2026.6
  scikit-learn==1.9.1 scipy==1.17.1 joblib==1.6.0 threadpoolctl==3.8.0 narwhals==2.29.0 cloudpickle==3.1.3
)
STAMP="$DIR/.pins"
if [ -x "$DIR/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "${PINS[*]}" ]; then
  echo "tune-the-model 0.1.33: already installed in $DIR"
  exit 0
fi
rm -rf "$DIR"
python3 -m venv "$DIR"
"$DIR/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}"
printf '%s' "${PINS[*]}" > "$STAMP"
"$DIR/bin/python" -c 'import importlib.metadata as m; print("tune-the-model", m.version("tune-the-model"), "installed in '"$DIR"'")'
