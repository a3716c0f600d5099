# Sourced by the check scripts: starts `vigia serve` on a loopback port with the default
# model, waits (bounded by READY_TIMEOUT) until /health/ready answers, and stops it by PID
# on exit. After `serve_vigia PORT [VAR=value …]`: $work is a scratch directory, the
# server's log is $work/vigia.log.
serve_vigia() {
  local port=$1; shift
  local bin=${VIGIA_BIN:-.build/debug/vigia}
  [ -x "$bin" ] || swift build --product vigia
  work=$(mktemp -d)
  env "$@" "$bin" serve --host 127.0.0.1 --port "$port" --log-level warning 2>"$work/vigia.log" &
  vigia_pid=$!
  trap 'kill -TERM "$vigia_pid" 2>/dev/null; wait "$vigia_pid" 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 1 "${READY_TIMEOUT:-60}"); do
    curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && return 0
    sleep 1
  done
  echo "vigia did not become ready on port $port; log: $work/vigia.log" >&2
  return 1
}
