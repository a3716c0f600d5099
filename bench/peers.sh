#!/usr/bin/env bash
# bench/peers.sh — Vigia in the same run as the Python peers (Flask, FastAPI, MLServer) and
# nginx from ../shared/bench/peers: same data, same kind of model, same wrk load.
#
# The peers serve a scikit-learn pipeline (title TF-IDF 1–2-grams, one-hot category, scaled
# price and seller age → LogisticRegression) trained on $PEERS_WORK/items.csv. Vigia serves
# that same model.joblib: the scikit-learn exporter (python/, run with the peers' base venv)
# publishes it as an artifact after checking on every row of items.csv that `vigia predict`
# gives scikit-learn's probabilities (|Δ| ≤ 1e-9); run_peers.sh then adds vigia as the
# "extra" row next to the others, so its one real response shows the peers' score. Then
# bench/protocols.sh times V2 infer on exactly MLServer's bodies against V1 predict on the
# JSON peers' bodies (same model, same wrk settings) and the section is appended.
#
# usage: bench/peers.sh [results.md]
# env:   PEERS_DIR=<repo>/../shared/bench/peers  PEERS_WORK=/tmp/peers-work  PEERS_VENVS=/tmp/peers-venvs
#        SKIP_BUILD=0  ONLY, WARM, DUR, CONNS, THREADS: passed to run_peers.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS_DIR=${PEERS_DIR:-$ROOT/../shared/bench/peers}
export PEERS_WORK=${PEERS_WORK:-/tmp/peers-work}
export PEERS_VENVS=${PEERS_VENVS:-/tmp/peers-venvs}
VIGIA=$ROOT/.build/release/vigia
log() { echo "[peers] $*" >&2; }

[ -x "$PEERS_DIR/run_peers.sh" ] || { log "no peers kit at $PEERS_DIR (set PEERS_DIR)"; exit 1; }
"$PEERS_DIR/setup_venvs.sh" >&2
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building vigia (release)"
  (cd "$ROOT" && swift build -c release --product vigia >&2)
fi

# The peers' data and model, exactly as run_peers.sh makes them (it skips this when present).
mkdir -p "$PEERS_WORK"
if [ ! -f "$PEERS_WORK/model.joblib" ]; then
  python3 "$PEERS_DIR/gen_items.py" "$PEERS_WORK/items.csv" 20000 >&2
  "$PEERS_VENVS/base/bin/python" "$PEERS_DIR/train_sklearn.py" "$PEERS_WORK/items.csv" "$PEERS_WORK/model.joblib" >&2
fi

# The peers' own model.joblib, exported (no id column: the peers' bodies carry none).
STORAGE=$(mktemp -d /tmp/vigia-peers-storage.XXXXXX)
trap 'rm -rf "$STORAGE"' EXIT
log "exporting $PEERS_WORK/model.joblib (parity checked on $PEERS_WORK/items.csv)"
PYTHONPATH="$ROOT/python" "$PEERS_VENVS/base/bin/python" -m vigia_sklearn export "$PEERS_WORK/model.joblib" \
  --storage "$STORAGE" --name items --sample "$PEERS_WORK/items.csv" --label-column is_prohibited \
  --vigia "$VIGIA" >&2

# The extra row: the shipped configuration, with this storage and this model required.
export EXTRA_NAME=vigia
export EXTRA_CMD="env VIGIA_MODELS_REQUIRED=items $VIGIA serve --host 127.0.0.1 --port @PORT@ --storage $STORAGE"
export EXTRA_READY=/health/ready
export EXTRA_PREDICT=/v1/models/items:predict
"$PEERS_DIR/run_peers.sh" "$@"

# Vigia on the very bodies MLServer receives (V2, request content_type "pd", output
# predict_proba), rows alternating with V1 on the bodies the JSON peers receive: the same
# exported model, right after the peers, with the same wrk settings.
BODIES=$(mktemp -d /tmp/vigia-peers-bodies.XXXXXX)
trap 'rm -rf "$STORAGE" "$BODIES"' EXIT
cp "$PEERS_WORK/json_1.json" "$BODIES/single.json"
cp "$PEERS_WORK/json_32.json" "$BODIES/batch.json"
cp "$PEERS_WORK/v2_1.json" "$BODIES/v2-single.json"
cp "$PEERS_WORK/v2_32.json" "$BODIES/v2-batch.json"
log "vigia: V2 infer on MLServer's bodies vs V1 predict on the JSON peers' bodies"
v2_out=$(mktemp /tmp/vigia-peers-v2.XXXXXX)
SKIP_BUILD=1 MODELS="$STORAGE" MODEL=items BODIES="$BODIES" BATCH=32 VIGIA_BIN="$VIGIA" \
  "$ROOT/bench/protocols.sh" "$v2_out" >/dev/null
{ echo; cat "$v2_out"; } | if [ -n "${1:-}" ]; then tee -a "$1"; else cat; fi
rm -f "$v2_out"
