#!/usr/bin/env bash
# Builds the @vms test guest from Debian packages, without mount, loop devices or chroot.
#
#   build-guest.sh OUTDIR            build every artifact into OUTDIR (see README.md)
#   build-guest.sh --print-inputs    print the exact package versions the build would use
#
# Env: DEB_CACHE (default OUTDIR/debs) keeps the downloaded .debs between builds.
# Host tools: apt-get, apt-cache, dpkg-deb, tar, cpio, gzip, xz, mkfs.ext4, qemu-img,
# ssh-keygen, genisoimage (or xorriso).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
export LC_ALL=C TZ=UTC

log() { printf '[guest %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1
}

PACKAGES=(busybox-static dropbear-bin libtomcrypt1 libtommath1 libgmp10 libc6 libcrypt1 zlib1g
  openssh-sftp-server isolinux syslinux-common syslinux-utils)

print_inputs() {
  local kpkg
  kpkg=$(kernel_package)
  [ -n "$kpkg" ] || die "cannot resolve the kernel package (run apt-get update)"
  apt-cache policy "${PACKAGES[@]}" "$kpkg" | awk '/^[^ ].*:$/ { p = substr($0, 1, length($0) - 1) } /^ *Candidate:/ { print p "=" $2 }'
}

if [ "${1:-}" = "--print-inputs" ]; then print_inputs; exit 0; fi
[ $# -eq 1 ] || die "usage: $0 OUTDIR | --print-inputs"

OUT=$(mkdir -p "$1" && cd "$1" && pwd)
DEBS=${DEB_CACHE:-$OUT/debs}
WORK=$OUT/.work
rm -rf "$WORK"
mkdir -p "$DEBS" "$WORK"
trap 'rm -rf "$WORK"' EXIT

# 1. Download (never install) the packages.
KPKG=$(kernel_package)
[ -n "$KPKG" ] || die "cannot resolve the kernel package (run apt-get update)"
KVER=${KPKG#linux-image-}
log "kernel $KVER; downloading packages into $DEBS"
(cd "$DEBS" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "${PACKAGES[@]}" "$KPKG" >/dev/null)
deb() { ls -1 "$DEBS"/"$1"_*.deb | sort -V | tail -n 1; }

# 2. Unpack the user-space packages into SYS, and only the needed parts of the kernel.
SYS=$WORK/sys
mkdir -p "$SYS"
log "unpacking"
for p in "${PACKAGES[@]}"; do dpkg-deb -x "$(deb "$p")" "$SYS"; done
KDIR=lib/modules/$KVER/kernel
mapfile -t MODS < <(grep -v '^#' "$HERE/modules.list" | grep .)
dpkg-deb --fsys-tarfile "$(deb "$KPKG")" |
  tar -x -C "$WORK" --wildcards "./boot/vmlinuz-$KVER" "${MODS[@]/#/./$KDIR/}"
LDSO=$SYS/lib64/ld-linux-x86-64.so.2
LIBPATH=$SYS/lib/x86_64-linux-gnu:$SYS/usr/lib/x86_64-linux-gnu
run_sys() { "$LDSO" --library-path "$LIBPATH" "$@"; }

# 3. The root tree (shared by the initramfs and the ext4 root disk).
ROOT=$WORK/root
log "root tree"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,usr/lib/openssh,etc/dropbear,dev,proc,sys,run,tmp,mnt,root/.ssh,var/log,lib/modules}
cp -a "$HERE/rootfs/." "$ROOT/"
cp "$SYS/bin/busybox" "$ROOT/bin/busybox"
"$ROOT/bin/busybox" --list-full | while read -r applet; do
  [ -e "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
done
cp "$SYS/usr/sbin/dropbear" "$ROOT/usr/sbin/dropbear"
cp "$SYS/usr/bin/dropbearkey" "$ROOT/usr/bin/dropbearkey"
cp "$SYS/usr/lib/openssh/sftp-server" "$ROOT/usr/lib/openssh/sftp-server"
ln -sf openssh/sftp-server "$ROOT/usr/lib/sftp-server"
# Shared libraries: the loader's own resolution of every dynamic binary.
mkdir -p "$ROOT/lib64" "$ROOT/lib/x86_64-linux-gnu"
cp "$LDSO" "$ROOT/lib64/"
for bin in usr/sbin/dropbear usr/bin/dropbearkey usr/lib/openssh/sftp-server; do
  run_sys --list "$SYS/$bin" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p' | while read -r lib; do
    cp -L "$lib" "$ROOT/lib/x86_64-linux-gnu/"
  done
done
# Modules, in load order, each checked against its depends=.
: >"$ROOT/etc/modules.order"
declare -A LOADED=()
for m in "${MODS[@]}"; do
  src=$WORK/$KDIR/$m
  [ -f "$src" ] || die "module $m is not in $KPKG"
  deps=$(grep -a -o 'depends=[^[:cntrl:]]*' "$src" | head -n 1 | sed 's/^depends=//')
  for d in ${deps//,/ }; do
    [ -n "${LOADED[${d//-/_}]:-}" ] || die "module $m needs $d: add it to modules.list before $m"
  done
  name=$(basename "$m" .ko)
  LOADED[${name//-/_}]=1
  mkdir -p "$ROOT/lib/modules/$(dirname "$m")"
  cp "$src" "$ROOT/lib/modules/$m"
  echo "$m" >>"$ROOT/etc/modules.order"
done
# Keys: a baked-in client key, a key delivered only by the seed, the dropbear host key.
KEYS=$WORK/keys
mkdir -p "$KEYS"
ssh-keygen -q -t ed25519 -N '' -C vms-test-guest -f "$KEYS/id_ed25519"
ssh-keygen -q -t ed25519 -N '' -C vms-test-seed -f "$KEYS/seed_ed25519"
run_sys "$SYS/usr/bin/dropbearkey" -t ed25519 -f "$ROOT/etc/dropbear/dropbear_ed25519_host_key" >/dev/null 2>&1
HOSTPUB=$(run_sys "$SYS/usr/bin/dropbearkey" -y -f "$ROOT/etc/dropbear/dropbear_ed25519_host_key" | grep '^ssh-')
echo "$HOSTPUB" >"$ROOT/etc/dropbear/dropbear_ed25519_host_key.pub"
cp "$KEYS/id_ed25519.pub" "$ROOT/root/.ssh/authorized_keys"
chmod 700 "$ROOT/root" "$ROOT/root/.ssh"
chmod 600 "$ROOT/root/.ssh/authorized_keys" "$ROOT/etc/dropbear/dropbear_ed25519_host_key" "$ROOT/etc/shadow"
find "$ROOT" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# 4. Kernel: the bzImage, and the uncompressed ELF cut out of it (boots via PVH, faster).
log "kernel images"
cp "$WORK/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
off=$(grep -obUaP '\xfd7zXZ\x00' "$WORK/vmlinuz" | head -n 1 | cut -d: -f1)
[ -n "$off" ] || die "no xz stream in vmlinuz"
tail -c "+$((off + 1))" "$WORK/vmlinuz" | xz -dcq >"$WORK/vmlinux" 2>/dev/null || true # trailing data
[ "$(head -c 4 "$WORK/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || die "vmlinux is not an ELF file"

# 5. initramfs (sorted, owned by root, no timestamps in gzip).
log "initrd"
(cd "$ROOT" && find . -mindepth 1 | sort | cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9 -n >"$WORK/initrd.gz"

# 6. ext4 root disk as qcow2 (the same tree; root=/dev/vda).
log "root disk"
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mkfs.ext4 -q -F -L rootfs -U 6b1d4e1c-0000-4000-8000-000000000001 \
  -E root_owner=0:0,hash_seed=6b1d4e1c-0000-4000-8000-000000000002 -d "$ROOT" "$WORK/rootfs.ext4" 64M >/dev/null
qemu-img convert -q -f raw -O qcow2 "$WORK/rootfs.ext4" "$WORK/base.qcow2"

# 7. ISOs: a NoCloud seed carrying only seed_ed25519, and a BIOS-bootable isolinux ISO.
mkiso() {
  if command -v genisoimage >/dev/null; then genisoimage -quiet "$@"
  else xorriso -as mkisofs -quiet "$@"; fi
}
log "isos"
mkdir -p "$WORK/seed"
printf 'instance-id: iid-testguest-01\nlocal-hostname: seeded-guest\n' >"$WORK/seed/meta-data"
printf '#cloud-config\nssh_authorized_keys:\n  - %s\n' "$(cat "$KEYS/seed_ed25519.pub")" >"$WORK/seed/user-data"
mkiso -o "$WORK/seed.iso" -V cidata -J -r "$WORK/seed/user-data" "$WORK/seed/meta-data"
ISO=$WORK/iso
mkdir -p "$ISO/isolinux" "$ISO/boot"
cp "$SYS/usr/lib/ISOLINUX/isolinux.bin" "$SYS/usr/lib/syslinux/modules/bios/ldlinux.c32" "$ISO/isolinux/"
cp "$WORK/vmlinuz" "$WORK/initrd.gz" "$ISO/boot/"
cat >"$ISO/isolinux/isolinux.cfg" <<'EOF'
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /boot/vmlinuz
  APPEND initrd=/boot/initrd.gz console=ttyS0 quiet panic=-1
EOF
mkiso -o "$WORK/boot.iso" -V TESTGUEST -l -J -R -c isolinux/boot.cat -b isolinux/isolinux.bin \
  -no-emul-boot -boot-load-size 4 -boot-info-table "$ISO"
run_sys "$SYS/usr/bin/isohybrid" --id 0x5e1f0001 "$WORK/boot.iso" 2>/dev/null ||
  log "warning: isohybrid failed; boot.iso boots as a CD-ROM only"

# 8. Publish.
cp "$WORK"/{vmlinuz,vmlinux,initrd.gz,base.qcow2,seed.iso,boot.iso} "$OUT/"
cp "$KEYS"/{id_ed25519,id_ed25519.pub,seed_ed25519,seed_ed25519.pub} "$OUT/"
chmod 600 "$OUT/id_ed25519" "$OUT/seed_ed25519"
chmod a-w "$OUT/base.qcow2"
# The same kernel, initrd and ISO under LinuxKit's output names (hard links, no extra space).
ln -f "$OUT/vmlinuz" "$OUT/testguest-kernel"
ln -f "$OUT/initrd.gz" "$OUT/testguest-initrd.img"
ln -f "$OUT/boot.iso" "$OUT/testguest.iso"
printf 'console=ttyS0 quiet panic=-1\n' >"$OUT/testguest-cmdline"
echo "$HOSTPUB" >"$OUT/host_ed25519.pub"
echo "testguest $HOSTPUB" >"$OUT/known_hosts"
cat >"$OUT/manifest.json" <<EOF
{
  "kernelVersion": "$KVER",
  "kernel": "vmlinux",
  "bzImage": "vmlinuz",
  "initrd": "initrd.gz",
  "cmdline": "console=ttyS0 quiet panic=-1",
  "rootDisk": "base.qcow2",
  "rootCmdline": "console=ttyS0 quiet panic=-1 root=/dev/vda",
  "seedIso": "seed.iso",
  "bootIso": "boot.iso",
  "sshUser": "root",
  "sshKey": "id_ed25519",
  "seedSshKey": "seed_ed25519",
  "seedHostname": "seeded-guest",
  "knownHostsAlias": "testguest",
  "readyMarker": "GUEST-READY",
  "linuxkit": {
    "kernel": "testguest-kernel",
    "initrd": "testguest-initrd.img",
    "cmdline": "testguest-cmdline",
    "iso": "testguest.iso"
  }
}
EOF
log "done: $(du -sh --exclude=debs --exclude=.work "$OUT" | cut -f1) in $OUT"
