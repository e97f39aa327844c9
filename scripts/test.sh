#!/usr/bin/env bash
# Sets everything up, then runs the linters and the whole test suite (slow tests included,
# in their bounded form).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
bash scripts/setup.sh
"$PY" -m ruff check .
"$PY" -m ruff format --check .
"$PY" -m pytest -q "$@"
