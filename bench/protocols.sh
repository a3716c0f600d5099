#!/usr/bin/env bash
# bench/protocols.sh — the same listings scored through KServe V1 `:predict` and through
# Open Inference Protocol (V2) JSON `infer`, with 1 and BATCH listings, in one vigia
# process and one run; rows alternate V1, V2, ROUNDS times, so machine noise hits both
# alike; the ratios are of the median req/s of each row kind.
#
# usage: bench/protocols.sh [results.md]     (markdown to stdout, and to the file if given)
# env:   WARM=3s DUR=10s CONNS=32 THREADS=1 BATCH=32 ROUNDS=3 MODEL=prohibited-items
#        SKIP_BUILD=0 VIGIA_BIN=<repo>/.build/release/vigia PORT_VIGIA=18190
#        MODELS=<repo>/models (the storage served)
#        BODIES=DIR: single.json, batch.json (V1) and v2-single.json, v2-batch.json (V2) taken
#          as they are instead of made by bench/make_bodies.py (bench/peers.sh passes the
#          peers' own bodies, so V2 gets exactly what MLServer gets)
set -u
source "$(dirname "$0")/lib.sh"
OUTFILE=${1:-}
MODEL=${MODEL:-prohibited-items}
BATCH=${BATCH:-32}
ROUNDS=${ROUNDS:-3}
ensure_tools
MODELS=${MODELS:-$ROOT/models}
if [ -n "${BODIES:-}" ]; then
  mkdir -p "$RUN/bodies"
  for f in single batch v2-single v2-batch; do cp "$BODIES/$f.json" "$RUN/bodies/" || die "no $BODIES/$f.json"; done
  BODIES_FROM="$BODIES"
else
  python3 "$BENCH_DIR/make_bodies.py" "$ROOT/data/listings.csv" "$RUN/bodies" "$BATCH" >&2 || die "make_bodies.py failed"
  BODIES_FROM='`bench/make_bodies.py`'
fi
build_vigia
start_vigia "env VIGIA_MODELS_REQUIRED=$MODEL $VIGIA_BIN serve --host 127.0.0.1 --port @PORT@ --storage $MODELS"
wait_http "http://127.0.0.1:$PORT_VIGIA/health/ready" "$VIGIA_PID" || server_failed "GET /health/ready"
BASE="http://127.0.0.1:$PORT_VIGIA"
V1="$BASE/v1/models/$MODEL:predict"
V2="$BASE/v2/models/$MODEL/infer"

# Both protocols must give the same scores before they are timed.
for n in single batch; do
  curl -s --max-time 10 -H 'Content-Type: application/json' --data-binary @"$RUN/bodies/$n.json" "$V1" >"$RUN/v1-$n.out"
  curl -s --max-time 10 -H 'Content-Type: application/json' --data-binary @"$RUN/bodies/v2-$n.json" "$V2" >"$RUN/v2-$n.out"
  NOTES+=("$(python3 - "$RUN/v1-$n.out" "$RUN/v2-$n.out" "$n" <<'PY'
import json, sys
v1, v2 = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:3])
a = [p["score"] for p in v1.get("predictions", [])]
outputs = {o["name"]: o["data"] for o in v2.get("outputs", [])}
# `score`, or column 1 of `predict_proba` when the body asks for that (MLServer's name).
b = outputs.get("score") or (outputs["predict_proba"][1::2] if "predict_proba" in outputs else None)
shown = f"; V2 answered `{json.dumps(v2, separators=(',', ':'))[:300]}`" if sys.argv[3] == "single" else ""
print(f"{sys.argv[3]}: V1 and V2 scores " + ("agree" if a and a == b else f"DIFFER: {a[:3]} vs {(b or [])[:3]}") + f" ({len(a)} listings){shown}")
PY
)")
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
V1_ONE=(); V2_ONE=(); V1_MANY=(); V2_MANY=()
for round in $(seq 1 "$ROUNDS"); do
  run_wrk vigia "V1 predict, 1 listing (round $round)" "$V1" "$RUN/bodies/single.json" "$CONNS"; V1_ONE+=("$RPS")
  run_wrk vigia "V2 infer, 1 listing (round $round)" "$V2" "$RUN/bodies/v2-single.json" "$CONNS"; V2_ONE+=("$RPS")
  run_wrk vigia "V1 predict, $BATCH listings (round $round)" "$V1" "$RUN/bodies/batch.json" "$CONNS"; V1_MANY+=("$RPS")
  run_wrk vigia "V2 infer, $BATCH listings (round $round)" "$V2" "$RUN/bodies/v2-batch.json" "$CONNS"; V2_MANY+=("$RPS")
done
stop_vigia

{
  print_header "vigia: Open Inference Protocol (V2) infer vs KServe V1 predict"
  echo "- Median req/s over $ROUNDS rounds: V1 1 listing $(median "${V1_ONE[@]}"), V2 1 listing $(median "${V2_ONE[@]}"), V1 $BATCH listings $(median "${V1_MANY[@]}"), V2 $BATCH listings $(median "${V2_MANY[@]}")"
  echo "- V2 / V1 (medians), 1 listing: **$(ratio "$(median "${V2_ONE[@]}")" "$(median "${V1_ONE[@]}")")**"
  echo "- V2 / V1 (medians), $BATCH listings: **$(ratio "$(median "${V2_MANY[@]}")" "$(median "${V1_MANY[@]}")")**"
  echo
  echo "Bodies: $BODIES_FROM ($(wc -c <"$RUN/bodies/single.json") B V1 vs $(wc -c <"$RUN/bodies/v2-single.json") B V2 for 1 listing; $(wc -c <"$RUN/bodies/batch.json") B vs $(wc -c <"$RUN/bodies/v2-batch.json") B for $BATCH)."
  echo
  print_notes
} | if [ -n "$OUTFILE" ]; then tee "$OUTFILE"; else cat; fi
