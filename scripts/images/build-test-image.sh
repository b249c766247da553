#!/usr/bin/env bash
# Builds the local test image `vms-test/busybox` (no registry is reachable in CI):
# a busybox-static rootfs (busybox + one symlink per applet, /etc/passwd with root and nobody,
# /etc/group, /tmp), tarred deterministically, and imported into docker and podman as
# `vms-test/busybox:<content-hash>` and `:latest`. The import is skipped when the hash tag exists.
#
# Env: VMS_TEST_IMAGE_ENGINES (default "docker podman": each one present is served),
#      VMS_BUSYBOX (default: busybox on PATH, then /bin/busybox), VMS_TEST_IMAGE_CACHE (tar dir).
set -euo pipefail

repo_image=vms-test/busybox
engines="${VMS_TEST_IMAGE_ENGINES:-docker podman}"
cache="${VMS_TEST_IMAGE_CACHE:-/var/cache/vms-test-image}"
busybox="${VMS_BUSYBOX:-}"
if [ -z "$busybox" ]; then
  for candidate in /bin/busybox /usr/bin/busybox "$(command -v busybox || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then busybox="$candidate"; break; fi
  done
fi
if [ -z "$busybox" ]; then
  echo "[image] busybox not found: apt-get install -y busybox-static" >&2
  exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
  echo "[image] $busybox is dynamically linked; the image needs busybox-static" >&2
  exit 1
fi

t0=0
step() { t0=$(date +%s%N); printf '[image] %s ...\n' "$*"; }
done_step() { printf '[image]   %s (%d ms)\n' "$*" $(( ($(date +%s%N) - t0) / 1000000 )); }

# 1. Rootfs + deterministic tar -------------------------------------------------------------------
step "building the rootfs tar from $busybox"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,proc,sys,dev,var/tmp,home}
cp "$busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
# One absolute symlink per applet (what `busybox --install -s` makes), created from the applet list
# so nothing runs chrooted.
"$busybox" --list-full | LC_ALL=C sort | while read -r applet; do
  [ "$applet" = bin/busybox ] && continue
  mkdir -p "$root/$(dirname "$applet")"
  ln -sf /bin/busybox "$root/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 0700 "$root/root"
tarball="$work/rootfs.tar"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
  -C "$root" -cf "$tarball" .
hash="$(sha256sum "$tarball" | cut -c1-16)"
mkdir -p "$cache"
cp "$tarball" "$cache/busybox-$hash.tar"
done_step "rootfs tar $(du -k "$tarball" | cut -f1) KiB, content hash $hash, cached at $cache/busybox-$hash.tar"

changes=(--change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["/bin/sh"]')

# 2. Imports -----------------------------------------------------------------------------------
for engine in $engines; do
  if ! command -v "$engine" >/dev/null 2>&1; then
    echo "[image] $engine not installed: skipped"
    continue
  fi
  step "$engine: $repo_image:$hash"
  if "$engine" image inspect "$repo_image:$hash" >/dev/null 2>&1; then
    "$engine" tag "$repo_image:$hash" "$repo_image:latest"
    done_step "$engine: already present (cached by content), :latest points at it"
    continue
  fi
  if [ "$engine" = podman ]; then quiet=(-q); else quiet=(); fi
  "$engine" import "${quiet[@]}" "${changes[@]}" "$tarball" "$repo_image:$hash" >/dev/null
  "$engine" tag "$repo_image:$hash" "$repo_image:latest"
  done_step "$engine: imported as $repo_image:$hash and :latest"
done
