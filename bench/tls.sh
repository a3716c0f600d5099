#!/usr/bin/env bash
# bench/tls.sh — HTTPS versus plain HTTP on the same vigia process and the same predict load,
# plus the TLS handshake rate.
#
# usage: bench/tls.sh [results.md]     (markdown to stdout, and to the file if given)
# env:   WARM=3s DUR=10s CONNS=32 THREADS=1  KEY=ec (ec: P-256 ECDSA | rsa: RSA 2048)
#        PORT_VIGIA=18190 (plain)  PORT_TLS=18443  S_TIME=10 (seconds of openssl s_time)
#        SKIP_BUILD=0 VIGIA_BIN=<repo>/.build/release/vigia READY_TIMEOUT=60 BENCH_RUN=<log dir>
# Rows: first nginx's static response, plain on PORT_NGINX and HTTPS on PORT_NGINX_TLS=18444
# (keep-alive, -c$CONNS: the reference for what TLS costs here); then one vigia with plain HTTP on
# PORT_VIGIA and HTTPS on PORT_TLS:
#   0. GET /health/live, keep-alive, -c$CONNS: plain, then HTTPS (the same comparison as nginx's)
#   1. POST :predict (1 listing), keep-alive, -c$CONNS: plain, then HTTPS (the TLS cost per request)
#   2. the same at -c4 (latency at low load)
#   3. GET /health/live with `Connection: close`: a new connection per request, plain and
#      HTTPS (every HTTPS request pays a full handshake: wrk does not resume sessions)
#   4. `openssl s_time -new` and `-reuse`: full and resumed handshakes per second (one
#      client process, one small request each) and vigia's CPU per handshake
# Certificates are made here with the openssl CLI (test-only, in the run directory).
set -u
source "$(dirname "$0")/lib.sh"
OUTFILE=${1:-}
MODEL=${MODEL:-prohibited-items}
PORT_TLS=${PORT_TLS:-18443}
KEY=${KEY:-ec}
S_TIME=${S_TIME:-10}
PREDICT_PATH="/v1/models/$MODEL:predict"

command -v wrk >/dev/null && command -v curl >/dev/null || ensure_tools
command -v openssl >/dev/null || die "openssl CLI missing (scripts/bootstrap.sh installs it)"
port_free "$PORT_TLS" || die "port $PORT_TLS busy (set PORT_TLS)"

# ---------- storage, bodies, certificate ----------
SRC_VERSION=$(ls "$ROOT/models/$MODEL" 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -1)
[ -n "$SRC_VERSION" ] || die "no published version under $ROOT/models/$MODEL"
STORAGE="$RUN/storage"
mkdir -p "$STORAGE/$MODEL"
cp -r "$ROOT/models/$MODEL/$SRC_VERSION" "$STORAGE/$MODEL/$SRC_VERSION"
python3 "$BENCH_DIR/make_bodies.py" "$ROOT/data/listings.csv" "$RUN/bodies" 64 >&2 || die "make_bodies.py failed"
SINGLE="$RUN/bodies/single.json"

case $KEY in
  ec) KEYARGS=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
  rsa) KEYARGS=(-newkey rsa:2048) ;;
  *) die "KEY must be ec or rsa" ;;
esac
openssl req -x509 "${KEYARGS[@]}" -nodes -keyout "$RUN/tls.key" -out "$RUN/tls.crt" -days 2 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>"$RUN/openssl-req.log" \
  || die "openssl req failed (see $RUN/openssl-req.log)"

build_vigia

# ---------- the reference: nginx's static response over HTTP and HTTPS, same certificate ----------
# What TLS costs a mature server with the same OpenSSL on the same cores, wrk's TLS work included.
PORT_NGINX_TLS=${PORT_NGINX_TLS:-18444}
ensure_tools
NGINX_TLS_PORT=$PORT_NGINX_TLS NGINX_TLS_CERT=$RUN/tls.crt NGINX_TLS_KEY=$RUN/tls.key start_nginx
CPU_PID=$NGINX_PID run_wrk "nginx http" "GET / (static \"ok\")" "http://127.0.0.1:$PORT_NGINX/" "" "$CONNS"
NGINX_PLAIN_RPS=$RPS; NGINX_PLAIN_CPU=$CPU_US
CPU_PID=$NGINX_PID run_wrk "nginx https" "GET / (static \"ok\")" "https://127.0.0.1:$PORT_NGINX_TLS/" "" "$CONNS"
NGINX_TLS_RPS=$RPS; NGINX_TLS_CPU=$CPU_US
stop_nginx

# ---------- one vigia: plain + HTTPS ----------
export VIGIA_TLS_ENABLED=true VIGIA_TLS_PORT=$PORT_TLS VIGIA_TLS_CERTIFICATE_FILE=$RUN/tls.crt \
  VIGIA_TLS_KEY_FILE=$RUN/tls.key VIGIA_LOGGING_ACCESS_LOG=false
VIGIA_CMD=${VIGIA_CMD:-"$VIGIA_BIN serve --host 127.0.0.1 --port @PORT@ --storage @STORAGE@"}
start_vigia "$VIGIA_CMD"
wait_http "http://127.0.0.1:$PORT_VIGIA/health/ready" "$VIGIA_PID" || server_failed "GET /health/ready"
PLAIN="http://127.0.0.1:$PORT_VIGIA"
TLS="https://127.0.0.1:$PORT_TLS"
check=$(curl -s --cacert "$RUN/tls.crt" -o "$RUN/tls-check.json" -w '%{http_code} %{http_version} %{ssl_verify_result}' \
  -H 'Content-Type: application/json' --data-binary @"$SINGLE" "https://localhost:$PORT_TLS$PREDICT_PATH")
NOTES+=("HTTPS check (curl --cacert, verified): status/http-version/verify = $check; $(head -c 120 "$RUN/tls-check.json")")
NOTES+=("Negotiated: $(echo | openssl s_client -connect 127.0.0.1:$PORT_TLS -alpn http/1.1 2>/dev/null | grep -E '^(New|ALPN)' | tr '\n' ' ')")

CPU_PID=$VIGIA_PID run_wrk "vigia http" "POST 1 listing" "$PLAIN$PREDICT_PATH" "$SINGLE" "$CONNS"
PLAIN_RPS=$RPS; PLAIN_P99=$P99; PLAIN_KA_CPU=$CPU_US
CPU_PID=$VIGIA_PID run_wrk "vigia https" "POST 1 listing" "$TLS$PREDICT_PATH" "$SINGLE" "$CONNS"
TLS_RPS=$RPS; TLS_P99=$P99; TLS_KA_CPU=$CPU_US
CPU_PID=$VIGIA_PID run_wrk "vigia http" "GET /health/live" "$PLAIN/health/live" "" "$CONNS"
HEALTH_PLAIN_RPS=$RPS; HEALTH_PLAIN_CPU=$CPU_US
CPU_PID=$VIGIA_PID run_wrk "vigia https" "GET /health/live" "$TLS/health/live" "" "$CONNS"
HEALTH_TLS_RPS=$RPS; HEALTH_TLS_CPU=$CPU_US
run_wrk "vigia http" "POST 1 listing" "$PLAIN$PREDICT_PATH" "$SINGLE" 4
run_wrk "vigia https" "POST 1 listing" "$TLS$PREDICT_PATH" "$SINGLE" 4

# New connection per request: wrk re-connects after each `Connection: close` response.
close_wrk() {  # label url -> CLOSE_RPS (empty when wrk failed)
  NO_WARM=1 run_wrk "$1" "GET /health/live, Connection: close" "$2" "" "$CONNS" -H "Connection: close" || true
  CLOSE_RPS=$RPS
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$VIGIA_PID/stat"; }  # utime + stime of vigia
per_request_us() {  # ticks requests -> vigia CPU microseconds per request
  awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n > 0) printf "%.0f", t / hz * 1e6 / n; else printf "n/a" }'
}
t0=$(cpu_ticks); close_wrk "vigia http" "$PLAIN/health/live"; PLAIN_CLOSE=$CLOSE_RPS
PLAIN_CPU_US=$(per_request_us $(( $(cpu_ticks) - t0 )) "$(awk -v r="$PLAIN_CLOSE" -v d="$(dur_s "$DUR")" 'BEGIN { printf "%d", r * d }')")
t0=$(cpu_ticks); close_wrk "vigia https" "$TLS/health/live"; TLS_CLOSE=$CLOSE_RPS
TLS_CPU_US=$(per_request_us $(( $(cpu_ticks) - t0 )) "$(awk -v r="$TLS_CLOSE" -v d="$(dur_s "$DUR")" 'BEGIN { printf "%d", r * d }')")

# Handshakes per second and vigia CPU per handshake, full (-new) and resumed (-reuse: the
# session ticket of the first connection offered by every later one). -www reads a response,
# so the TLS 1.3 ticket (sent after the handshake) reaches the client.
handshake_count() {  # kind -> vigia_tls_handshakes_total{kind=...}
  curl -s "$PLAIN/metrics" | awk -v k="kind=\"$1\"" 'index($0, k) && /^vigia_tls_handshakes_total/ { print $2 }'
}
s_time_row() {  # mode (new|reuse) -> S_LINE S_REAL S_CONNS S_CPU_US S_FULL S_RESUMED
  local out="$RUN/s_time-$1.txt" t0 full0 resumed0
  t0=$(cpu_ticks); full0=$(handshake_count full); resumed0=$(handshake_count resumed)
  bounded $((S_TIME + 30)) "$out" openssl s_time -connect "127.0.0.1:$PORT_TLS" "-$1" -time "$S_TIME" -www /health/live
  S_LINE=$(grep -m1 'connections/user sec' "$out" || echo "s_time failed (see $out)")
  S_CONNS=$(grep -m1 -oE '^[0-9]+ connections in [0-9]+ real seconds' "$out" | awk '{ print $1 }')
  S_CPU_US=$(per_request_us $(( $(cpu_ticks) - t0 )) "${S_CONNS:-0}")
  S_FULL=$(( $(handshake_count full) - full0 )); S_RESUMED=$(( $(handshake_count resumed) - resumed0 ))
}
s_time_row new; NEW_LINE=$S_LINE; NEW_CONNS=$S_CONNS; NEW_CPU_US=$S_CPU_US; NEW_KINDS="$S_FULL full, $S_RESUMED resumed"
s_time_row reuse; REUSE_LINE=$S_LINE; REUSE_CONNS=$S_CONNS; REUSE_CPU_US=$S_CPU_US; REUSE_KINDS="$S_FULL full, $S_RESUMED resumed"

stop_vigia

{
  echo "# vigia HTTPS vs HTTP, handshake rate ($KEY certificate, $(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "Host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), $(openssl version)."
  echo "Load: \`wrk -t$THREADS -c<conns> -d$DUR --latency\` after a $WARM warm-up per keep-alive row; wrk and vigia share the cores; loopback; one vigia process serving both ports; compare rows within one run only."
  echo
  echo "| server | request | conns | req/s | p50 ms | p99 ms | requests | non-2xx | sock err c/r/w/t |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "- HTTPS ÷ HTTP, POST 1 listing keep-alive -c$CONNS: req/s $(ratio "$TLS_RPS" "$PLAIN_RPS"), p99 $PLAIN_P99 → $TLS_P99 ms; vigia CPU per request $PLAIN_KA_CPU → $TLS_KA_CPU µs (HTTP ÷ HTTPS: $(ratio "$PLAIN_KA_CPU" "$TLS_KA_CPU"); wrk's own TLS work shares the cores, so the CPU ratio is vigia's alone)"
  echo "- The same keep-alive comparison for a small GET, HTTPS ÷ HTTP req/s (server CPU per request HTTP → HTTPS): nginx static $(ratio "$NGINX_TLS_RPS" "$NGINX_PLAIN_RPS") ($NGINX_PLAIN_CPU → $NGINX_TLS_CPU µs), vigia /health/live $(ratio "$HEALTH_TLS_RPS" "$HEALTH_PLAIN_RPS") ($HEALTH_PLAIN_CPU → $HEALTH_TLS_CPU µs). nginx, with the same OpenSSL, suites and certificate, is the reference for what TLS costs on these cores with wrk's TLS work beside it"
  echo "- New connection per request (-c$CONNS, Connection: close): HTTPS $TLS_CLOSE req/s vs HTTP $PLAIN_CLOSE req/s (each HTTPS request = one full TLS handshake); vigia CPU per connection+request: HTTPS ${TLS_CPU_US} µs, HTTP ${PLAIN_CPU_US} µs (the single wrk thread doing client handshakes is the limit here, not vigia)"
  echo "- openssl s_time -new -www /health/live, $S_TIME s (full handshakes, one client): ${NEW_CONNS:-?} connections ($NEW_KINDS by vigia's counters); $NEW_LINE; vigia CPU per connection ${NEW_CPU_US} µs"
  echo "- openssl s_time -reuse, same: ${REUSE_CONNS:-?} connections ($REUSE_KINDS); $REUSE_LINE; vigia CPU per connection ${REUSE_CPU_US} µs"
  echo
  print_notes
} | tee ${OUTFILE:+"$OUTFILE"}
