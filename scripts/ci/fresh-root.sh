#!/usr/bin/env bash
# A fresh Debian 12 machine inside this one, for CI: nothing installed by hand on the host can
# hide a missing install step or a version mismatch (the host's docker CLI, say).
#
#   fresh-root.sh create ROOT     debootstrap minbase (+ what a new machine of ours has: git,
#                                 python3, make, g++, …), this host's Node and npm copied in, the
#                                 host's extra CA certificates trusted
#   fresh-root.sh run ROOT CMD…   runs CMD (bash -lc) as root inside, cwd /root, clean environment
#   fresh-root.sh destroy ROOT    ends every process inside and removes ROOT
#
# The root lives in namespaces of its own, held by one process (its PID 1): mount (entered with
# pivot_root, not chroot: under a plain chroot a dockerd started inside gives its containers the
# host's root filesystem), PID (killing the holder ends everything inside, daemons included) and
# network (a dockerd inside gets its own bridge and iptables and cannot clash with one on the
# host; the root reaches the registries through a veth pair and NAT).
#
# Caches, all keyed by content, under $VMS_CI_CACHE (default /var/cache/vms-ci):
#   rootfs-<hash of the inputs>.tar   the finished debootstrap (inputs: suite, mirror, packages)
#   apt/                              .deb archives (apt checks each against the signed index)
#   vms-test/                         the project's own content-addressed caches (test guest,
#                                     Node versions), mounted at /var/cache/vms-test
#   pnpm-store/                       pnpm's content-addressed store
set -euo pipefail

CACHE=${VMS_CI_CACHE:-/var/cache/vms-ci}
SUITE=bookworm
# What a new machine of our kind has besides Debian's minbase (see the README's first lines).
INCLUDE=git,ca-certificates,python3,make,g++,xz-utils,procps,iproute2,curl

say() { printf '[fresh-root] %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, namespaces)"

host_tools() {
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v unshare >/dev/null || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing on the host: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

mirror() {
  local m
  m=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  [ -n "$m" ] || m=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
  echo "${m:-http://deb.debian.org/debian}"
}

create() {
  local root=$1 key tarball tmp
  host_tools
  [ ! -e "$root" ] || die "$root exists; destroy it first"
  key=$(printf '%s\n' "$SUITE" "$(mirror)" "$INCLUDE" "$(dpkg-query -W -f='${Version}' debootstrap)" | sha256sum | cut -c1-16)
  tarball=$CACHE/rootfs-$key.tar
  mkdir -p "$CACHE"
  if [ ! -f "$tarball" ]; then
    say "debootstrap $SUITE minbase (cached afterwards as $tarball)"
    tmp=$(mktemp -d "$CACHE/.rootfs.XXXXXX")
    chmod 0755 "$tmp"
    if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$tmp" "$(mirror)" >"$tmp.log" 2>&1; then
      tail -n 20 "$tmp.log" >&2
      rm -rf "$tmp" "$tmp.log"
      die "debootstrap failed"
    fi
    rm -f "$tmp.log" "$tmp"/var/cache/apt/archives/*.deb
    tar -C "$tmp" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$tmp"
    # Older roots of other inputs.
    find "$CACHE" -maxdepth 1 -name 'rootfs-*.tar' ! -name "rootfs-$key.tar" -delete
  fi
  mkdir -p "$root"
  tar -C "$root" -xf "$tarball"
  # / of a real machine is 0755 (the debootstrap dir was mktemp's 0700: nobody could reach anything).
  chmod 0755 "$root"
  # Debian's sources as the host has them (its mirror), no stale sources.list.
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
    rm -f "$root/etc/apt/sources.list"
  fi
  # This host's Node and npm, nothing else of it.
  local node npm_dir
  node=$(command -v node) || die "no node on the host"
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  cp -L "$node" "$root/usr/bin/node"
  mkdir -p "$root/usr/lib/node_modules"
  cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
  [ ! -f /root/.npmrc ] || cp /root/.npmrc "$root/root/.npmrc"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  # The machine trusts extra CA certificates (registries are reached through them); so does the root.
  if [ -d /usr/local/share/ca-certificates ]; then
    cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
  fi
  chroot "$root" update-ca-certificates >/dev/null 2>&1
  echo "$SUITE minbase $key" >"$root/.fresh-root"
  say "created $root ($(du -sh "$root" | cut -f1))"
}

holder_file() { echo "$1.holder"; }
holder_pid() {
  local f
  f=$(holder_file "$1")
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

# A /30 for the veth pair, from the holder's pid (two roots at once get different ones).
subnet_of() { local n=$(($1 % 16000)); echo "10.$((200 + n / 4000)).$(((n % 4000) / 16)).$(((n % 16) * 16))"; }

start_holder() {
  local root=$1 pid tries=0
  [ -f "$root/.fresh-root" ] || die "$root is not a fresh root (create it first)"
  mkdir -p "$CACHE/apt" "$CACHE/vms-test" "$CACHE/pnpm-store"
  rm -f "$root/.holder.ready"
  # PID 1 of the new PID namespace: sets up the mounts, pivots into the root, then reaps orphans
  # (bash reaps every child it is given) until it is killed.
  setsid unshare --mount --propagation private --pid --net --fork bash -c '
    set -e; R=$1; C=$2
    mount --bind "$R" "$R"
    mount -t proc proc "$R/proc"
    mount --rbind /sys "$R/sys"
    mount --rbind /dev "$R/dev"
    mount -t tmpfs -o mode=755 tmpfs "$R/run"
    mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
    mkdir -p "$R/var/cache/apt/archives" "$R/var/cache/vms-test" "$R/root/.local/share/pnpm/store"
    mount --bind "$C/apt" "$R/var/cache/apt/archives"
    mount --bind "$C/vms-test" "$R/var/cache/vms-test"
    mount --bind "$C/pnpm-store" "$R/root/.local/share/pnpm/store"
    mkdir -p "$R/.old-root"
    cd "$R" && pivot_root . .old-root && cd /
    umount -l /.old-root && rmdir /.old-root
    ip link set lo up
    touch /.holder.ready
    trap : CHLD
    while :; do sleep 3600 & wait $! || true; done' _ "$root" "$CACHE" </dev/null >/dev/null 2>&1 &
  local unshare_pid=$!
  until [ -f "$root/.holder.ready" ]; do
    tries=$((tries + 1))
    [ $tries -lt 100 ] || die "the namespace holder did not come up"
    sleep 0.1
  done
  pid=$(pgrep -P "$unshare_pid" | head -1)
  [ -n "$pid" ] || die "cannot find the namespace holder"
  echo "$pid" >"$(holder_file "$root")"
  # Network: a veth pair to the host, NAT out (only to reach Debian's and npm's registries).
  local net host_ip ns_ip
  net=$(subnet_of "$pid")
  host_ip=${net%.*}.$((${net##*.} + 1))
  ns_ip=${net%.*}.$((${net##*.} + 2))
  ip link add "vmsci$pid" type veth peer name eth0 netns "$pid"
  ip addr add "$host_ip/30" dev "vmsci$pid"
  ip link set "vmsci$pid" up
  nsenter --target "$pid" --net ip addr add "$ns_ip/30" dev eth0
  nsenter --target "$pid" --net ip link set eth0 up
  nsenter --target "$pid" --net ip route add default via "$host_ip"
  sysctl -qw net.ipv4.ip_forward=1
  iptables -t nat -A POSTROUTING -s "$net/30" -j MASQUERADE
  iptables -I FORWARD -s "$net/30" -j ACCEPT
  iptables -I FORWARD -d "$net/30" -j ACCEPT
  echo "$net" >"$root.net"
}

run_in() {
  local root=$1 pid
  shift
  pid=$(holder_pid "$root") || { start_holder "$root"; pid=$(holder_pid "$root"); }
  # --wd without a value: the holder's working directory, the root's own / (nsenter applies a
  # given path before entering the root, which leaves the shell in an unreachable directory).
  nsenter --target "$pid" --mount --pid --net --root --wd /usr/bin/env -i HOME=/root \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb CI=true LANG=C.UTF-8 \
    TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    GIT_SSL_CAINFO=/etc/ssl/certs/ca-certificates.crt bash -lc "cd /root; $*"
}

destroy() {
  local root=$1 pid net
  if pid=$(holder_pid "$root"); then
    # PID 1 of the namespace: the kernel ends every process inside with it.
    kill -9 "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if [ -f "$root.net" ]; then
    net=$(cat "$root.net")
    iptables -t nat -D POSTROUTING -s "$net/30" -j MASQUERADE 2>/dev/null || true
    iptables -D FORWARD -s "$net/30" -j ACCEPT 2>/dev/null || true
    iptables -D FORWARD -d "$net/30" -j ACCEPT 2>/dev/null || true
  fi
  rm -f "$(holder_file "$root")" "$root.net"
  # Nothing is mounted on the host side (the mounts lived in the namespace), so this is plain files.
  [ ! -e "$root" ] || rm -rf --one-file-system "$root"
}

cmd=${1:-}; root=${2:-}
[ -n "$cmd" ] && [ -n "$root" ] || die "usage: fresh-root.sh create|run|destroy ROOT [CMD…]"
shift 2
case $cmd in
  create) create "$root" ;;
  run) run_in "$root" "$@" ;;
  destroy) destroy "$root" ;;
  *) die "unknown command $cmd" ;;
esac
