#!/usr/bin/env bash
# Serves the default model on a loopback port, fetches GET /openapi.json and validates it
# against the OpenAPI 3.1 specification (openapi-spec-validator from PyPI). Stops the
# server by PID; bounded by READY_TIMEOUT.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-18501}
python3 -c "import openapi_spec_validator" 2>/dev/null || python3 -m pip install -q "openapi-spec-validator==0.9.0"
. scripts/lib/serve.sh
serve_vigia "$port"
curl -sf "http://127.0.0.1:$port/openapi.json" -o "$work/openapi.json"
python3 - "$work/openapi.json" <<'PY'
import json, sys
from openapi_spec_validator import validate
document = json.load(open(sys.argv[1]))
validate(document)
operations = sum(1 for item in document["paths"].values() for method in item)
print(f"openapi: valid OpenAPI {document['openapi']}, {len(document['paths'])} paths, {operations} operations, "
      f"{len(document['components']['schemas'])} schemas")
PY
