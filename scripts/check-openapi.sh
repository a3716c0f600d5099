#!/usr/bin/env bash
# Serves the default model on a loopback port, fetches GET /openapi.json, validates it
# against the OpenAPI 3.1 specification (openapi-spec-validator from PyPI) and checks that
# the committed openapi.json is the same document (`scripts/check-openapi.sh --write`
# rewrites it from the served one). Stops the server by PID; bounded by READY_TIMEOUT.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-18501}
python3 -c "import openapi_spec_validator" 2>/dev/null || python3 -m pip install -q "openapi-spec-validator==0.9.0"
. scripts/lib/serve.sh
serve_vigia "$port"
curl -sf "http://127.0.0.1:$port/openapi.json" -o "$work/openapi.json"
if [ "${1:-}" = --write ]; then
    python3 -c 'import json, sys; json.dump(json.load(open(sys.argv[1])), open("openapi.json", "w"), indent=2, ensure_ascii=False); open("openapi.json", "a").write("\n")' "$work/openapi.json"
    echo "openapi: wrote openapi.json"
fi
python3 - "$work/openapi.json" openapi.json <<'PY'
import difflib, json, sys
served, committed = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
if served != committed:
    lines = lambda d: json.dumps(d, indent=2, sort_keys=True, ensure_ascii=False).splitlines()
    sys.stdout.writelines(line + "\n" for line in list(difflib.unified_diff(lines(committed), lines(served), "openapi.json (committed)", "GET /openapi.json (served)", lineterm=""))[:80])
    sys.exit("openapi: the committed openapi.json differs from the served document; run scripts/check-openapi.sh --write")
print("openapi: the committed openapi.json is the served document")
PY
python3 - "$work/openapi.json" <<'PY'
import json, sys
from openapi_spec_validator import validate
document = json.load(open(sys.argv[1]))
validate(document)
operations = sum(1 for item in document["paths"].values() for method in item)
print(f"openapi: valid OpenAPI {document['openapi']}, {len(document['paths'])} paths, {operations} operations, "
      f"{len(document['components']['schemas'])} schemas")
PY
