#!/usr/bin/env bash
# README command 1: sets everything up on a fresh Debian machine, then runs a real lifecycle
# end to end on the best available backend, printing each transition and its time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec node packages/cli/dist/bin.cjs demo "$@"
