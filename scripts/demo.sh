#!/usr/bin/env bash
# The main job, on a CPU, with the demo networks shipped in registry/assets/:
# 1. the demo benchmark: every method on 256 Fashion-MNIST test images (table, grids, HTML report),
#    with the editability table (T-shirt -> pullover edits of 16 T-shirts), then PTI on 16 images;
# 2. editing with PadInv and pSp: blending, a one-pair custom edit, a learned class direction;
# 3. latent-map on clean and masked test images.
# Extra arguments go to `ganinv bench` (e.g. --resume, or key=value overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
stage() {  # stage TITLE COMMAND...: run one part and say how long it took
  local title="$1" start=$SECONDS
  shift
  echo "== $title"
  "$@"
  echo "== $title: $((SECONDS - start)) s"
  echo
}
stage "benchmark (configs/demo/bench.yaml)" "$PY" -m ganinv bench configs/demo/bench.yaml "$@"
stage "PTI on the first 16 images (configs/demo/bench_pti.yaml)" "$PY" -m ganinv bench configs/demo/bench_pti.yaml
stage "editing (scripts/demo_edit.py)" "$PY" scripts/demo_edit.py --out runs/demo-edit
stage "latent-map on clean and masked images (scripts/demo_latentmap.py)" \
  "$PY" scripts/demo_latentmap.py --out runs/demo-latentmap-eval
echo "== demo done in $SECONDS s"
