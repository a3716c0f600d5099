# bench/lib.sh — shared harness for bench/http.sh and bench/predict.sh (sourced, not run).
# Loopback only; every server is started by this harness, remembered by PID, and stopped
# by PID (TERM, then KILL after a deadline) from the EXIT trap.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)

WARM=${WARM:-3s}            # warm-up wrk run before each measured run (not reported)
DUR=${DUR:-10s}             # measured wrk run
CONNS=${CONNS:-32}          # wrk -c
THREADS=${THREADS:-1}       # wrk -t
READY_TIMEOUT=${READY_TIMEOUT:-60}   # seconds to wait for a server to answer
PORT_NGINX=${PORT_NGINX:-18180}
PORT_VIGIA=${PORT_VIGIA:-18190}
SKIP_BUILD=${SKIP_BUILD:-0}  # 1: do not run `swift build -c release --product vigia`
VIGIA_BIN=${VIGIA_BIN:-$ROOT/.build/release/vigia}
RUN=${BENCH_RUN:-$(mktemp -d /tmp/vigia-bench.XXXXXX)}
mkdir -p "$RUN"

ROWS=()
NOTES=()
PIDS=()   # servers and helpers started by this run, stopped by stop_all

log() { echo "[bench] $*" >&2; }
die() { log "error: $*"; exit 1; }

ensure_tools() {  # installs wrk and nginx with apt-get when missing
  local need=()
  command -v wrk >/dev/null || need+=(wrk)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
  command -v curl >/dev/null || need+=(curl)
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing ${need[*]} with apt-get"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >&2 \
    || die "apt-get install ${need[*]} failed"
}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

build_vigia() {
  if [ "$SKIP_BUILD" = 1 ]; then log "SKIP_BUILD=1: not building"; return 0; fi
  log "swift build -c release --product vigia (in $ROOT)"
  (cd "$ROOT" && swift build -c release --product vigia) >&2 || die "release build failed"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_bg() {  # name logfile command-string; sets LAST_PID
  local name=$1 logf=$2 cmd=$3
  bash -c "exec $cmd" >"$logf" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  log "$name started pid=$LAST_PID: $cmd"
}

stop_pid() {  # pid [grace seconds]; sets STOP_RC to the exit status (or "already exited: N")
  local pid=$1 grace=${2:-5} i
  if ! kill -0 "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null; STOP_RC="already exited: $?"; return 0; fi
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < grace * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid still running after TERM + ${grace}s; KILL"
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  STOP_RC=$?
}

stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid" 3; done
  PIDS=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

forget_pid() { local p keep=(); for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; PIDS=("${keep[@]}"); }

wait_http() {  # url pid: 0 when the url answers 2xx before READY_TIMEOUT, 1 otherwise
  local url=$1 pid=$2 deadline=$((SECONDS + READY_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    curl -sf -o /dev/null --max-time 2 "$url" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

start_nginx() {  # sets NGINX_PID; with NGINX_TLS_PORT, NGINX_TLS_CERT and NGINX_TLS_KEY set, HTTPS too
  port_free "$PORT_NGINX" || die "port $PORT_NGINX busy (set PORT_NGINX)"
  local tls=""
  if [ -n "${NGINX_TLS_PORT:-}" ]; then
    port_free "$NGINX_TLS_PORT" || die "port $NGINX_TLS_PORT busy (set NGINX_TLS_PORT)"
    # vigia's TLS 1.3 suites in vigia's order, so that both servers encrypt alike.
    tls="listen 127.0.0.1:$NGINX_TLS_PORT ssl; ssl_certificate $NGINX_TLS_CERT; ssl_certificate_key $NGINX_TLS_KEY;"
    tls+=" ssl_protocols TLSv1.2 TLSv1.3; ssl_prefer_server_ciphers on;"
    tls+=" ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;"
  fi
  sed -e "s#@RUN@#$RUN#g" -e "s#@PORT@#$PORT_NGINX#g" -e "s#@WORKERS@#$(nproc)#g" -e "s#@TLS@#$tls#g" \
    "$BENCH_DIR/nginx.conf.tmpl" >"$RUN/nginx.conf"
  start_bg nginx "$RUN/nginx.log" "'$NGINX' -c '$RUN/nginx.conf' -g 'daemon off;'"
  NGINX_PID=$LAST_PID
  wait_http "http://127.0.0.1:$PORT_NGINX/" "$NGINX_PID" || die "nginx not ready (see $RUN/nginx.log)"
}

stop_nginx() { stop_pid "$NGINX_PID"; forget_pid "$NGINX_PID"; }

start_vigia() {  # cmd-template (@PORT@, @STORAGE@ substituted); sets VIGIA_PID
  local cmd=$1
  port_free "$PORT_VIGIA" || die "port $PORT_VIGIA busy (set PORT_VIGIA)"
  cmd=${cmd//@PORT@/$PORT_VIGIA}
  cmd=${cmd//@STORAGE@/${STORAGE:-}}
  # The bench's own VIGIA_BIN/VIGIA_CMD are not service settings: vigia refuses unknown
  # VIGIA_* variables, so they are removed from its environment.
  start_bg vigia "$RUN/vigia.log" "env -u VIGIA_BIN -u VIGIA_CMD $cmd"
  VIGIA_PID=$LAST_PID
  wait_http "http://127.0.0.1:$PORT_VIGIA/health/live" "$VIGIA_PID" || server_failed "GET /health/live"
}

server_failed() {  # what: explains why vigia is not answering, then exits
  if kill -0 "$VIGIA_PID" 2>/dev/null; then
    log "vigia (pid $VIGIA_PID) did not answer $1 within ${READY_TIMEOUT}s; last log lines:"
  else
    wait "$VIGIA_PID" 2>/dev/null
    log "vigia exited with status $? before answering $1; last log lines:"
  fi
  tail -n 8 "$RUN/vigia.log" | sed 's/^/    /' >&2
  die "vigia not serving (command: ${VIGIA_CMD:-?}; full log: $RUN/vigia.log)"
}

stop_vigia() {  # records how vigia exited after SIGTERM (the design says: drain, exit 0)
  stop_pid "$VIGIA_PID" 10
  forget_pid "$VIGIA_PID"
  NOTES+=("vigia exit status after SIGTERM: $STOP_RC (143 = killed by the signal without handling it)")
}

# run_wrk label what url body conns [wrk options…] -> appends a row, sets RPS/P99 of the
# measured run (both empty when wrk failed). body may be empty (GET). Warm-up first (not
# reported) unless NO_WARM=1. Bounded by timeout(1).
run_wrk() {
  local server=$1 what=$2 url=$3 body=$4 conns=$5 out res
  shift 5
  local tag=${server// /_}-${what// /_}-c$conns
  tag=${tag//\//_}
  local limit=$(( $(dur_s "$DUR") + $(dur_s "$WARM") + 30 ))
  if [ "${NO_WARM:-0}" != 1 ]; then
    bounded "$limit" "$RUN/wrk-$tag-warm.txt" \
      wrk -t"$THREADS" -c"$conns" -d"$WARM" "$@" -s "$BENCH_DIR/post.lua" "$url" -- "$body"
  fi
  out="$RUN/wrk-$tag.txt"
  local ticks0=""
  [ -n "${CPU_PID:-}" ] && ticks0=$(tree_cpu_ticks "$CPU_PID")
  bounded "$limit" "$out" \
    wrk -t"$THREADS" -c"$conns" -d"$DUR" --latency "$@" -s "$BENCH_DIR/post.lua" "$url" -- "$body"
  local ticks1=""
  [ -n "$ticks0" ] && ticks1=$(tree_cpu_ticks "$CPU_PID")
  res=$(grep '^RESULT' "$out")
  RPS=""; P99=""; CPU_US=""
  if [ -z "$res" ]; then
    ROWS+=("| $server | $what | -c$conns | wrk failed (see $out) | | | | | |")
    return 1
  fi
  local rps p50_ms p99_ms max_ms reqs non2xx connect read write timeout
  eval "$(echo "${res#RESULT }" | tr ' ' '\n' | sed 's/^/local /')"
  RPS=$rps; P99=$p99_ms
  ROWS+=("| $server | $what | -c$conns | $rps | $p50_ms | $p99_ms | $reqs | $non2xx | $connect/$read/$write/$timeout |")
  if [ -n "$ticks1" ]; then
    CPU_US=$(awk -v t=$((ticks1 - ticks0)) -v n="$reqs" -v hz="$(getconf CLK_TCK)" \
      'BEGIN { if (n > 0) printf "%.2f", t / hz * 1e6 / n; else printf "n/a" }')
    NOTES+=("$server $what -c$conns: ${CPU_US} µs of server CPU per request ($((ticks1 - ticks0)) ticks over $reqs requests, the server's own /proc CPU time, workers included)")
  fi
  log "$server $what -c$conns: $res"
}

tree_cpu_ticks() {  # pid -> utime + stime (clock ticks) of the process and its direct children (nginx workers)
  local pid=$1 total=0 child
  total=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
  for child in $(awk -v p="$pid" '$4 == p { print $1 }' /proc/[0-9]*/stat 2>/dev/null); do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$child/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

bounded() {  # seconds outfile cmd... : runs cmd in the background under timeout(1) and waits,
  # so an INT/TERM to this script interrupts the wait and the EXIT trap stops cmd by PID.
  local limit=$1 outf=$2 pid; shift 2
  timeout "$limit" "$@" >"$outf" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait "$pid"
  forget_pid "$pid"
}

dur_s() {  # wrk duration (10s, 2m, 1h, 30) -> seconds
  case $1 in
    *s) echo "${1%s}" ;; *m) echo $(( ${1%m} * 60 )) ;; *h) echo $(( ${1%h} * 3600 )) ;; *) echo "$1" ;;
  esac
}

median() {  # values... -> their median (n/a values skipped; "n/a" when none is left)
  printf '%s\n' "$@" | grep -v '^n/a$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.3f", a / b; else printf "n/a" }'; }

print_header() {  # title
  echo "# $1 ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "Host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)."
  echo "Load: \`wrk -t$THREADS -c<conns> -d$DUR --latency\` after a $WARM warm-up per row; wrk and the servers share the cores; loopback; one run, compare rows within it only."
  echo "nginx: worker_processes $(nproc), \`return 200 \"ok\"\` for any method, access_log off, keepalive_requests 1e6. Versions: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), nginx $("$NGINX" -v 2>&1 | cut -d/ -f2)."
  echo
  echo "| server | request | conns | req/s | p50 ms | p99 ms | requests | non-2xx | sock err c/r/w/t |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
}

print_notes() {
  [ ${#NOTES[@]} -gt 0 ] || return 0
  echo "Notes:"
  printf -- '- %s\n' "${NOTES[@]}"
  echo "- non-2xx is wrk's status counter (responses with status >= 400); socket errors are counted apart. wrk's socket timeout is 2 s: timed-out requests are not in the percentiles."
  echo "- Logs and raw wrk output: $RUN"
}
