#!/usr/bin/env bash
# bench/predict.sh — POST /v1/models/<model>:predict under wrk, with an nginx static-body
# row in the same run for scale, a low-concurrency run for latency, and (SWAP=1) a run
# during which new model versions are published every second.
#
# usage: bench/predict.sh [results.md]     (markdown to stdout, and to the file if given)
# env:   WARM=3s DUR=10s CONNS=32 HALF_CONNS=4 THREADS=1 BATCH=64
#        BODY_FIELDS=<all> (comma-separated subset of listing fields)
#        MODEL=prohibited-items  MODELS_SRC=<repo>/models (copied, never modified)
#        SWAP=0 (1: add the hot-swap run)  SWAP_DUR=30s  SWAP_EVERY=1 (seconds)
#        SKIP_BUILD=0 VIGIA_BIN=<repo>/.build/release/vigia
#        VIGIA_CMD='<VIGIA_BIN> serve --host 127.0.0.1 --port @PORT@ --storage @STORAGE@'
#        PORT_NGINX=18180 PORT_VIGIA=18190 READY_TIMEOUT=60 BENCH_RUN=<log dir>
# The server gets a private storage directory (a copy of the newest version of
# $MODELS_SRC/$MODEL) so the swap run can publish and delete versions freely.
set -u
source "$(dirname "$0")/lib.sh"
OUTFILE=${1:-}
MODEL=${MODEL:-prohibited-items}
MODELS_SRC=${MODELS_SRC:-$ROOT/models}
BATCH=${BATCH:-64}
HALF_CONNS=${HALF_CONNS:-4}
SWAP=${SWAP:-0}
SWAP_DUR=${SWAP_DUR:-30s}
SWAP_EVERY=${SWAP_EVERY:-1}
VIGIA_CMD=${VIGIA_CMD:-"$VIGIA_BIN serve --host 127.0.0.1 --port @PORT@ --storage @STORAGE@"}
PREDICT_PATH="/v1/models/$MODEL:predict"

ensure_tools

# ---------- model storage: a private copy of the newest published version ----------
SRC_VERSION=$(ls "$MODELS_SRC/$MODEL" 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -1)
[ -n "$SRC_VERSION" ] || die "no published version under $MODELS_SRC/$MODEL (train one with \`vigia train\`, or set MODELS_SRC)"
STORAGE="$RUN/storage"
PRISTINE="$RUN/pristine-$MODEL-$SRC_VERSION"
mkdir -p "$STORAGE/$MODEL"
cp -r "$MODELS_SRC/$MODEL/$SRC_VERSION" "$PRISTINE"
cp -r "$PRISTINE" "$STORAGE/$MODEL/.publish-$SRC_VERSION"
mv "$STORAGE/$MODEL/.publish-$SRC_VERSION" "$STORAGE/$MODEL/$SRC_VERSION"
log "storage $STORAGE: $MODEL version $SRC_VERSION (from $MODELS_SRC/$MODEL/$SRC_VERSION)"

# ---------- bodies ----------
python3 "$BENCH_DIR/make_bodies.py" "$ROOT/data/listings.csv" "$RUN/bodies" "$BATCH" >&2 \
  || die "make_bodies.py failed"
SINGLE="$RUN/bodies/single.json"
MULTI="$RUN/bodies/batch.json"

build_vigia

# ---------- nginx row (same single-listing body, static answer) ----------
start_nginx
run_wrk nginx "POST 1 listing (static \"ok\")" "http://127.0.0.1:$PORT_NGINX$PREDICT_PATH" "$SINGLE" "$CONNS"
NGINX_RPS=$RPS
stop_nginx

# ---------- vigia ----------
start_vigia "$VIGIA_CMD"
wait_http "http://127.0.0.1:$PORT_VIGIA/health/ready" "$VIGIA_PID" || server_failed "GET /health/ready"
BASE="http://127.0.0.1:$PORT_VIGIA"

check_response() {  # body-file n -> one note: status, shape check, first bytes
  local body=$1 n=$2 out
  out=$(curl -s --max-time 10 -o "$RUN/resp-$n.json" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' --data-binary @"$body" "$BASE$PREDICT_PATH")
  python3 - "$RUN/resp-$n.json" "$body" "$out" <<'PY'
import json, sys
path, body, status = sys.argv[1], sys.argv[2], sys.argv[3]
raw = open(path, "rb").read()
sent = [i.get("id") for i in json.load(open(body, encoding="utf-8"))["instances"]]
problem = ""
try:
    doc = json.loads(raw)
    preds = doc.get("predictions")
    if status != "200":
        problem = f"status {status}"
    elif not isinstance(preds, list) or len(preds) != len(sent):
        problem = f"expected {len(sent)} predictions, got {None if preds is None else len(preds)}"
    elif any(sent) and [p.get("id") for p in preds] != sent:
        problem = "prediction ids do not match the instance ids in order"
    elif not all(isinstance(p.get("score"), (int, float)) and "label" in p for p in preds):
        problem = "a prediction lacks a numeric score or a label"
except ValueError as e:
    problem = f"status {status}, body is not JSON ({e})"
verdict = "ok" if not problem else "CONTRACT CHECK FAILED: " + problem
snippet = raw[:240].decode("utf-8", "replace").replace("|", "\\|")
print(f"{len(sent)}-listing response {verdict}: `{snippet}`")
PY
}
NOTES+=("$(check_response "$SINGLE" 1)")
NOTES+=("$(check_response "$MULTI" "$BATCH")")

run_wrk vigia "POST 1 listing" "$BASE$PREDICT_PATH" "$SINGLE" "$CONNS"
VIGIA_RPS=$RPS
run_wrk vigia "POST $BATCH listings" "$BASE$PREDICT_PATH" "$MULTI" "$CONNS"
BATCH_RPS=$RPS
run_wrk vigia "POST 1 listing (low load)" "$BASE$PREDICT_PATH" "$SINGLE" "$HALF_CONNS"
HALF_P99=$P99

# ---------- hot swap: publish a new version every SWAP_EVERY s during the run ----------
publish_loop() {  # runs in the background until its deadline; one line per version to stdout
  local v=$SRC_VERSION deadline=$((SECONDS + $(dur_s "$SWAP_DUR"))) dir n
  while [ $SECONDS -lt $deadline ]; do
    sleep "$SWAP_EVERY"
    v=$((v + 1))
    dir="$STORAGE/$MODEL/.publish-$v"
    cp -r "$PRISTINE" "$dir"
    # Keep the manifest's own version equal to the directory name (if it records one).
    python3 - "$dir/model.json" "$v" <<'PY' || true
import json, sys
p, v = sys.argv[1], int(sys.argv[2])
try:
    m = json.load(open(p, encoding="utf-8"))
except (OSError, ValueError):
    sys.exit(0)
if isinstance(m, dict) and "version" in m:
    m["version"] = v
    json.dump(m, open(p, "w", encoding="utf-8"), ensure_ascii=False, indent=2)
PY
    mv "$dir" "$STORAGE/$MODEL/$v"            # the atomic publish
    for dir in "$STORAGE/$MODEL"/[0-9]*; do  # delete all but the newest two
      n=${dir##*/}
      if [ "$n" -lt $((v - 1)) ]; then
        mv "$dir" "$STORAGE/$MODEL/.delete-$n" && rm -rf "$STORAGE/$MODEL/.delete-$n"
      fi
    done
    echo "$v"
  done
}

if [ "$SWAP" = 1 ]; then
  publish_loop >"$RUN/published.txt" 2>"$RUN/publish.log" &
  PUB_PID=$!
  PIDS+=("$PUB_PID")
  SAVED_DUR=$DUR; DUR=$SWAP_DUR
  # No warm-up here: the rows above warmed the server, and every swap must fall inside
  # the measured run.
  NO_WARM=1 run_wrk vigia "POST 1 listing, new version every ${SWAP_EVERY}s" "$BASE$PREDICT_PATH" "$SINGLE" "$CONNS"
  DUR=$SAVED_DUR
  wait "$PUB_PID" 2>/dev/null; forget_pid "$PUB_PID"
  LAST=$(tail -1 "$RUN/published.txt")
  NOTES+=("swap run: published $(wc -l <"$RUN/published.txt") versions ($((SRC_VERSION + 1))..${LAST:-none}) during the ${SWAP_DUR} wrk run (no warm-up before it); versions on disk at the end: $(ls "$STORAGE/$MODEL" | tr '\n' ' ')")
  # Give the registry a moment to see the last version (inotify or rescan), then ask.
  deadline=$((SECONDS + 15)); served=""
  while [ $SECONDS -lt $deadline ]; do
    served=$(curl -s --max-time 2 -X POST -H 'Content-Type: application/json' --data-binary @"$SINGLE" \
      "$BASE$PREDICT_PATH" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("model_version"))' 2>/dev/null)
    [ "$served" = "$LAST" ] && break
    sleep 0.5
  done
  NOTES+=("after the swap run the predict route reports model_version=${served:-?} (last published: ${LAST:-none})")
  NOTES+=("GET /v1/models/$MODEL after the swap run: \`$(curl -s --max-time 2 "$BASE/v1/models/$MODEL" | head -c 300 | tr '\n|' ' /')\`")
fi
stop_vigia

{
  print_header "vigia predict vs nginx static"
  echo "- Ratio vigia 1-listing / nginx static req/s: **$(ratio "$VIGIA_RPS" "$NGINX_RPS")**"
  echo "- Listings/s at $BATCH per request: $(awk -v r="$BATCH_RPS" -v b="$BATCH" 'BEGIN { if (r != "") printf "%.0f", r * b; else printf "n/a" }')"
  echo "- p99 at -c$HALF_CONNS (low load, 1 listing): ${HALF_P99:-n/a} ms"
  echo
  echo "Bodies: \`bench/make_bodies.py\` from data/listings.csv ($(wc -c <"$SINGLE") B single, $(wc -c <"$MULTI") B for $BATCH). Model: $MODEL version $SRC_VERSION from $MODELS_SRC."
  echo
  print_notes
} | if [ -n "$OUTFILE" ]; then tee "$OUTFILE"; else cat; fi
