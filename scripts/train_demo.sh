#!/usr/bin/env bash
# Retrains the demo networks on a CPU with ganinv itself and ships them in registry/assets/:
# the StyleGAN2 (configs/demo/gan.yaml), then every demo encoder at one step budget.
#   bash scripts/train_demo.sh gan          # train (or resume) the generator, then ship it
#   bash scripts/train_demo.sh encoders     # train every encoder on the shipped generator
# STEPS overrides the encoders' step budget (default 4000 at batch 16).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
ASSETS=registry/assets
STEPS="${STEPS:-4000}"

ship() {  # ship RUN_FILE NAME: copy a trained network into the registry assets
  cp "$1" "$ASSETS/$2.safetensors.tmp" && mv "$ASSETS/$2.safetensors.tmp" "$ASSETS/$2.safetensors"
  echo "shipped $ASSETS/$2.safetensors"
}

train_encoder() {  # train_encoder CONFIG NAME (continues an interrupted run)
  local resume=()
  [ -f "runs/demo-$2/checkpoints/latest.pt" ] && resume=(--resume)
  "$PY" -m ganinv train "$1" "steps=$STEPS" "checkpoint_every=500" "validation.every=500" \
    "out=runs/demo-$2" "${resume[@]}"
  ship "runs/demo-$2/encoder_best.safetensors" "demo_$2"
}

case "${1:-}" in
  gan)
    "$PY" -m ganinv train-gan configs/demo/gan.yaml --resume "${@:2}"
    ship runs/demo-gan/network-snapshot.safetensors demo_fmnist32_stylegan2
    ;;
  encoders)
    train_encoder configs/baselines/demo_w_encoder.yaml w_encoder
    train_encoder configs/baselines/demo_psp.yaml psp
    train_encoder configs/padinv/demo_padinv.yaml padinv
    train_encoder configs/baselines/demo_e4e.yaml e4e
    train_encoder configs/sdic/demo_sdic.yaml sdic          # on the shipped e4e
    train_encoder configs/idinvert/demo_idinvert.yaml idinvert
    train_encoder configs/latentmap/demo_latentmap.yaml latentmap
    ;;
  *)
    echo "usage: bash scripts/train_demo.sh gan|encoders" >&2
    exit 2
    ;;
esac
