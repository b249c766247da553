#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (root, Node >= 20.19 preinstalled) for @vms: pnpm, the
# workspace's packages, a build, and the engines the backends drive (docker/podman engines and
# the test image; QEMU and its test guest; Debian's chromium for the @vms/ui browser tests).
# Idempotent: a second run takes seconds.
#   VMS_SETUP_SKIP="qemu containers browser"  skips parts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 CI="${CI:-}"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
t0=$(date +%s)

need_node() {
  local v
  v=$(node -p 'process.versions.node' 2>/dev/null || echo 0)
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)' ||
    { echo "[setup] Node >= 20.19 is required (found $v)" >&2; exit 1; }
}
need_node

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "12.21.0" ]; then
  say "installing pnpm 12.21.0"
  npm install -g --silent pnpm@12.21.0 >/dev/null
fi

say "installing workspace packages"
pnpm install --frozen-lockfile --reporter=silent

for part in containers qemu browser; do
  case " ${VMS_SETUP_SKIP:-} " in *" $part "*) say "skipping $part"; continue ;; esac
  if [ -f "scripts/ci/$part.sh" ]; then
    say "preparing $part"
    bash "scripts/ci/$part.sh"
  fi
done

say "building"
pnpm exec turbo run build --output-logs=errors-only
say "ready in $(( $(date +%s) - t0 )) s"
