#!/usr/bin/env bash
# bench/cost.sh — deterministic cost per call of the predict handler path and the model:
# instructions (counted by callgrind) and heap allocations (counted by cost-bench's own
# malloc), once warm, against the committed baseline bench/cost-baseline.json.
#
#   bench/cost.sh            check: fail (exit 1) when a count grew more than 10 % over the baseline
#   bench/cost.sh update     measure and write the baseline (then commit it, on purpose)
#   bench/cost.sh measure    measure and print, compare with nothing
#
# No timings: the same binary, inputs and environment give the same counts whatever else the
# machine runs. Installs valgrind and binutils with apt-get when missing (root or sudo).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

MODE=${1:-check}
BASELINE=${COST_BASELINE:-bench/cost-baseline.json}
TOLERANCE=${COST_TOLERANCE:-0.10}   # a count may grow by this fraction of its baseline
WARMUP=${COST_WARMUP:-50}           # calls per case before counting (caches, lazy state)
ITERATIONS=${COST_ITERATIONS:-100}  # calls counted per case
BATCH=32                            # listings in the batch body (the baseline's case name says it)
SKIP_BUILD=${SKIP_BUILD:-0}         # 1: use the existing .build/release/cost-bench
RUN=$(mktemp -d /tmp/vigia-cost.XXXXXX)   # a fixed-length name: argv's length shapes the heap
PERCENT=$(awk -v t="$TOLERANCE" 'BEGIN { printf "%g %%", t * 100 }')

log() { echo "[cost] $*" >&2; }
die() { log "error: $*"; exit 2; }

case "$MODE" in
  check | update | measure) ;;
  *) die "usage: bench/cost.sh [check|update|measure]" ;;
esac

need=()
command -v valgrind >/dev/null || need+=(valgrind)
command -v objcopy >/dev/null || need+=(binutils)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]} with apt-get"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 \
    || die "apt-get install ${need[*]} failed"
fi

if [ "$SKIP_BUILD" != 1 ]; then
  log "swift build -c release --product cost-bench"
  swift build -c release --product cost-bench >&2 || die "release build failed"
fi
BIN=$(swift build -c release --show-bin-path)/cost-bench
[ -x "$BIN" ] || die "$BIN not built"

python3 bench/make_bodies.py data/listings.csv "$RUN/bodies" "$BATCH" >/dev/null || die "make_bodies.py failed"
# valgrind 3.19 cannot read the DWARF 5 the Swift toolchain writes; the symbol table, which
# --toggle-collect needs, stays.
objcopy --strip-debug "$BIN" "$RUN/cost-bench"

# SWIFT_DETERMINISTIC_HASHING: Swift seeds Hashable per process otherwise, and dictionary
# probing would differ run to run. Collection is on only inside cost_probe_region; each exit
# from it writes one dump, which cost-bench reads back.
log "counting under callgrind (about 10 s); files in $RUN"
if ! SWIFT_DETERMINISTIC_HASHING=1 valgrind --tool=callgrind --callgrind-out-file="$RUN/callgrind.out" \
    --collect-atstart=no --toggle-collect=cost_probe_region --dump-after=cost_probe_region \
    "$RUN/cost-bench" measure --storage models --bodies "$RUN/bodies" \
    --warmup "$WARMUP" --iterations "$ITERATIONS" --callgrind-dumps "$RUN" --output "$RUN/current.json" \
    >"$RUN/measure.md" 2>"$RUN/valgrind.log"; then
  grep -v '^==[0-9]*==' "$RUN/valgrind.log" >&2 || true
  die "measuring failed (valgrind's log: $RUN/valgrind.log)"
fi
cat "$RUN/measure.md"

case "$MODE" in
  measure) ;;
  update)
    cp "$RUN/current.json" "$BASELINE"
    log "wrote $BASELINE: review the diff and commit it (git diff $BASELINE)"
    ;;
  check)
    [ -f "$BASELINE" ] || die "no baseline at $BASELINE (bench/cost.sh update writes one)"
    echo
    if "$RUN/cost-bench" compare "$BASELINE" "$RUN/current.json" --tolerance "$TOLERANCE"; then
      log "all counts within +$PERCENT of $BASELINE"
    else
      log "COST CHECK FAILED: a count grew more than $PERCENT over $BASELINE, or the cases differ (table above)."
      log "If the change is intended, update the baseline in its own commit:"
      log "  bench/cost.sh update && git commit -m 'cost baseline: <why>' $BASELINE"
      exit 1
    fi
    ;;
esac
