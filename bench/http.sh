#!/usr/bin/env bash
# bench/http.sh — HTTP-stack ceiling: vigia's GET /health/live against nginx's static
# `return 200`, same wrk load, same run, one server at a time, loopback only; and each
# server's own CPU time per request (/proc utime + stime over the measured run, divided by
# the requests wrk counted), for /health/live and a 1-listing predict.
#
# usage: bench/http.sh [results.md]     (markdown to stdout, and to the file if given)
# env:   WARM=3s DUR=10s CONNS=32 THREADS=1 PORT_NGINX=18180 PORT_VIGIA=18190
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

start_nginx
CPU_PID=$NGINX_PID run_wrk nginx "GET / (static \"ok\")" "http://127.0.0.1:$PORT_NGINX/" "" "$CONNS"
NGINX_RPS=$RPS; NGINX_CPU=$CPU_US
stop_nginx

start_vigia "$VIGIA_CMD"
NOTES+=("vigia access log: $ACCESS_LOG (nginx: access_log off)")
NOTES+=("vigia GET /health/live answered: $(curl -s -i --max-time 2 "http://127.0.0.1:$PORT_VIGIA/health/live" | head -1 | tr -d '\r')")
CPU_PID=$VIGIA_PID run_wrk vigia "GET /health/live" "http://127.0.0.1:$PORT_VIGIA/health/live" "" "$CONNS"
VIGIA_RPS=$RPS; VIGIA_CPU=$CPU_US
CPU_PID=$VIGIA_PID run_wrk vigia "POST :predict 1 listing" "http://127.0.0.1:$PORT_VIGIA/v1/models/prohibited-items:predict" \
  "$RUN/bodies/single.json" "$CONNS"
PREDICT_CPU=$CPU_US
stop_vigia

{
  print_header "vigia HTTP ceiling vs nginx"
  echo "**Ratio vigia/nginx req/s: $(ratio "$VIGIA_RPS" "$NGINX_RPS")**"
  echo
  echo "**Server CPU per request: nginx static $NGINX_CPU µs; vigia /health/live $VIGIA_CPU µs ($(ratio "$VIGIA_CPU" "$NGINX_CPU")× nginx); vigia 1-listing predict $PREDICT_CPU µs ($(ratio "$PREDICT_CPU" "$NGINX_CPU")× nginx)**"
  echo
  print_notes
} | if [ -n "$OUTFILE" ]; then tee "$OUTFILE"; else cat; fi
