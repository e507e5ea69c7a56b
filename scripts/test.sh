#!/usr/bin/env bash
# The whole test suite: type check, file-size and layer rules, unused code (knip), then every node:test file against real nats-server
# processes and real onnxruntime sessions, on Node 24 (native type stripping). Used by `npm test` and by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
bash scripts/prereqs.sh
source scripts/node24.sh
# The WebGPU tests run on the host's Vulkan device (lavapipe here); libwayland wants a runtime dir.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
# The GPU check's archive (test/infra/gpu-bundle.test.ts) takes about a minute of xz: build it at low priority while
# the first tests run, and stop the build with the suite.
OFA_GPU_BUNDLE_DIR="$(mktemp -d)"
export OFA_GPU_BUNDLE_DIR
setsid bash -c 'nice -n 19 bash scripts/gpu-bundle.sh "$1" > "$1/log" 2>&1; echo $? > "$1/status.partial"; mv "$1/status.partial" "$1/status"' _ "$OFA_GPU_BUNDLE_DIR" &
bundle_pid=$!
trap 'kill -TERM -- "-$bundle_pid" 2>/dev/null; rm -rf "$OFA_GPU_BUNDLE_DIR"' EXIT
npx tsc --noEmit -p .
node scripts/check-size.mjs
node scripts/check-layers.mjs
# Unused files, exports, types and dependencies (knip.json names the entry points): none may creep in.
npx knip --no-progress
files=(test/unit/*.test.ts test/docs/*.test.ts test/security/*.test.ts test/integration/*.test.ts test/fault/*.test.ts test/parity/*.test.ts test/loadgen/*.test.ts test/infra/*.test.ts)
# One file at a time: the fault tests time redeliveries and drains, and the machines have 2 cores.
node --test --test-concurrency=1 --test-timeout=300000 "${files[@]}"
