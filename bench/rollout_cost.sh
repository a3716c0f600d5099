#!/usr/bin/env bash
# bench/rollout_cost.sh — what live monitoring costs predict: req/s with a shadow version on vs
# off, and with input-skew counting on vs off, for 1 and 32 listings per request, in
# alternating rounds on one release binary (machine noise hits every variant alike). Prints one
# line per (round, variant, body), then the median req/s per (variant, body) and the ratios
# shadow/off and skew/off.
#
# Variants (same serving version, same binary):
#   off     no rollout, monitoring.input_skew false (nothing goes to the monitor)
#   shadow  rollout.json {"shadow": {"version": 2}} (a copy of the serving version), skew false
#   skew    no rollout, monitoring.input_skew true (the default)
#
# usage: bench/rollout_cost.sh        env: ROUNDS=5 DUR=8 CONNS=32 PORT=18392 SKIP_BUILD=0
# needs: wrk, curl, python3; bodies from bench/make_bodies.py.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-5}; DUR=${DUR:-8}; CONNS=${CONNS:-32}; PORT=${PORT:-18392}
BIN=$ROOT/.build/release/vigia
[ "${SKIP_BUILD:-0}" = 1 ] || (cd "$ROOT" && swift build -c release --product vigia >&2) || exit 1
RUN=$(mktemp -d /tmp/vigia-rollout-cost.XXXXXX)
VERSION=$(ls "$ROOT/models/prohibited-items" | grep -E '^[0-9]+$' | sort -n | tail -1)
# off/skew: version 1 alone; shadow: version 1, its copy as version 2, and rollout.json.
for storage in plain shadow; do
  mkdir -p "$RUN/$storage/prohibited-items"
  cp -r "$ROOT/models/prohibited-items/$VERSION" "$RUN/$storage/prohibited-items/1"
  python3 - "$RUN/$storage/prohibited-items/1/model.json" 1 <<'PY'
import json, sys
path, version = sys.argv[1], int(sys.argv[2])
manifest = json.load(open(path, encoding="utf-8"))
manifest["version"] = version
json.dump(manifest, open(path, "w", encoding="utf-8"), ensure_ascii=False)
PY
done
echo '{"shadow": {"version": 2}}' > "$RUN/shadow/prohibited-items/rollout.json"
cp -r "$RUN/shadow/prohibited-items/1" "$RUN/shadow/prohibited-items/.2"
python3 - "$RUN/shadow/prohibited-items/.2/model.json" <<'PY'
import json, sys
manifest = json.load(open(sys.argv[1], encoding="utf-8"))
manifest["version"] = 2
json.dump(manifest, open(sys.argv[1], "w", encoding="utf-8"), ensure_ascii=False)
PY
mv "$RUN/shadow/prohibited-items/.2" "$RUN/shadow/prohibited-items/2"
python3 "$ROOT/bench/make_bodies.py" "$ROOT/data/listings.csv" "$RUN/bodies" 32 >&2 || exit 1
URL=http://127.0.0.1:$PORT/v1/models/prohibited-items:predict
STATUS=http://127.0.0.1:$PORT/v1/models/prohibited-items
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$RUN"' EXIT
: > "$RUN/results"
for round in $(seq "$ROUNDS"); do
  for variant in off shadow skew; do
    case $variant in
      off) storage=plain skew=false ;;
      shadow) storage=shadow skew=false ;;
      skew) storage=plain skew=true ;;
    esac
    env VIGIA_MONITORING_INPUT_SKEW=$skew VIGIA_LOGGING_ACCESS_LOG=false VIGIA_SERVER_DRAIN_GRACE_SECONDS=0 \
      "$BIN" serve --host 127.0.0.1 --port "$PORT" --storage "$RUN/$storage" 2>"$RUN/serve.log" &
    PID=$!
    for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/health/ready" && break; sleep 0.1; done
    for body in single batch; do
      wrk -t1 -c"$CONNS" -d2s -s "$ROOT/bench/post.lua" "$URL" -- "$RUN/bodies/$body.json" >/dev/null
      result=$(timeout $((DUR + 30)) wrk -t1 -c"$CONNS" -d"${DUR}s" -s "$ROOT/bench/post.lua" "$URL" -- "$RUN/bodies/$body.json" | grep RESULT)
      listings=$([ "$body" = single ] && echo 1 || echo 32)
      # What the monitor did meanwhile: listings the shadow compared, and skipped (queue full).
      monitor=$(curl -s "$STATUS" | python3 -c '
import json, sys
d = json.load(sys.stdin); r = d.get("rollout") or {}; s = d.get("input_skew") or {}
print("shadow_compared=%s skipped=%s skew_listings=%s" % ((r.get("shadow_comparison") or {}).get("listings", 0),
      r.get("skipped_listings", 0), s.get("listings", 0)))')
      line="round=$round variant=$variant listings=$listings ${result#RESULT } $monitor"
      echo "$line"; echo "$line" >> "$RUN/results"
    done
    kill -TERM "$PID"; wait "$PID"; PID=
  done
done
python3 - "$RUN/results" <<'PY'
import re, statistics, sys
rows = [dict(re.findall(r"(\w+)=(\S+)", line)) for line in open(sys.argv[1])]
median = {}
for variant in ("off", "shadow", "skew"):
    for listings in ("1", "32"):
        values = [float(r["rps"]) for r in rows if r["variant"] == variant and r["listings"] == listings]
        median[variant, listings] = statistics.median(values)
print("\n| listings | off req/s | shadow req/s | shadow/off | skew req/s | skew/off |")
print("|---|---|---|---|---|---|")
for listings in ("1", "32"):
    off = median["off", listings]
    print(f"| {listings} | {off:.0f} | {median['shadow', listings]:.0f} | {median['shadow', listings] / off:.3f} "
          f"| {median['skew', listings]:.0f} | {median['skew', listings] / off:.3f} |")
PY
