#!/usr/bin/env bash
# Runs the vigia command line for the DVC pipeline (dvc.yaml): $VIGIA_BIN when set (an
# absolute path, e.g. a debug build), else .build/release/vigia, built first when missing.
# Debug and release builds train byte-identical models.
set -euo pipefail
bin=${VIGIA_BIN:-}
if [ -z "$bin" ]; then
  root=$(cd "$(dirname "$0")/.." && pwd)
  bin=$root/.build/release/vigia
  [ -x "$bin" ] || (cd "$root" && swift build -c release --product vigia >&2)
fi
exec "$bin" "$@"
