#!/usr/bin/env bash
# Starts Vigia on the embedded default model (models/prohibited-items), on 127.0.0.1:8080.
# Extra arguments go to `vigia serve` (e.g. --port 9000, --host 0.0.0.0, --config FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build -c release --product vigia
exec .build/release/vigia serve "$@"
