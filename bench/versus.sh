#!/usr/bin/env bash
# bench/versus.sh — two vigia binaries (before and after a change) on the same model and
# bodies, one server at a time, in alternating rounds (odd rounds before first, even rounds
# after first), so that the machine's drift hits both alike. Per round and binary: a fresh
# `vigia serve`, a warm-up, one measured wrk run per body, the server's CPU per request
# from /proc. Reports the medians of req/s and of CPU per request, and after ÷ before.
#
# usage: BEFORE_BIN=/path/vigia-old AFTER_BIN=/path/vigia-new bench/versus.sh [results.md]
# env:   ROUNDS=6 WARM=2s DUR=5s CONNS=32 THREADS=1 BATCH=32 MODEL=prohibited-items
#        MODELS=<repo>/models (the storage served; bench/peers.sh's exported storage works too)
#        BODIES=DIR: single.json and batch.json taken as they are (e.g. the peers' json_1.json
#          and json_32.json copied under those names) instead of made by bench/make_bodies.py
#        PORT_VIGIA=18190
# Build the two binaries first (e.g. a `git worktree` at the old commit, `swift build -c
# release --product vigia` in each); this script builds nothing.
set -u
source "$(dirname "$0")/lib.sh"
OUTFILE=${1:-}
ROUNDS=${ROUNDS:-6}
WARM=${WARM:-2s}
DUR=${DUR:-5s}
BATCH=${BATCH:-32}
MODEL=${MODEL:-prohibited-items}
MODELS=${MODELS:-$ROOT/models}
[ -x "${BEFORE_BIN:-}" ] || die "set BEFORE_BIN to the binary before the change"
[ -x "${AFTER_BIN:-}" ] || die "set AFTER_BIN to the binary after it"
ensure_tools
if [ -n "${BODIES:-}" ]; then
  mkdir -p "$RUN/bodies"
  for f in single batch; do cp "$BODIES/$f.json" "$RUN/bodies/" || die "no $BODIES/$f.json"; done
  BODIES_FROM="$BODIES"
else
  python3 "$BENCH_DIR/make_bodies.py" "$ROOT/data/listings.csv" "$RUN/bodies" "$BATCH" >&2 || die "make_bodies.py failed"
  BODIES_FROM='`bench/make_bodies.py`'
fi
URL="http://127.0.0.1:$PORT_VIGIA/v1/models/$MODEL:predict"

declare -A RPS_OF CPU_OF
measure() {  # which(before|after) binary round
  local which=$1 bin=$2 round=$3 body
  start_vigia "env VIGIA_MODELS_REQUIRED=$MODEL $bin serve --host 127.0.0.1 --port @PORT@ --storage $MODELS"
  wait_http "http://127.0.0.1:$PORT_VIGIA/health/ready" "$VIGIA_PID" || server_failed "GET /health/ready"
  CPU_PID=$VIGIA_PID
  for body in single batch; do
    run_wrk "$which" "$body (round $round)" "$URL" "$RUN/bodies/$body.json" "$CONNS"
    RPS_OF[$which-$body]+="$RPS "
    CPU_OF[$which-$body]+="$CPU_US "
  done
  CPU_PID=""
  stop_vigia
}
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then
    measure before "$BEFORE_BIN" "$round"; measure after "$AFTER_BIN" "$round"
  else
    measure after "$AFTER_BIN" "$round"; measure before "$BEFORE_BIN" "$round"
  fi
done

{
  print_header "vigia before and after: $BEFORE_BIN vs $AFTER_BIN"
  listings() { [ "$1" = single ] && echo 1 || echo "$BATCH"; }
  for body in single batch; do
    # shellcheck disable=SC2086
    b=$(median ${RPS_OF[before-$body]}); a=$(median ${RPS_OF[after-$body]})
    # shellcheck disable=SC2086
    bc=$(median ${CPU_OF[before-$body]}); ac=$(median ${CPU_OF[after-$body]})
    echo "- $(listings $body) listing(s), medians over $ROUNDS rounds: req/s $b → $a (after ÷ before **$(ratio "$a" "$b")**); server CPU per request $bc → $ac µs ($(ratio "$ac" "$bc"))"
  done
  echo
  echo "Model: $MODEL from $MODELS. Bodies: $BODIES_FROM. Rounds alternate which binary runs first."
  echo
  print_notes
} | if [ -n "$OUTFILE" ]; then tee "$OUTFILE"; else cat; fi
