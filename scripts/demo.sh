#!/usr/bin/env bash
# The main job: the demo benchmark on real data with the shipped demo networks, on a CPU.
# Prints the table and where the grids and the HTML report are.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" -m ganinv bench configs/demo/bench.yaml "$@"
