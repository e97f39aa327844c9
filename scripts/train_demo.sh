#!/usr/bin/env bash
# Retrains the demo networks on a CPU with ganinv itself and ships them in registry/assets/:
# the StyleGAN2 (configs/demo/gan.yaml), then every demo encoder at one step budget.
#   bash scripts/train_demo.sh gan          # train (or resume) the generator, then ship it
#   bash scripts/train_demo.sh encoders     # train every encoder on the shipped generator
#   bash scripts/train_demo.sh encoders psp padinv   # only these (in this order)
# Each encoder config holds the step budget its shipped weights were trained with; STEPS overrides it.
# Encoders ship their final weights in float16 (scripts/ship_encoder.py); the cards are rewritten.
# THREADS sets torch's threads per run (two chains of encoders with THREADS=1 each use 2 cores best).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
ASSETS=registry/assets
ENCODERS=(w_encoder psp padinv padinv_residual padinv_residual_nownorm e4e sdic idinvert latentmap latentmap_masked feature_style hfgi restyle_psp restyle_e4e sfe_inverter sfe hyperstyle)
# (sdic trains on the shipped e4e: train e4e first)
# (sfe: phase 1 sfe_inverter, shipped, then phase 2 sfe on it and the shipped e4e)
# (hyperstyle trains on the shipped e4e)
declare -A CONFIG=(
  [w_encoder]=configs/baselines/demo_w_encoder.yaml
  [psp]=configs/baselines/demo_psp.yaml
  [padinv]=configs/padinv/demo_padinv.yaml
  [padinv_residual]=configs/padinv/demo_padinv_residual.yaml
  [padinv_residual_nownorm]=configs/padinv/demo_padinv_residual_nownorm.yaml
  [e4e]=configs/baselines/demo_e4e.yaml
  [sdic]=configs/sdic/demo_sdic.yaml
  [idinvert]=configs/idinvert/demo_idinvert.yaml
  [latentmap]=configs/latentmap/demo_latentmap.yaml
  [latentmap_masked]=configs/latentmap/demo_latentmap_masked.yaml
  [sfe_inverter]=configs/sfe/demo_sfe_inverter.yaml
  [sfe]=configs/sfe/demo_sfe.yaml
  [feature_style]=configs/featurestyle/demo_feature_style.yaml
  [hfgi]=configs/hfgi/demo_hfgi.yaml
  [restyle_psp]=configs/restyle/demo_restyle_psp.yaml
  [restyle_e4e]=configs/restyle/demo_restyle_e4e.yaml
  [hyperstyle]=configs/hyperstyle/demo_hyperstyle.yaml
)

ship() {  # ship RUN_FILE NAME: copy a trained generator into the registry assets
  cp "$1" "$ASSETS/$2.safetensors.tmp" && mv "$ASSETS/$2.safetensors.tmp" "$ASSETS/$2.safetensors"
  echo "shipped $ASSETS/$2.safetensors"
}

train_encoder() {  # train_encoder NAME (continues an interrupted run)
  local config="${CONFIG[$1]:-}" args=("out=runs/demo-$1")
  [ -n "$config" ] || { echo "unknown demo encoder '$1'; choose from: ${ENCODERS[*]}" >&2; exit 2; }
  # overrides before --resume: argparse refuses a key=value after the flag
  [ -n "${STEPS:-}" ] && args+=("steps=$STEPS")
  [ -f "runs/demo-$1/config.yaml" ] && args+=(--resume)  # a run, even one without a checkpoint yet
  if [ -n "${THREADS:-}" ]; then export OMP_NUM_THREADS="$THREADS"; fi
  "$PY" -m ganinv train "$config" "${args[@]}"
  # The final weights, not the best validation ones: validation reads test images, which must not
  # pick the networks that the demo bench then scores on the test split.
  "$PY" scripts/ship_encoder.py "runs/demo-$1/encoder_latest.safetensors" "$ASSETS/demo_$1.safetensors"
}

case "${1:-}" in
  gan)
    "$PY" -m ganinv train-gan configs/demo/gan.yaml --resume "${@:2}"
    ship runs/demo-gan/network-snapshot.safetensors demo_fmnist32_stylegan2
    "$PY" scripts/demo_cards.py
    ;;
  encoders)
    names=("${@:2}")
    [ ${#names[@]} -gt 0 ] || names=("${ENCODERS[@]}")
    for name in "${names[@]}"; do train_encoder "$name"; done
    "$PY" scripts/demo_cards.py  # the registry cards follow the shipped files
    ;;
  *)
    echo "usage: bash scripts/train_demo.sh gan|encoders" >&2
    exit 2
    ;;
esac
