#!/usr/bin/env bash
# Makes a Debian 12 machine (root) ready for the @vms/docker and @vms/podman tests:
#   - installs docker.io, podman, busybox-static and catatonit (podman --init) when missing, and
#     docker-registry + apache2-utils (htpasswd) for the pull tests' local registries,
#   - starts dockerd in the background when no engine answers,
#   - writes a containers.conf that makes `podman run` work here (runc, lowered ulimits),
#   - builds and imports the local test image vms-test/busybox (no registry is reachable).
# Idempotent and quick when everything is already in place. Prints each step and its duration.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# The containers.conf the podman tests use by default (they set CONTAINERS_CONF to it when unset).
: "${VMS_CONTAINERS_CONF:=/etc/containers/containers.conf.d/50-vms-ci.conf}"
: "${VMS_DOCKERD_LOG:=/var/log/vms-dockerd.log}"
: "${VMS_DOCKER_SOCKET:=/var/run/docker.sock}"

step_start=0
step() { step_start=$(date +%s%N); printf '[containers] %s ...\n' "$*"; }
done_step() {
  local ms=$(( ($(date +%s%N) - step_start) / 1000000 ))
  printf '[containers]   %s (%d ms)\n' "$*" "$ms"
}

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "[containers] must run as root (installs packages, starts dockerd)" >&2
    exit 1
  fi
}
need_root

# 1. Packages ------------------------------------------------------------------------------------
step "checking packages"
missing=()
for pkg in docker.io podman busybox-static catatonit docker-registry apache2-utils; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # Don't let the packages' postinst start services (dockerd, a registry on :5000) through an
  # init system that isn't here: a policy-rc.d that denies, only for this install.
  policy=/usr/sbin/policy-rc.d
  own_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -q --no-install-recommends "${missing[@]}" runc iptables uidmap >/dev/null
  if [ -n "$own_policy" ]; then rm -f "$policy"; trap - EXIT; fi
  done_step "installed ${missing[*]}"
else
  done_step "docker.io, podman, busybox-static, docker-registry, apache2-utils already installed"
fi

# 2. dockerd -------------------------------------------------------------------------------------
step "checking the docker engine"
docker_answers() { docker -H "unix://$VMS_DOCKER_SOCKET" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
if docker_answers; then
  done_step "dockerd already answers on $VMS_DOCKER_SOCKET"
else
  dockerd_bin="$(command -v dockerd || echo /usr/sbin/dockerd)"
  mkdir -p "$(dirname "$VMS_DOCKERD_LOG")"
  # A dockerd killed with the previous session leaves its pidfile; where PID 1 does not reap,
  # that PID may even live on as a zombie, which dockerd takes for a running daemon. Remove
  # pidfiles whose process is gone, a zombie, or not the daemon they name.
  for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    if [ -z "$pid" ] || [ -z "$state" ] || [ "$state" = Z ] || { [ "$comm" != dockerd ] && [ "$comm" != containerd ]; }; then
      rm -f "$pidfile"
      printf '[containers]   removed stale %s (pid %s)\n' "$pidfile" "${pid:-?}"
    fi
  done
  # setsid + nohup: dockerd outlives this script; its output goes to a log file.
  setsid nohup "$dockerd_bin" -H "unix://$VMS_DOCKER_SOCKET" >>"$VMS_DOCKERD_LOG" 2>&1 </dev/null &
  deadline=$(( $(date +%s) + 90 ))
  until docker_answers; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "[containers] dockerd did not answer within 90 s; last log lines:" >&2
      tail -n 30 "$VMS_DOCKERD_LOG" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
  done_step "started dockerd (log: $VMS_DOCKERD_LOG)"
fi

# 3. podman's containers.conf -------------------------------------------------------------------
step "writing $VMS_CONTAINERS_CONF"
mkdir -p "$(dirname "$VMS_CONTAINERS_CONF")"
conf_content='# Written by scripts/ci/containers.sh for the @vms tests.
# crun fails on hybrid cgroups (v1 controllers + a v2 unified mount); runc works.
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[containers]
# The default ulimits (nofile/nproc 1048576) exceed what this kernel allows a container.
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
'
if [ -f "$VMS_CONTAINERS_CONF" ] && [ "$(cat "$VMS_CONTAINERS_CONF")" = "$(printf '%s' "$conf_content")" ]; then
  done_step "unchanged"
else
  printf '%s' "$conf_content" >"$VMS_CONTAINERS_CONF"
  done_step "written"
fi
export CONTAINERS_CONF="$VMS_CONTAINERS_CONF"

# 4. Test image ---------------------------------------------------------------------------------
bash "$repo/scripts/images/build-test-image.sh"

echo "[containers] ready. podman tests use CONTAINERS_CONF=$VMS_CONTAINERS_CONF by default."
