#!/usr/bin/env bash
# measure-resources.sh — the numbers behind the Deployment's resource requests/limits.
# Starts the release binary on loopback with as many event loops as the pod's CPU limit,
# then a short, bounded wrk run of POST :predict (BATCH listings per request), and reads from
# /proc/PID: RSS after start-up (model loaded), peak RSS (VmHWM) under load, and CPU time
# (utime+stime) spent during the run, i.e. the cores the process used.
#
# usage: deploy/measure-resources.sh     env: VIGIA_BIN (default .build/release/vigia),
#        STORAGE (default models), PORT (18380), EVENT_LOOPS (1), CONNS (16), DUR (15s),
#        BATCH (instances per request, default 1; 256 is predict.max_batch_size)
# Needs wrk (Debian package) and a trained model under $STORAGE.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${VIGIA_BIN:-$repo/.build/release/vigia}
storage=${STORAGE:-$repo/models}
port=${PORT:-18380}
loops=${EVENT_LOOPS:-1}
conns=${CONNS:-16}
dur=${DUR:-15s}
batch=${BATCH:-1}
[ -x "$bin" ] || { echo "no binary at $bin: swift build -c release --static-swift-stdlib --product vigia" >&2; exit 1; }
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null

tmp=$(mktemp -d)
"$bin" serve --config "$repo/config/vigia.json" --host 127.0.0.1 --port "$port" --storage "$storage" \
    --event-loops "$loops" --log-level warning 2>"$tmp/vigia.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT

deadline=$((SECONDS + 60))
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/ready")" = 200 ]; do
    [ $SECONDS -lt $deadline ] || { cat "$tmp/vigia.log" >&2; echo "not ready in 60s" >&2; exit 1; }
    sleep 0.2
done
kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)

rss_ready=$(kb VmRSS)
instance='{"id":"1","site_id":"MLB","title":"Pistola de cola quente 40w","category_id":"MLB1234","price_usd":12.5,"seller_age_days":900,"seller_sales":10,"seller_reputation":"gold"}'
{
    printf '{"instances":[%s' "$instance"
    for _ in $(seq 2 "$batch"); do printf ',%s' "$instance"; done
    printf ']}\n'
} >"$tmp/body.json"
cat >"$tmp/post.lua" <<'LUA'
local f = assert(io.open(os.getenv("BODY"), "rb")); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"; wrk.headers["Content-Type"] = "application/json"
function done(s, lat, req)
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f non2xx=%d errors=%d\n",
    s.requests / (s.duration / 1e6), lat:percentile(50) / 1000, lat:percentile(99) / 1000,
    s.errors.status, s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout))
end
LUA
ticks0=$(cpu_ticks); t0=$(date +%s.%N)
BODY=$tmp/body.json wrk -t1 -c"$conns" -d"$dur" --timeout 5s -s "$tmp/post.lua" \
    "http://127.0.0.1:$port/v1/models/prohibited-items:predict" >"$tmp/wrk.txt"
ticks1=$(cpu_ticks); t1=$(date +%s.%N)
rss_after=$(kb VmRSS); hwm=$(kb VmHWM); threads=$(kb Threads)
result=$(grep '^RESULT' "$tmp/wrk.txt")
cores=$(awk -v a="$ticks0" -v b="$ticks1" -v hz="$hz" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%.2f", (b - a) / hz / (t1 - t0) }')
echo "event_loops=$loops conns=$conns duration=$dur batch=$batch threads=$threads"
echo "rss_ready_kib=$rss_ready rss_after_load_kib=$rss_after peak_rss_kib=$hwm"
echo "cpu_cores_used_under_load=$cores  (utime+stime / wall, over the wrk run)"
echo "wrk: $result"
