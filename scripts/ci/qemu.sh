#!/usr/bin/env bash
# CI setup for @vms/qemu: installs QEMU and the guest-build tools when missing, then builds the
# test guest, cached by content in ${VMS_TEST_CACHE:-/var/cache/vms-test}/guest-<hash>/, and points
# the fixed symlink ${VMS_TEST_CACHE:-/var/cache/vms-test}/guest at it (what the tests read by
# default; VMS_TEST_GUEST overrides it). A second run with the cache present takes seconds.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GUEST_SRC=$REPO/scripts/guest
CACHE=${VMS_TEST_CACHE:-/var/cache/vms-test}
ms() { date +%s%3N; }
T0=$(ms)
step_start=$T0
secs() { printf '%d.%02d' $(($1 / 1000)) $((($1 % 1000) / 10)); }
step() {
  local now
  now=$(ms)
  [ -z "${STEP:-}" ] || printf '[ci/qemu] %-28s %ss\n' "$STEP" "$(secs $((now - step_start)))"
  STEP=$1
  step_start=$now
  [ "$1" = done ] || printf '[ci/qemu] %s ...\n' "$1"
}

step "check tools"
declare -A NEED=(
  [qemu-system-x86_64]=qemu-system-x86 [qemu-img]=qemu-utils [ssh]=openssh-client
  [ssh-keygen]=openssh-client [scp]=openssh-client [mkfs.ext4]=e2fsprogs [genisoimage]=genisoimage
  [cpio]=cpio [xz]=xz-utils [gzip]=gzip
)
missing=()
for tool in "${!NEED[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${NEED[$tool]}")
done
lists_ok=true
policy=$(apt-cache policy linux-image-amd64 2>/dev/null || true)
[[ $policy == *"Candidate: "[0-9]* ]] || lists_ok=false
if [ ${#missing[@]} -gt 0 ] || [ "$lists_ok" = false ]; then
  step "apt-get update"
  apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
  step "apt-get install ${pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

guest_hash() {
  local inputs
  inputs=$(
    cd "$GUEST_SRC"
    find . -type f ! -name README.md | LC_ALL=C sort | xargs sha256sum
    "$GUEST_SRC/build-guest.sh" --print-inputs
  )
  printf '%s\n' "$inputs" | sha256sum | cut -c1-16
}
build() {
  local tmp=$CACHE/.guest-$hash.tmp.$$
  rm -rf "$tmp"
  if DEB_CACHE=$CACHE/debs "$GUEST_SRC/build-guest.sh" "$tmp"; then
    rm -rf "$dir"
    mv "$tmp" "$dir"
  else
    rm -rf "$tmp"
    return 1
  fi
}

step "hash guest inputs"
hash=$(guest_hash)
dir=$CACHE/guest-$hash
mkdir -p "$CACHE"

if [ -f "$dir/manifest.json" ]; then
  step "guest cached at $dir"
else
  step "build guest into $dir"
  if ! build; then
    # Stale package lists name versions the mirror no longer has: refresh once and retry.
    step "apt-get update (retry)"
    apt-get update -qq
    hash=$(guest_hash)
    dir=$CACHE/guest-$hash
    step "build guest into $dir"
    build
  fi
fi

step "link $CACHE/guest"
ln -sfn "guest-$hash" "$CACHE/.guest.new.$$"
mv -T "$CACHE/.guest.new.$$" "$CACHE/guest"
# Old builds and .debs no longer used by the current inputs.
find "$CACHE" -maxdepth 1 -name 'guest-*' ! -name "guest-$hash" -exec rm -rf {} +
step done
printf '[ci/qemu] total %ss; guest: %s -> %s\n' "$(secs $(($(ms) - T0)))" "$CACHE/guest" "$dir"
