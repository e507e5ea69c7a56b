#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing: nats-server (the broker), Debian's torch, onnx,
# pillow and OpenBLAS (the parity suite's reference pipeline; without OpenBLAS torch matmuls are ~45x slower),
# chromium (the load report is opened in a real headless browser), prometheus (promtool and a real Prometheus
# check the alert rules and scrape the service), Go with Debian's nats.go (examples/go, the second-language client
# built offline in GOPATH mode), and the Vulkan loader with Mesa's lavapipe driver (a Vulkan device on the CPU, so the
# WebGPU execution provider is tested without a GPU) plus vulkaninfo. Dawn refuses Debian 12's own Mesa 22.3
# ("shaderUniform*ArrayDynamicIndexing required"); bookworm-backports' 25.x works, so on Debian 12 the backports suite
# is added to apt's sources first. Needs root; prints the command otherwise.
set -euo pipefail
need=()
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
/usr/bin/python3 -c 'import torch, onnx, PIL, numpy' >/dev/null 2>&1 || need+=(python3-torch python3-onnx python3-pil python3-numpy)
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || need+=(libopenblas0-pthread)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v go >/dev/null 2>&1 || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/nats-io/nats.go ] || need+=(golang-github-nats-io-go-nats-dev)
vulkan=()
lavapipe_ok() { ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 && dpkg --compare-versions "$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo 0)" ge 23; }
{ dpkg -s libvulkan1 >/dev/null 2>&1 && lavapipe_ok; } || vulkan+=(libvulkan1 mesa-vulkan-drivers)
command -v vulkaninfo >/dev/null 2>&1 || need+=(vulkan-tools)
[ ${#need[@]} -eq 0 ] && [ ${#vulkan[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]} ${vulkan[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
backports=()
if [ ${#vulkan[@]} -gt 0 ] && grep -qs '^VERSION_CODENAME=bookworm' /etc/os-release; then
  src=/etc/apt/sources.list.d/ofa-entail-backports.sources
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    mirror="$(sed -n 's/^URIs: *\(.*debian\)\/* *$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)"
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "${mirror:-http://deb.debian.org/debian}" > "$src"
  fi
  backports=(-t bookworm-backports)
fi
apt-get update -qq
[ ${#need[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
[ ${#vulkan[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${backports[@]}" "${vulkan[@]}" >/dev/null
