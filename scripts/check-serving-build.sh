#!/usr/bin/env bash
# The serving build, as the container builds it (release, static Swift runtime, without the
# default `Training` trait): it links no ICU data, says what it is in --version, refuses the
# model-making commands with exit 1 and a message, scores every row of data/listings.csv
# exactly as the full build does, and serves the default model over HTTP.
# Build folder: .build-serving (a first build takes about 2 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-18561}
fail() { echo "serving build: $*" >&2; exit 1; }

swift build -c release --disable-default-traits --static-swift-stdlib --product vigia --scratch-path .build-serving >&2
serving="$(swift build -c release --disable-default-traits --scratch-path .build-serving --show-bin-path)/vigia"
[ -x .build/debug/vigia ] || swift build --product vigia >&2
full=.build/debug/vigia

# ICU's data (icudt*_dat, ~34 MB) comes with Foundation's internationalisation, which only
# the training side (SwiftCSV, Yams) brings in.
icu=$(nm "$serving" | grep -c icudt || true)
[ "$icu" = 0 ] || fail "the binary carries ICU data ($icu icudt symbols)"

version=$("$serving" --version)
[[ "$version" == *"(serving build)" ]] || fail "--version says '$version'"

work=$(mktemp -d)
trap 'kill -TERM "${vigia_pid:-}" 2>/dev/null; wait "${vigia_pid:-}" 2>/dev/null; rm -rf "$work"' EXIT
for command in "train --data data/listings.csv --storage $work/models" "evaluate --model models/prohibited-items/1 --data data/listings.csv" "model-card --model x --output y"; do
  set +e
  # shellcheck disable=SC2086
  "$serving" $command >"$work/out" 2>"$work/err"
  status=$?
  set -e
  name=${command%% *}
  [ "$status" = 1 ] || fail "vigia $name exited $status, not 1"
  grep -q "is not in this serving build" "$work/err" || fail "vigia $name said: $(cat "$work/err")"
done
[ ! -e "$work/models" ] || fail "vigia train wrote $work/models"

# Every row of the sample data, scored by both builds: the same bytes out.
model=$(ls -d models/prohibited-items/* | sort -t/ -k3 -n | tail -1)
# The listings as the benchmarks send them (bench/make_bodies.py's CSV row → listing).
python3 - data/listings.csv "$work/listings.jsonl" <<'PY'
import csv, json, sys
sys.path.insert(0, "bench")
from make_bodies import listing
with open(sys.argv[1], newline="", encoding="utf-8") as source, open(sys.argv[2], "w", encoding="utf-8") as out:
    for row in csv.DictReader(source):
        out.write(json.dumps(listing(row), ensure_ascii=False) + "\n")
PY
"$serving" predict --model "$model" --input "$work/listings.jsonl" >"$work/serving.jsonl"
"$full" predict --model "$model" --input "$work/listings.jsonl" >"$work/full.jsonl"
cmp -s "$work/serving.jsonl" "$work/full.jsonl" || fail "vigia predict scores differ between the serving and the full build"
rows=$(wc -l <"$work/serving.jsonl")

# It serves: ready, then a predict over HTTP gives the score `vigia predict` gave.
"$serving" serve --host 127.0.0.1 --port "$port" --log-level warning 2>"$work/vigia.log" &
vigia_pid=$!
for _ in $(seq 1 "${READY_TIMEOUT:-60}"); do
  curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break
  sleep 1
done
curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null || fail "not ready on port $port; log: $(cat "$work/vigia.log")"
first=$(head -1 "$work/listings.jsonl")
curl -sf -H 'content-type: application/json' -d "{\"instances\": [$first]}" \
  "http://127.0.0.1:$port/v1/models/prohibited-items:predict" >"$work/http.json" || fail "predict over HTTP failed"
python3 - "$work/http.json" "$work/serving.jsonl" <<'PY' || fail "the HTTP score differs from vigia predict's"
import json, sys
served = json.load(open(sys.argv[1]))["predictions"][0]
offline = json.loads(open(sys.argv[2]).readline())
assert served["score"] == offline["score"], (served, offline)
PY
size=$(stat -c %s "$serving")
echo "serving build: $version; $size bytes (unstripped), no ICU data; train/evaluate/model-card refused; $rows rows scored as the full build scores them; serves over HTTP"
