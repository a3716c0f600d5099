#!/usr/bin/env bash
# The running service against the clients platform teams already use (scripts/check_clients.py):
# tritonclient[http], the KServe SDK's REST client, MLServer's PandasCodec, TF Serving REST.
# Their venvs live outside the checkout, pinned, created when missing and reused:
#   $VENVS/clients   tritonclient[http], kserve     $VENVS/mlserver   mlserver (its codecs)
# (VENVS defaults to /opt/vigia-venvs). The rows the clients produce must equal README.md's
# compatibility table; `scripts/check-clients.sh --update` rewrites the table from them.
# Loopback only; each client call is bounded by its own timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-18503}
model=prohibited-items

. scripts/lib/venv.sh
venv clients "tritonclient[http]==2.73.0" "kserve==0.21.0"
# MLServer 1.7.1 predates pandas 3 (its PandasCodec fails on pandas 3 string columns).
venv mlserver "mlserver==1.7.1" "pandas==2.3.3"

. scripts/lib/serve.sh
serve_vigia "$port"
url="http://127.0.0.1:$port"
status=0
{
  timeout 300 "$venvs/clients/bin/python" scripts/check_clients.py clients "$url" "$model" data/listings.csv || status=1
  timeout 300 "$venvs/mlserver/bin/python" scripts/check_clients.py mlserver "$url" "$model" data/listings.csv || status=1
} >"$work/rows.md"
cat "$work/rows.md"

# README.md keeps the table between these markers.
begin='<!-- client-compatibility:begin -->' end='<!-- client-compatibility:end -->'
{
  echo "$begin"
  echo "| client | call | status |"
  echo "|---|---|---|"
  cat "$work/rows.md"
  echo "$end"
} >"$work/table.md"
if [ "${1:-}" = "--update" ]; then
  python3 - "$work/table.md" <<'PY'
import re, sys
table = open(sys.argv[1], encoding="utf-8").read().strip()
readme = open("README.md", encoding="utf-8").read()
pattern = re.compile(r"<!-- client-compatibility:begin -->.*?<!-- client-compatibility:end -->", re.S)
if not pattern.search(readme):
    sys.exit("README.md has no client-compatibility markers")
open("README.md", "w", encoding="utf-8").write(pattern.sub(lambda _: table, readme))
PY
elif ! sed -n "/^$begin\$/,/^$end\$/p" README.md | diff -u - "$work/table.md"; then
  echo "README.md's client compatibility table differs from what the clients did (above); fix or run $0 --update" >&2
  status=1
fi
exit "$status"
