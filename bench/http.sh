#!/usr/bin/env bash
# bench/http.sh — HTTP-stack ceiling: vigia's GET /health/live against nginx's static
# `return 200`, same wrk load, same run, one server at a time, loopback only; and each
# server's own CPU time per request (/proc utime + stime over the measured run, divided by
# the requests wrk counted), for /health/live and a 1-listing predict.
# ROUNDS rounds (default 3) of nginx, vigia health, vigia predict, one after the other with both
# servers up: the figures are medians over the rounds, and the CPU ratio is the median of each
# round's own ratio (the CPU per request of both servers moves with the machine from minute to
# minute, by as much as the difference measured).
#
# usage: bench/http.sh [results.md]     (markdown to stdout, and to the file if given)
# env:   WARM=3s DUR=10s CONNS=32 THREADS=1 ROUNDS=3 PORT_NGINX=18180 PORT_VIGIA=18190
#        SKIP_BUILD=0 VIGIA_BIN=<repo>/.build/release/vigia
#        ACCESS_LOG=false  (vigia's access log, off like nginx's `access_log off`; true to measure its cost)
#        VIGIA_CMD='<VIGIA_BIN> serve --host 127.0.0.1 --port @PORT@'   (@PORT@ substituted)
#        READY_TIMEOUT=60 BENCH_RUN=<dir for logs, default a new /tmp/vigia-bench.*>
set -u
source "$(dirname "$0")/lib.sh"
OUTFILE=${1:-}
ACCESS_LOG=${ACCESS_LOG:-false}
VIGIA_CMD=${VIGIA_CMD:-"env VIGIA_LOGGING_ACCESS_LOG=$ACCESS_LOG $VIGIA_BIN serve --host 127.0.0.1 --port @PORT@ --storage $ROOT/models"}

ensure_tools
build_vigia

python3 "$BENCH_DIR/make_bodies.py" "$ROOT/data/listings.csv" "$RUN/bodies" 64 >&2 || die "make_bodies.py failed"

ROUNDS=${ROUNDS:-3}
start_nginx
start_vigia "$VIGIA_CMD"
NOTES+=("vigia access log: $ACCESS_LOG (nginx: access_log off)")
NOTES+=("vigia GET /health/live answered: $(curl -s -i --max-time 2 "http://127.0.0.1:$PORT_VIGIA/health/live" | head -1 | tr -d '\r')")
NGINX_RPS=(); NGINX_CPU=(); HEALTH_RPS=(); HEALTH_CPU=(); PREDICT_RPS=(); PREDICT_CPU=(); CPU_RATIO=(); RPS_RATIO=()
for round in $(seq 1 "$ROUNDS"); do
  CPU_PID=$NGINX_PID run_wrk nginx "GET / (static \"ok\"), round $round" "http://127.0.0.1:$PORT_NGINX/" "" "$CONNS"
  NGINX_RPS+=("$RPS"); NGINX_CPU+=("$CPU_US")
  CPU_PID=$VIGIA_PID run_wrk vigia "GET /health/live, round $round" "http://127.0.0.1:$PORT_VIGIA/health/live" "" "$CONNS"
  HEALTH_RPS+=("$RPS"); HEALTH_CPU+=("$CPU_US")
  CPU_RATIO+=("$(ratio "$CPU_US" "${NGINX_CPU[-1]}")"); RPS_RATIO+=("$(ratio "$RPS" "${NGINX_RPS[-1]}")")
  CPU_PID=$VIGIA_PID run_wrk vigia "POST :predict 1 listing, round $round" "http://127.0.0.1:$PORT_VIGIA/v1/models/prohibited-items:predict" \
    "$RUN/bodies/single.json" "$CONNS"
  PREDICT_RPS+=("$RPS"); PREDICT_CPU+=("$CPU_US")
done
stop_vigia
stop_nginx

NGINX_M=$(median "${NGINX_CPU[@]}"); HEALTH_M=$(median "${HEALTH_CPU[@]}"); PREDICT_M=$(median "${PREDICT_CPU[@]}")

{
  print_header "vigia HTTP ceiling vs nginx"
  echo "**Medians over $ROUNDS rounds. Ratio vigia /health/live ÷ nginx req/s: $(median "${RPS_RATIO[@]}") (rounds: ${RPS_RATIO[*]})**"
  echo
  echo "**Server CPU per request: nginx static $NGINX_M µs; vigia /health/live $HEALTH_M µs ($(median "${CPU_RATIO[@]}")× nginx, the median of the rounds' ratios ${CPU_RATIO[*]}); vigia 1-listing predict $PREDICT_M µs ($(ratio "$PREDICT_M" "$NGINX_M")× nginx), $(median "${PREDICT_RPS[@]}") req/s ($(ratio "$(median "${PREDICT_RPS[@]}")" "$(median "${NGINX_RPS[@]}")") of nginx)**"
  echo
  print_notes
} | if [ -n "$OUTFILE" ]; then tee "$OUTFILE"; else cat; fi
