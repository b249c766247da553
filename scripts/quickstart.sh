#!/usr/bin/env bash
# README command 1: sets everything up on a fresh Debian machine, then runs a real lifecycle
# end to end on the best available backend, printing each transition and its time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# The demo's default image (alpine) is pulled from Docker Hub; a fresh machine here may have no
# public registry, so the demo runs on the local test image setup.sh built (--image overrides it).
exec node packages/cli/dist/bin.cjs demo --image vms-test/busybox:latest "$@"
