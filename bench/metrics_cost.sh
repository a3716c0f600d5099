#!/usr/bin/env bash
# bench/metrics_cost.sh — predict throughput and server CPU per request with metrics on vs
# off (VIGIA_METRICS_ENABLED), alternating A/B rounds on one release binary, so machine noise
# hits both sides alike. Prints one line per (round, metrics, body).
#
# usage: bench/metrics_cost.sh            env: ROUNDS=3 DUR=8 CONNS=32 PORT=18391 SKIP_BUILD=0
# needs: wrk, curl, python3; bodies from bench/make_bodies.py (1 and 64 listings).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}; DUR=${DUR:-8}; CONNS=${CONNS:-32}; PORT=${PORT:-18391}
BIN=$ROOT/.build/release/vigia
[ "${SKIP_BUILD:-0}" = 1 ] || (cd "$ROOT" && swift build -c release --product vigia >&2) || exit 1
RUN=$(mktemp -d /tmp/vigia-metrics-cost.XXXXXX)
VERSION=$(ls "$ROOT/models/prohibited-items" | grep -E '^[0-9]+$' | sort -n | tail -1)
mkdir -p "$RUN/storage/prohibited-items"
cp -r "$ROOT/models/prohibited-items/$VERSION" "$RUN/storage/prohibited-items/"
python3 "$ROOT/bench/make_bodies.py" "$ROOT/data/listings.csv" "$RUN/bodies" 64 >&2 || exit 1
URL=http://127.0.0.1:$PORT/v1/models/prohibited-items:predict
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$RUN"' EXIT
for round in $(seq "$ROUNDS"); do
  for metrics in true false; do
    env VIGIA_METRICS_ENABLED=$metrics VIGIA_LOGGING_ACCESS_LOG=false VIGIA_SERVER_DRAIN_GRACE_SECONDS=0 \
      "$BIN" serve --host 127.0.0.1 --port "$PORT" --storage "$RUN/storage" 2>"$RUN/serve.log" &
    PID=$!
    for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/health/ready" && break; sleep 0.1; done
    for body in single batch; do
      wrk -t1 -c"$CONNS" -d2s -s "$ROOT/bench/post.lua" "$URL" -- "$RUN/bodies/$body.json" >/dev/null
      cpu0=$(awk '{print $14+$15}' "/proc/$PID/stat")
      result=$(timeout $((DUR + 30)) wrk -t1 -c"$CONNS" -d"${DUR}s" -s "$ROOT/bench/post.lua" "$URL" -- "$RUN/bodies/$body.json" | grep RESULT)
      cpu1=$(awk '{print $14+$15}' "/proc/$PID/stat")
      reqs=$(echo "$result" | sed 's/.*reqs=\([0-9]*\).*/\1/')
      ticks=$(getconf CLK_TCK)
      echo "round=$round metrics=$metrics body=$body ${result#RESULT } server_cpu_us_per_req=$(python3 -c "print(round(($cpu1-$cpu0)*1e6/$ticks/max($reqs,1),1))")"
    done
    kill -TERM "$PID"; wait "$PID"; PID=
  done
done
