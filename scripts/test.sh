#!/usr/bin/env bash
# Runs every test of every package against the real engines of this machine (README command 2).
# Makes sure the engines and test images are there first (quick when they are).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
bash scripts/setup.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Two packages at a time: real-VM and real-engine tests share the machine's 2 cores.
set +e
pnpm exec turbo run test --concurrency=2 --output-logs=full --log-order=grouped "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
node scripts/test-summary.mjs "$log"
exit "$status"
