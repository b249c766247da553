#!/usr/bin/env bash
# Makes a Debian 12 machine (root) ready for the @vms/ui browser tests: installs Debian's
# chromium (/usr/bin/chromium) when missing. Playwright's own browser downloads are never used
# (the tests drive this executable through playwright-core). Idempotent: quick when installed.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "[browser] must run as root (installs packages)" >&2
  exit 1
fi

t0=$(date +%s%N)
if [ -x /usr/bin/chromium ] && dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q 'install ok installed'; then
  printf '[browser] chromium already installed (%s)\n' "$(/usr/bin/chromium --version 2>/dev/null || echo '?')"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# fonts-dejavu-core: readable text in screenshots without pulling a desktop's font set.
apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
printf '[browser] installed %s (%d ms)\n' "$(/usr/bin/chromium --version 2>/dev/null || echo chromium)" \
  "$(( ($(date +%s%N) - t0) / 1000000 ))"
