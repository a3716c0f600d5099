#!/usr/bin/env bash
# Builds and runs every test (unit, and end-to-end over real sockets on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build --build-tests
swift test --skip-build "$@"
