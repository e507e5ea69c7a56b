#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing: nats-server (the broker), Debian's torch, onnx,
# pillow and OpenBLAS (the parity suite's reference pipeline; without OpenBLAS torch matmuls are ~45x slower),
# chromium (the load report is opened in a real headless browser), prometheus (promtool and a real Prometheus
# check the alert rules and scrape the service), and Go with Debian's nats.go (examples/go, the second-language client
# built offline in GOPATH mode). Needs root; prints the command otherwise.
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
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
