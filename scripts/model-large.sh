#!/usr/bin/env bash
# Generate the OFA-large-shaped random-weight benchmark model (never committed).
#   scripts/model-large.sh [--force] [--fp16] [--int8] [--split] [--webgpu] [--out DIR]
# Default DIR: ${OFA_CACHE_DIR:-$HOME/.cache/ofa-entail}/models/ofa-large-random (with --split: …-random-split, the
# image-encoder + text/fusion form of models/README.md §1.1a, which the policy-list benchmark uses).
# Needs Debian python3-torch, python3-onnx, libopenblas0-pthread (models/README.md). About 6 min on
# 2 cores, ~1.9 GB on disk, ~8 GB RAM at peak. Skips the export when DIR already holds a manifest.
# --int8 adds model.int8.onnx (models/export/quantize.py, ~1 min, ~0.7 GB), also to an existing DIR.
# --webgpu also writes the webgpu graph form (models/README.md §1.1b; doubles the export's time and size): the CPU
# benchmark needs only the cpu form, and the GPU check (scripts/gpu-check.sh) exports its own.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${OFA_CACHE_DIR:-$HOME/.cache/ofa-entail}/models/ofa-large-random"
force=0
out_given=0
int8=0
providers=cpu
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --fp16) extra+=(--fp16) ;;
    --split) extra+=(--split); [ "$out_given" = 1 ] || out="${out}-split" ;;
    --int8) int8=1; extra+=(--int8) ;;
    --webgpu) providers=cpu,webgpu ;;
    --out) out="$2"; out_given=1; shift ;;
    *) echo "model-large: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
py=/usr/bin/python3
if ! "$py" -c 'import torch, onnx' 2>/dev/null; then
  echo "model-large: $py cannot import torch/onnx; apt-get install -y python3-torch python3-onnx libopenblas0-pthread" >&2
  exit 3
fi
if [ "$force" = 0 ] && [ -f "$out/manifest.json" ]; then
  if [ "$int8" = 1 ] && ! grep -q '"int8": "' "$out/manifest.json"; then
    OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}" "$py" "$here/models/export/quantize.py" --model-dir "$out"
    echo "$out"
    exit 0
  fi
  echo "model-large: $out already complete (manifest.json present); use --force to rebuild"
  echo "$out"
  exit 0
fi
mkdir -p "$out"
# OpenBLAS ignores torch.set_num_threads; cap it explicitly (docs/platform-notes.md §5).
OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}" "$py" "$here/models/export/export.py" \
  --config large --seed 0 --providers "$providers" --out "$out" "${extra[@]}"
echo "$out"
