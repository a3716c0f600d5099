#!/usr/bin/env bash
# bench/server_cost.sh — the served process's own instructions per request (callgrind), for
# GET /health/live (access log off and on), a 1-listing predict over HTTP and HTTPS
# (keep-alive; TLS from the system OpenSSL, counted with it) and the same listing as a V2 infer: a count that does not
# move with the machine's load, where bench/http.sh's CPU µs per request does. The whole
# server is counted (event loop, parser, router, handler, encoder, log, metrics), not the
# kernel: counters are zeroed after an instrumented warm-up and dumped after a wrk run over loopback,
# then divided by the requests wrk counted. The storage rescan is set to an hour, so a
# periodic directory walk does not land in some counted windows and not in others (runs of
# one binary differed by a few percent; background threads are counted too). Hashing is made
# deterministic (SWIFT_DETERMINISTIC_HASHING): with a seed per process, the probes of one
# dictionary lookup on the request path differed run to run by up to a thousand instructions.
#
# usage: bench/server_cost.sh [results.md]
# env:   DUR=6s WARM=2s CONNS=4 PORT_VIGIA=18190 PORT_TLS=18193 SKIP_BUILD=0 VIGIA_BIN=<repo>/.build/release/vigia
#        ONLY=<regex>: only the rows whose label matches (e.g. ONLY=health)
#        (valgrind 3.19 cannot read Swift's DWARF 5: the binary is copied with its debug info stripped)
set -u
DUR=${DUR:-6s}
WARM=${WARM:-2s}
CONNS=${CONNS:-4}
ONLY=${ONLY:-.}
source "$(dirname "$0")/lib.sh"
OUTFILE=${1:-}
READY_TIMEOUT=${READY_TIMEOUT:-180}   # under valgrind the model loads ~50× slower

ensure_tools
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null && command -v objcopy >/dev/null \
  || die "needs valgrind and binutils (apt-get install valgrind binutils)"
build_vigia
python3 "$BENCH_DIR/make_bodies.py" "$ROOT/data/listings.csv" "$RUN/bodies" 64 >&2 || die "make_bodies.py failed"
objcopy --strip-debug "$VIGIA_BIN" "$RUN/vigia" || die "objcopy failed"
PORT_TLS=${PORT_TLS:-18193}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$RUN/tls.key" -out "$RUN/tls.crt" -days 2 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>"$RUN/openssl-req.log" \
  || die "openssl req failed (see $RUN/openssl-req.log)"
# Every row's server also listens for HTTPS, so the rows differ only in what they request.
export VIGIA_TLS_ENABLED=true VIGIA_TLS_PORT=$PORT_TLS VIGIA_TLS_CERTIFICATE_FILE=$RUN/tls.crt VIGIA_TLS_KEY_FILE=$RUN/tls.key
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = io.open("%s"):read("*a")\n' \
  "$RUN/bodies/single.json" >"$RUN/predict.lua"
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = io.open("%s"):read("*a")\n' \
  "$RUN/bodies/v2-single.json" >"$RUN/infer.lua"

# measure <label> <base url> <path> <access log true|false> <body file or ""> [wrk args...]: one row
measure() {
  local label=$1 base=$2 path=$3 access=$4 body=$5
  shift 5
  [[ "$label" =~ $ONLY ]] || return 0
  local slug
  slug=$(tr -c 'A-Za-z0-9\n' '-' <<<"$label")
  local out="$RUN/callgrind-$slug.out"
  port_free "$PORT_VIGIA" || die "port $PORT_VIGIA busy (set PORT_VIGIA)"
  start_bg vigia "$RUN/vigia-$slug.log" \
    "env -u VIGIA_BIN -u VIGIA_CMD SWIFT_DETERMINISTIC_HASHING=1 VIGIA_LOGGING_ACCESS_LOG=$access VIGIA_STORAGE_RESCAN_INTERVAL_SECONDS=3600 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$out $RUN/vigia serve --host 127.0.0.1 --port $PORT_VIGIA --storage $ROOT/models"
  local pid=$LAST_PID
  wait_http "http://127.0.0.1:$PORT_VIGIA/health/ready" "$pid" || die "vigia under valgrind did not become ready (log $RUN/vigia-$slug.log)"
  local url="$base$path"
  # Valgrind instruments code the first time it runs: a few requests without a deadline and
  # the warm-up, instrumented, then the counters are zeroed, so wrk's 2 s socket timeout
  # never meets a first-time path and only the counted run is in the totals.
  callgrind_control -i on "$pid" >/dev/null || die "callgrind_control failed"
  local i
  for i in 1 2 3; do
    if [ -n "$body" ]; then
      curl -sk -o /dev/null --max-time 120 -H 'Content-Type: application/json' --data-binary "@$body" "$url"
    else
      curl -sk -o /dev/null --max-time 120 "$url"
    fi
  done
  wrk -t1 -c"$CONNS" -d"$WARM" "$@" "$url" >/dev/null 2>&1
  callgrind_control -z "$pid" >/dev/null
  local result
  result=$(wrk -t1 -c"$CONNS" -d"$DUR" "$@" "$url" 2>&1)
  callgrind_control -d "$pid" >/dev/null
  stop_pid "$pid" 2
  forget_pid "$pid"
  local requests non2xx total
  requests=$(awk '/requests in/ {print $1}' <<<"$result")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$result")
  total=$(callgrind_annotate "$out".1 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  [ -n "$requests" ] && [ "$requests" -gt 0 ] && [ -n "$total" ] || die "$label: no count (wrk: $result)"
  [ -z "$non2xx" ] || die "$label: $non2xx non-2xx answers"
  ROWS+=("| $label | $requests | $total | **$((total / requests))** |")
}

PLAIN="http://127.0.0.1:$PORT_VIGIA"
TLS="https://127.0.0.1:$PORT_TLS"
PREDICT=/v1/models/prohibited-items:predict
measure "GET /health/live, access log off" "$PLAIN" /health/live false ""
measure "GET /health/live, access log on" "$PLAIN" /health/live true ""
measure "POST :predict 1 listing, access log off" "$PLAIN" $PREDICT false "$RUN/bodies/single.json" -s "$RUN/predict.lua"
measure "POST :predict 1 listing over HTTPS, access log off" "$TLS" $PREDICT false "$RUN/bodies/single.json" -s "$RUN/predict.lua"
measure "POST V2 infer 1 listing (the same listing), access log off" "$PLAIN" /v2/models/prohibited-items/infer false "$RUN/bodies/v2-single.json" -s "$RUN/infer.lua"

{
  echo "# vigia server instructions per request, callgrind ($(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$ROOT" rev-parse --short HEAD))"
  echo
  echo "| request | requests | instructions | per request |"
  echo "|---|---:|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "wrk -t1 -c$CONNS, $WARM warm-up uncounted, $DUR counted; user-space instructions of the whole process (all threads), kernel excluded."
} | if [ -n "$OUTFILE" ]; then tee "$OUTFILE"; else cat; fi
