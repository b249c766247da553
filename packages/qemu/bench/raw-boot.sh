#!/usr/bin/env bash
# Raw baseline: launch QEMU with the given argv, then poll `ssh true` until it works.
# Usage: raw-boot.sh SSH_PORT KEY -- QEMU_ARGV...   Prints the milliseconds to the first success.
set -eu
port=$1 key=$2
shift 3
start=$(date +%s%N)
"$@"
until ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
  -o LogLevel=ERROR -o ConnectTimeout=1 -i "$key" -p "$port" root@127.0.0.1 true 2>/dev/null; do
  sleep 0.05
done
echo $((($(date +%s%N) - start) / 1000000))
