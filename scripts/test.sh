#!/usr/bin/env bash
# Runs every test of every package against the real engines of this machine (README command 2).
# Makes sure the engines and test images are there first (quick when they are).
#
#   pnpm test                         every package, on the machine's Node
#   pnpm test --node 22,24,26|all     then again on those Node versions (scripts/node.mjs installs
#                                     them from npm), for the packages in scripts/node-versions.json's
#                                     "matrix" list (or those the other arguments select); also
#                                     VMS_TEST_NODES=…
#   pnpm test --filter @vms/docker    any other argument goes to `turbo run test`
#
# Every package runs even when another fails. The closing lines name every failed package, file
# and test, and the result per Node version; the exit code is 0 only when all of it passed.
# Everything the tests create belongs to one test run (id, TMPDIR) swept however this ends.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

nodes=${VMS_TEST_NODES:-}
turbo_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --node) nodes=${2:?--node needs a list, e.g. 22,24,26 or all}; shift 2 ;;
    --node=*) nodes=${1#--node=}; shift ;;
    *) turbo_args+=("$1"); shift ;;
  esac
done
[ "$nodes" = all ] && nodes=$(node scripts/node.mjs majors)
nodes=${nodes//,/ }

bash scripts/setup.sh

eval "$(node scripts/test-run.mjs begin $$)"
export VMS_TEST_RUN TMPDIR
summaries=$TMPDIR/summaries
mkdir -p "$summaries"
finish() {
  trap - EXIT INT TERM
  node scripts/test-run.mjs end "$VMS_TEST_RUN" || true
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "[test] run $VMS_TEST_RUN (temp root $TMPDIR)"

# Packages `turbo run test ARGS` will test.
packages_of() {
  pnpm exec turbo run test --dry-run=json "$@" |
    node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(j.tasks.filter(t=>t.task==="test").map(t=>t.package).join(" "))'
}

n=0
# run_pass LABEL NODE_BIN_DIR TURBO_ARGS…: one run of the tests; its summary goes to $summaries.
run_pass() {
  local label=$1 bin=$2 t0
  shift 2
  t0=$(date +%s)
  n=$((n + 1))
  local pkgs
  pkgs=$(packages_of "$@")
  echo "[test] $label: $pkgs"
  rm -f packages/*/.cache/test-report.json
  # Two packages at a time: real-VM and real-engine tests share the machine's 2 cores.
  PATH="${bin:+$bin:}$PATH" pnpm exec turbo run test --continue --concurrency=2 \
    --output-logs=full --log-order=grouped "$@" \
    -- --reporter=default --reporter=json --outputFile.json=.cache/test-report.json || true
  # shellcheck disable=SC2086
  node scripts/test-summary.mjs collect "$label" "$summaries/$n.json" $pkgs
  echo "[test] $label took $(( $(date +%s) - t0 )) s"
}

run_pass "node $(node -p process.versions.node)" "" "${turbo_args[@]}"
if [ -n "$nodes" ]; then
  # The matrix's packages, unless the command line chose its own.
  filters=("${turbo_args[@]}")
  if [ ${#filters[@]} -eq 0 ]; then
    for pkg in $(node -p 'require("./scripts/node-versions.json").matrix.packages.join(" ")'); do
      filters+=("--filter=$pkg")
    done
  fi
  for major in $nodes; do
    bin=$(node scripts/node.mjs bin "$major")
    run_pass "node $("$bin/node" -p process.versions.node)" "$bin" "${filters[@]}"
  done
fi

node scripts/test-summary.mjs print "$summaries"/*.json
