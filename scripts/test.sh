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
npx tsc --noEmit -p .
node scripts/check-size.mjs
node scripts/check-layers.mjs
# Unused files, exports, types and dependencies (knip.json names the entry points): none may creep in.
npx knip --no-progress
# Two shards run side by side, each one file at a time. "timing" holds every test that starts the service and bounds
# how long something takes (the fault tests time redeliveries and drains): it runs at normal priority. "checks" holds
# what only compares results — the parity suite (torch), the GPU check's archive and dry run, the broker's permission
# checks, the static infra files — at a lower priority, so the timed tests keep the CPU they were written for. One
# shard after the other took 10.5 min on 2 cores; side by side, the suite stays under 8.
checks=(test/docs/*.test.ts test/parity/*.test.ts test/infra/gpu-bundle.test.ts test/infra/docker.test.ts test/infra/k8s.test.ts
  test/infra/systemd.test.ts test/infra/nats-config.test.ts test/infra/promtool.test.ts test/security/tls.test.ts
  test/security/nats-auth.test.ts test/security/least-privilege.test.ts test/security/caller-isolation.test.ts)
timing=()
for f in test/unit/*.test.ts test/security/*.test.ts test/integration/*.test.ts test/fault/*.test.ts test/loadgen/*.test.ts test/infra/*.test.ts; do
  [[ " ${checks[*]} " == *" $f "* ]] || timing+=("$f")
done
logs="$(mktemp -d)"
shard() { # name niceness files…: runs one shard, its output to $logs/name.log, its exit code to $logs/name.rc
  local name=$1 niceness=$2
  shift 2
  local rc=0
  nice -n "$niceness" node --test --test-concurrency=1 --test-timeout=300000 "$@" > "$logs/$name.log" 2>&1 || rc=$?
  echo "$rc" > "$logs/$name.rc"
}
shard checks 10 "${checks[@]}" &
checks_pid=$!
trap 'kill "$checks_pid" 2>/dev/null; pkill -P "$checks_pid" 2>/dev/null; true' EXIT
shard timing 0 "${timing[@]}"
wait "$checks_pid" || true
trap - EXIT
pass=0; fail=0; skipped=0; rc=0
for name in timing checks; do
  echo "=== shard $name ==="
  cat "$logs/$name.log"
  p="$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$logs/$name.log" | tail -n 1)"
  f="$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$logs/$name.log" | tail -n 1)"
  k="$(sed -n 's/^ℹ skipped \([0-9]*\)$/\1/p' "$logs/$name.log" | tail -n 1)"
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skipped=$((skipped + ${k:-0}))
  [ "$(cat "$logs/$name.rc")" = 0 ] || rc=1
done
rm -rf "$logs"
echo "${pass} passed, ${fail} failed, ${skipped} skipped"
exit "$rc"
