#!/usr/bin/env bash
# The scikit-learn exporter (python/): its pytest suite, then the parity check — one pipeline
# per group of supported steps fitted on data/listings.csv, each exported through
# vigia_sklearn, which scores 10,000 rows (listings plus an adversarial text set) with
# scikit-learn and with `vigia predict` and refuses to publish when any probability differs
# by more than 1e-9. Prints max |Δprobability| per pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(scripts/sklearn-venv.sh)
bin=${VIGIA_BIN:-.build/debug/vigia}
[ -x "$bin" ] || swift build --product vigia
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
export PYTHONPATH=$PWD/python VIGIA=$bin
"$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests
storage=$(mktemp -d)
trap 'rm -rf "$storage"' EXIT
"$venv/bin/python" python/parity/check_parity.py data/listings.csv "$storage" --rows "${ROWS:-10000}"
