#!/usr/bin/env bash
# The Python client generated from the committed openapi.json by openapi-python-client
# (pinned, in the venv $VENVS/pyclient, created when missing and reused; VENVS defaults to
# /opt/vigia-venvs). Generates the package `vigia_client` into a scratch directory outside the
# checkout, failing on any generator warning (a schema it cannot turn into a type), installs it
# into the venv, serves the default model on a loopback port and runs scripts/python_client.py:
# readiness and model status as typed objects, a :predict call whose score must equal a plain
# HTTP :predict and the model's stored example, and a rejected listing parsed as a Problem.
# Stops the server by PID; bounded by READY_TIMEOUT and the client's own timeouts.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-18504}
model=prohibited-items

. scripts/lib/venv.sh
# wheel: pip builds the generated setup.py package without build isolation (no network needed).
venv pyclient "openapi-python-client==0.29.1" "wheel==0.45.1"
bin="$venvs/pyclient/bin"

. scripts/lib/serve.sh
serve_vigia "$port"
# ruff (installed with the generator) formats the generated code; it must be on PATH for that.
PATH="$bin:$PATH" timeout 120 "$bin/openapi-python-client" generate --path openapi.json --meta setup \
    --output-path "$work/vigia-client" --overwrite --fail-on-warning >"$work/generate.log" 2>&1 ||
    { cat "$work/generate.log" >&2; echo "python client: openapi-python-client could not generate every type from openapi.json" >&2; exit 1; }
echo "python client: generated $(find "$work/vigia-client/vigia_client" -name '*.py' | wc -l) modules from openapi.json"
timeout 120 "$bin/pip" install -q --disable-pip-version-check --no-deps --no-build-isolation --force-reinstall "$work/vigia-client"
timeout 120 "$bin/python" scripts/python_client.py "http://127.0.0.1:$port" "$model"
