#!/usr/bin/env bash
# Property-based test of the running service against its own OpenAPI document
# (schemathesis): generated requests for every operation, including admin routes with a
# token; fails on a 5xx, a crash, an undocumented status or a response that breaks its
# schema. Loopback only, bounded by --max-examples and a timeout, fixed seed.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-18502}
command -v schemathesis >/dev/null || python3 -m pip install -q "schemathesis==4.32.5"
token=$(python3 -c "import secrets; print(secrets.token_hex(24))")
. scripts/lib/serve.sh
serve_vigia "$port" VIGIA_AUTH_ADMIN_TOKENS="$token"
status=0
timeout 600 schemathesis --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/openapi.json" --url "http://127.0.0.1:$port" \
  --checks all -H "Authorization: Bearer $token" --max-examples "${EXAMPLES:-30}" --seed 20261123 \
  >"$work/schemathesis.log" 2>&1 || status=$?
grep -E "generated|passed|failures" "$work/schemathesis.log" | tail -2
if [ "$status" -ne 0 ] || grep -q "crashed" "$work/vigia.log"; then
  sed -n '/FAILURES/,$p' "$work/schemathesis.log" | head -80
  grep -A20 "crashed" "$work/vigia.log" | head -40
  exit 1
fi
