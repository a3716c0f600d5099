#!/usr/bin/env bash
# Runs .ci/run on fresh clones of main, N times, under one kind of stress, and prints one
# line per run (exit status, minutes) — the proof that the suite does not depend on a quiet
# machine:
#   hogs    two busy-looping processes beside the run, all along (2 cores: the run gets half)
#   pauses  every 5-40 s, the clone's test process (vigiaPackageTests.xctest) and its children
#           are stopped for 3 s (SIGSTOP, then SIGCONT): every clock the tests read jumps
# usage: scripts/ci-under-stress.sh hogs|pauses [N=5] [REPO=<this checkout>]
#   SCOPE=tests: one clone, built once without stress, then the README's test command's
#   `swift test` N times under the stress (the timing claims live in the tests; a run takes
#   minutes instead of the half hour .ci/run takes beside two hogs).
# Each run is bounded (60 min); stressors are stopped by PID when the run ends.
set -uo pipefail
kind=${1:?usage: $0 hogs|pauses [N] [REPO]}
runs=${2:-5}
repo=${3:-$(cd "$(dirname "$0")/.." && pwd)}
case "$kind" in hogs | pauses) ;; *) echo "unknown stress '$kind'" >&2; exit 2 ;; esac
work=$(mktemp -d /tmp/vigia-ci-stress.XXXXXX)
stressors=()
stop_stressors() {
  local pid
  for pid in "${stressors[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  stressors=()
  # Nothing is left stopped.
  pkill -CONT -f "$work/clone/.build/.*vigiaPackageTests.xctest" 2>/dev/null || true
}
trap 'stop_stressors' EXIT INT TERM

pauser() {
  while :; do
    sleep $((5 + RANDOM % 36))
    local pids
    # Only this clone's test process: other checkouts' tests on the machine are left alone.
    pids=$(pgrep -f "$work/clone/.build/.*vigiaPackageTests.xctest") || continue
    # The test process and every process it started (served vigia children included).
    local all=$pids p
    for p in $pids; do all="$all $(pgrep -P "$p" | tr '\n' ' ')"; done
    echo "$(date -u +%T) pausing $all" >>"$work/pauses.log"
    kill -STOP $all 2>/dev/null
    sleep 3
    kill -CONT $all 2>/dev/null
  done
}

scope=${SCOPE:-ci}
case "$scope" in ci | tests) ;; *) echo "unknown SCOPE '$scope' (ci or tests)" >&2; exit 2 ;; esac
if [ "$scope" = tests ]; then
  git clone -q "$repo" "$work/clone"
  (cd "$work/clone" && scripts/bootstrap.sh && swift build --build-tests) >"$work/build.log" 2>&1 \
    || { echo "build failed: $work/build.log" >&2; exit 1; }
fi
failed=0
for i in $(seq 1 "$runs"); do
  if [ "$scope" = ci ]; then
    rm -rf "$work/clone"
    git clone -q "$repo" "$work/clone"
  fi
  commit=$(git -C "$work/clone" rev-parse --short HEAD)
  if [ "$kind" = hogs ]; then
    for _ in 1 2; do (while :; do :; done) & stressors+=($!); done
  else
    pauser & stressors+=($!)
  fi
  start=$(date +%s)
  if [ "$scope" = ci ]; then
    (cd "$work/clone" && CI=true timeout 3600 bash .ci/run >"$work/run-$i.log" 2>&1)
  else
    (cd "$work/clone" && timeout 3600 swift test --skip-build >"$work/run-$i.log" 2>&1)
  fi
  rc=$?
  stop_stressors
  minutes=$(awk "BEGIN { printf \"%.1f\", ($(date +%s) - $start) / 60 }")
  tests=$(grep -o 'Test run with [0-9]* tests in [0-9]* suites [a-z]*' "$work/run-$i.log" | tail -1)
  echo "run $i ($kind, $scope, $commit): exit $rc in $minutes min; ${tests:-no test summary}; log $work/run-$i.log"
  [ "$rc" = 0 ] || failed=$((failed + 1))
done
[ "$kind" = pauses ] && echo "pauses: $(wc -l <"$work/pauses.log" 2>/dev/null || echo 0) (log $work/pauses.log)"
echo "$((runs - failed)) of $runs runs green under $kind"
[ "$failed" = 0 ]
