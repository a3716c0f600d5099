#!/usr/bin/env bash
# GET /console in a real headless browser: Debian's chromium and chromedriver driven by
# selenium (pinned, in the venv /opt/vigia-venvs/console). Serves a copy of the default model
# as version 1 on a loopback port, then checks that the page loads without browser console
# errors, shows the serving version, draws its charts (score histogram with bars after
# predictions; request rate, 5xx share and p99 latency after a reload), and, once version 2
# is published into the storage directory, shows 2 as serving after its own auto-refresh.
# Installs chromium, chromium-driver (apt) and selenium (pip) if missing; bounded by timeouts.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-18502}
venv=/opt/vigia-venvs/console
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "check-console: installing chromium chromium-driver (Debian)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }
fi
if ! "$venv/bin/python" -c "import selenium" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "selenium==4.27.1"
fi
storage=$(mktemp -d)
mkdir -p "$storage/prohibited-items"
cp -r models/prohibited-items/1 "$storage/prohibited-items/1"
. scripts/lib/serve.sh
serve_vigia "$port" VIGIA_STORAGE_PATH="$storage"
trap 'kill -TERM "$vigia_pid" 2>/dev/null; wait "$vigia_pid" 2>/dev/null; rm -rf "$work" "$storage"' EXIT
"$venv/bin/python" scripts/console_browser.py "http://127.0.0.1:$port" "$storage/prohibited-items"
