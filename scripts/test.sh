#!/usr/bin/env bash
# The whole test suite: type check, file-size and layer rules, then every node:test file against real nats-server
# processes and real onnxruntime sessions, on Node 24 (native type stripping). Used by `npm test` and by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
bash scripts/prereqs.sh
source scripts/node24.sh
npx tsc --noEmit -p .
node scripts/check-size.mjs
node scripts/check-layers.mjs
files=(test/unit/*.test.ts test/docs/*.test.ts test/security/*.test.ts test/integration/*.test.ts test/fault/*.test.ts test/parity/*.test.ts test/loadgen/*.test.ts test/infra/*.test.ts)
# One file at a time: the fault tests time redeliveries and drains, and the machines have 2 cores.
exec node --test --test-concurrency=1 --test-timeout=300000 "${files[@]}"
