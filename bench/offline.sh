#!/usr/bin/env bash
# bench/offline.sh — `vigia predict` against scikit-learn reading, scoring and writing the same
# JSON Lines file (ROWS listings cycled from data/listings.csv) with the same model: a
# scikit-learn pipeline like the default model, exported with the exporter (parity-checked).
# Alternating rounds; medians of the rows/s each side reports (timed after loading the model,
# from the first byte read to the last written), and the whole process's wall and CPU time.
#
#   bench/offline.sh [results.md]      knobs: ROWS (100000), ROUNDS (3), SKIP_BUILD (0)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROWS=${ROWS:-100000}
ROUNDS=${ROUNDS:-3}
VIGIA=$ROOT/.build/release/vigia
log() { echo "[offline] $*" >&2; }

venv=$(scripts/sklearn-venv.sh)
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "swift build -c release --product vigia"
  swift build -c release --product vigia >&2
fi
WORK=$(mktemp -d /tmp/vigia-offline.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
log "fitting, exporting (parity-checked) and writing $ROWS listings to $WORK"
PYTHONPATH="$ROOT/python" VIGIA="$VIGIA" "$venv/bin/python" bench/offline.py prepare data/listings.csv "$WORK" "$ROWS"
MODEL=$(ls -d "$WORK"/storage/offline/* | sort -n | tail -1)
CORES=$(getconf _NPROCESSORS_ONLN)

# Whole process (startup, imports, model loading included): wall and CPU (user + sys) seconds.
TIMEFORMAT='%R %U %S'
declare -A rate whole cpu
for round in $(seq "$ROUNDS"); do
  for side in sklearn vigia-1 vigia-all; do
    case $side in
      sklearn) cmd=("$venv/bin/python" bench/offline.py sklearn "$WORK" "$WORK/out-$side.jsonl") ;;
      vigia-1) cmd=("$VIGIA" predict --model "$MODEL" --input "$WORK/listings.jsonl" --threads 1 --progress) ;;
      vigia-all) cmd=("$VIGIA" predict --model "$MODEL" --input "$WORK/listings.jsonl" --threads "$CORES" --progress) ;;
    esac
    out="$WORK/out-$side.jsonl"; [ "$side" = sklearn ] && out="$WORK/stdout"
    { time "${cmd[@]}" >"$out" 2>"$WORK/err" </dev/null; } 2>"$WORK/time"
    read -r w u s <"$WORK/time"
    if [ "$side" = sklearn ]; then
      line=$(grep '^sklearn:' "$WORK/stdout")
      r=$(awk -v l="$line" 'BEGIN { split(l, a, " "); printf "%d", a[2] / a[5] }')
    else
      line=$(grep '^predict: .* rows in ' "$WORK/err")
      r=$(echo "$line" | sed -E 's/.*, ([0-9]+) rows\/s.*/\1/')
    fi
    c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    rate[$side]+="$r "; whole[$side]+="$w "; cpu[$side]+="$c "
    log "round $round $side: $line (process: $w s wall, $c s CPU)"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# The same ids and labels, and scores within 1e-9, from both.
python3 - "$WORK/out-sklearn.jsonl" "$WORK/out-vigia-all.jsonl" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b), (len(a), len(b))
worst = max(abs(x["score"] - y["score"]) for x, y in zip(a, b))
assert all(x["id"] == y["id"] for x, y in zip(a, b))
print(f"[offline] {len(a)} rows, same ids in the same order, max |Δscore| sklearn vs vigia = {worst:.3e}", file=sys.stderr)
assert worst <= 1e-9
PY
sk=$(echo "${rate[sklearn]}" | median)
{
  echo "| $ROWS listings, $ROUNDS alternating rounds, $CORES cores | rows/s (median) | × scikit-learn | process wall s (median) | process CPU s (median) |"
  echo "|---|---:|---:|---:|---:|"
  for side in sklearn vigia-1 vigia-all; do
    r=$(echo "${rate[$side]}" | median); w=$(echo "${whole[$side]}" | median); c=$(echo "${cpu[$side]}" | median)
    echo "| $side | $r | $(awk -v a="$r" -v b="$sk" 'BEGIN { printf "%.1f", a / b }') | $w | $c |"
  done
} | if [ -n "${1:-}" ]; then tee -a "$1"; else cat; fi
