#!/usr/bin/env bash
# Creates (or reuses) the pinned scikit-learn venv outside the checkout and prints its path.
# A venv whose pins differ from python/requirements-ci.txt is rebuilt.
# usage: scripts/sklearn-venv.sh [DIR]   (default $VIGIA_SKLEARN_VENV or /opt/vigia-venvs/sklearn)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-${VIGIA_SKLEARN_VENV:-/opt/vigia-venvs/sklearn}}
pins=python/requirements-ci.txt
stamp="$venv/.vigia-pins"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$pins" "$stamp"; then
  echo "[sklearn-venv] installing $pins into $venv" >&2
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$pins" >&2
  cp "$pins" "$stamp"
fi
echo "$venv"
