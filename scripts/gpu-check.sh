#!/usr/bin/env bash
# The GPU check, one command on a GPU host (issue 22; bench/gpu/check.ts says what it measures):
#   scripts/gpu-check.sh [--dry-run] [--out FILE] [--model DIR] [--minutes N] [--window-s N]
# Inside the archive that scripts/gpu-bundle.sh builds, it runs on the Node, nats-server and Vulkan loader carried in
# runtime/ (a GPU host may have none of them); in a checkout, on the project's Node 24 and the system's packages.
# Needs a Python with torch for the export (OFA_PYTHON, else /usr/bin/python3 or python3 if it imports torch).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -x "$root/runtime/bin/node" ]; then
  export PATH="$root/runtime/bin:$PATH"
  # The carried Vulkan loader only where the host has none: a host's own loader knows its own driver layout.
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
    export LD_LIBRARY_PATH="$root/runtime/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
else
  # shellcheck source=scripts/node24.sh
  source "$root/scripts/node24.sh"
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
# A container started with NVIDIA_DRIVER_CAPABILITIES that leave out graphics has the driver's Vulkan library
# (libGLX_nvidia.so.0) but no ICD file naming it, so the loader sees no NVIDIA device: name it in one.
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
  glx="$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0 /{print $NF; exit}')"
  if [ -n "$glx" ]; then
    icd="$XDG_RUNTIME_DIR/nvidia_icd.json"
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$glx" > "$icd"
    export VK_DRIVER_FILES="$icd"
    echo "gpu-check: no NVIDIA Vulkan ICD file; wrote $icd for $glx" >&2
  fi
fi
if [ -z "${OFA_PYTHON:-}" ]; then
  for p in /usr/bin/python3 python3; do
    if "$p" -c 'import torch' >/dev/null 2>&1; then export OFA_PYTHON="$p"; break; fi
  done
fi
cd "$root"
exec node bench/gpu/check.ts "$@"
