#!/usr/bin/env bash
# shellcheck disable=SC2016  # bash -c bodies expand their own positional arguments
# test-model-sync-s3.sh — the model-sync sidecar (k8s/model-sync/sync-models.sh) and
# deploy/publish-model.sh against a real S3 API: moto's server (PyPI, pinned; venv
# $VENVS/moto, default /opt/vigia-venvs/moto) on 127.0.0.1 with IAM authentication on,
# rclone's s3 backend (remote "models", as in k8s/README.md), and a running Vigia (the
# built binary) that reads the storage directory the sidecar writes.
#   - publish-model uploads a version; one sidecar pass publishes it; Vigia serves it
#     (GET /v1/models/NAME), then version 2 the same way (hot swap);
#   - pin.json, labels.json and rollout.json travel from the bucket to Vigia;
#   - faults: wrong credentials, an unreachable endpoint, a half-uploaded version (objects
#     missing, a file cut short), a deleted bucket. Each is logged by the sidecar, leaves
#     no half-copied version (no dot-entry, no new version directory) and the serving
#     version keeps serving (its status and a real prediction).
# Starts and stops its own moto server and Vigia (by PID). Needs rclone (installed from
# Debian's packages when missing) and .build/debug/vigia (built when missing; VIGIA_BIN
# names another). Prints "N passed, N failed"; exits non-zero on a failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)
# shellcheck source=scripts/lib/venv.sh
. scripts/lib/venv.sh
venv moto "moto[server]==5.2.5" || { echo "model-sync-s3: cannot install moto"; exit 1; }
if ! command -v rclone >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone; } >/dev/null 2>&1 \
        || { echo "model-sync-s3: cannot install rclone"; exit 1; }
fi
bin=${VIGIA_BIN:-.build/debug/vigia}
[ -x "$bin" ] || swift build --product vigia || exit 1
if command -v busybox >/dev/null; then sidecar_sh=(busybox sh); else sidecar_sh=(sh); fi
sync_script=$repo/k8s/model-sync/sync-models.sh
publish=$repo/deploy/publish-model.sh
s3_port=${S3_PORT:-18610} vigia_port=${PORT:-18611}
endpoint=http://127.0.0.1:$s3_port
model=prohibited-items

tmp=$(mktemp -d)
moto_pid="" vigia_pid=""
stop() { # pid: SIGTERM, then wait for it (bounded), then SIGKILL
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
trap 'stop "$vigia_pid"; stop "$moto_pid"; rm -rf "$tmp"' EXIT

passed=0 failed=0
check() { # description command...
    local what=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok   $what"; else failed=$((failed + 1)); echo "FAIL $what"; fi
}

# moto with IAM authentication: the first three requests (create the user, its policy, its
# key) go unauthenticated; every later one needs a valid key and signature.
INITIAL_NO_AUTH_ACTION_COUNT=3 "$venvs/moto/bin/moto_server" -H 127.0.0.1 -p "$s3_port" >"$tmp/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 60); do curl -sf "$endpoint/moto-api/" >/dev/null && break; sleep 0.5; done
read -r key_id key_secret < <("$venvs/moto/bin/python" - "$endpoint" <<'EOF'
import json, sys
import boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="model-sync")
iam.put_user_policy(UserName="model-sync", PolicyName="models", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="model-sync")["AccessKey"]
print(key["AccessKeyId"], key["SecretAccessKey"])
EOF
)
[ -n "${key_secret:-}" ] || { echo "model-sync-s3: moto did not start or IAM setup failed"; cat "$tmp/moto.log"; exit 1; }

# rclone's remote "models" from the environment, as the sidecar's rclone.conf would hold it.
# AWS_CA_BUNDLE (set on some machines for an HTTPS proxy) makes rclone's S3 client fail
# before any request; the endpoint here is plain HTTP on loopback.
unset AWS_CA_BUNDLE
export RCLONE_CONFIG=$tmp/rclone.conf
: >"$RCLONE_CONFIG"
export RCLONE_CONFIG_MODELS_TYPE=s3 RCLONE_CONFIG_MODELS_PROVIDER=Other RCLONE_CONFIG_MODELS_REGION=us-east-1 \
    RCLONE_CONFIG_MODELS_ENDPOINT=$endpoint RCLONE_CONFIG_MODELS_FORCE_PATH_STYLE=true \
    RCLONE_CONFIG_MODELS_ACCESS_KEY_ID=$key_id RCLONE_CONFIG_MODELS_SECRET_ACCESS_KEY=$key_secret
bucket=models:vigia-models
source=$bucket/models
storage=$tmp/storage
log=$tmp/sync.log

sync_once() { SYNC_SOURCE=$source SYNC_STORAGE=$storage SYNC_ONCE=true SYNC_PRUNE=true \
    timeout 120 "${sidecar_sh[@]}" "$sync_script" 2>>"$log"; }
no_dot_entries() { [ -z "$(find "$storage" -mindepth 2 -name '.*')" ]; }
# The versions in storage, as "1 2 …".
local_versions() { find "$storage/$model" -mindepth 1 -maxdepth 1 -type d -name '[1-9]*' -printf '%f\n' | sort -n | xargs; }
status() { curl -sf "http://127.0.0.1:$vigia_port/v1/models/$model"; }
field() { status | python3 -c "import json,sys; v=json.load(sys.stdin)$1; print(json.dumps(v, sort_keys=True))"; }
# Waits (bounded; the registry rescans storage) until field EXPR prints EXPECTED.
field_becomes() { # expr expected
    for _ in $(seq 1 60); do [ "$(field "$1" 2>/dev/null)" = "$2" ] && return 0; sleep 0.5; done
    echo "     $1 is $(field "$1" 2>/dev/null), expected $2" >&2
    return 1
}
# The serving version answers a real prediction (the model's own stored example).
predicts_with() { # version
    local body
    body=$(python3 -c "import json; print(json.dumps({'instances': [json.load(open('$repo/models/$model/1/model.json'))['example']['input']]}))")
    curl -sf -X POST "http://127.0.0.1:$vigia_port/v1/models/$model:predict" -H 'Content-Type: application/json' \
        -d "$body" | python3 -c "import json,sys; b=json.load(sys.stdin); sys.exit(0 if b['model_version'] == $1 else 1)"
}
# A fault pass: the pass fails (exit status) or logs MESSAGE, storage is unchanged, no
# dot-entry, and Vigia still serves VERSION.
fault_leaves_serving() { # expected-message version [rclone's reason, a grep -E pattern]
    local before after
    before=$(find "$storage" -path '*/.sync-ready' -prune -o -print | sort; find "$storage" -type f -exec sha256sum {} + | sort)
    : >"$log"
    sync_once
    local code=$?
    after=$(find "$storage" -path '*/.sync-ready' -prune -o -print | sort; find "$storage" -type f -exec sha256sum {} + | sort)
    grep -q "\"message\":\"$1\"" "$log" || { echo "     no \"$1\" in the sidecar log (exit $code):" >&2; cat "$log" >&2; return 1; }
    echo "     exit $code, logged: $(grep -m1 "\"message\":\"$1\"" "$log")"
    if [ -n "${3:-}" ]; then
        grep -qE "$3" "$log" || { echo "     rclone's reason /$3/ is not in the log:" >&2; cat "$log" >&2; return 1; }
        echo "     rclone: $(grep -m1 -oE "$3" "$log")"
    fi
    [ "$before" = "$after" ] || { echo "     the storage directory changed" >&2; return 1; }
    no_dot_entries || { echo "     a dot-entry was left behind" >&2; return 1; }
    field_becomes "['serving_version']" "$2" && predicts_with "$2"
}
# Version 2: the default model's files, its manifest numbered 2 (the registry checks that a
# manifest's version matches its directory; the checksums cover weights.bin and dataset.json).
mkdir -p "$tmp/train/$model"
cp -r "models/$model/1" "$tmp/train/$model/1"
cp -r "models/$model/1" "$tmp/train/$model/2"
sed -i 's/^  "version" : 1$/  "version" : 2/' "$tmp/train/$model/2/model.json"
grep -q '^  "version" : 2$' "$tmp/train/$model/2/model.json" || { echo "model-sync-s3: cannot number version 2"; exit 1; }

check "the bucket is created with the model-sync key" rclone mkdir "$bucket"
check "publish-model uploads version 1 to S3" sh "$publish" "$tmp/train/$model/1" "$source"
check "publish-model refuses to overwrite version 1 on S3" \
    bash -c '! sh "$0" "$1" "$2" 2>/dev/null' "$publish" "$tmp/train/$model/1" "$source"
check "the first pass from S3 succeeds" sync_once
check "version 1 is published byte for byte" diff -r "$storage/$model/1" "$tmp/train/$model/1"
check "no dot-entry is left behind" no_dot_entries

VIGIA_STORAGE_PATH=$storage VIGIA_STORAGE_RESCAN_INTERVAL_SECONDS=0.5 \
    "$bin" serve --host 127.0.0.1 --port "$vigia_port" --log-level warning 2>"$tmp/vigia.log" &
vigia_pid=$!
vigia_ready() { for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$vigia_port/health/ready" >/dev/null && return 0; sleep 0.5; done; return 1; }
check "Vigia starts on the synced storage" vigia_ready
check "Vigia serves version 1 from S3" field_becomes "['serving_version']" 1
check "version 1 answers a prediction" predicts_with 1

check "publish-model uploads version 2 to S3" sh "$publish" "$tmp/train/$model/2" "$source"
check "a pass publishes version 2" sync_once
check "Vigia swaps to version 2" field_becomes "['serving_version']" 2
check "version 2 answers a prediction" predicts_with 2

# Control files, written to the bucket as an operator would (rclone rcat).
echo '{"version": 1}' | rclone rcat "$source/$model/pin.json"
echo '{"stable": 2}' | rclone rcat "$source/$model/labels.json"
echo '{"shadow": {"version": 1}}' | rclone rcat "$source/$model/rollout.json"
check "a pass with pin.json, labels.json and rollout.json succeeds" sync_once
check "pin.json from S3: Vigia serves version 1" field_becomes "['serving_version']" 1
check "pin.json from S3: storage_pin is 1" field_becomes "['storage_pin']" 1
check "labels.json from S3: stable is version 2" field_becomes "['labels']" '{"stable": 2}'
check "rollout.json from S3: version 1 is the shadow" field_becomes "['rollout']['shadow']['version']" 1
rclone deletefile "$source/$model/pin.json"
rclone deletefile "$source/$model/rollout.json"
check "a pass after pin.json and rollout.json left S3 succeeds" sync_once
check "pin.json gone from S3: Vigia serves version 2 again" field_becomes "['serving_version']" 2
check "rollout.json gone from S3: no rollout" field_becomes "['rollout']" null

# Faults. Version 3 is uploaded only in part, then other faults hit the sidecar.
mkdir -p "$tmp/train/$model/3"
cp "$tmp/train/$model/2/"* "$tmp/train/$model/3/"
sed -i 's/^  "version" : 2$/  "version" : 3/' "$tmp/train/$model/3/model.json"
rclone copyto "$tmp/train/$model/3/model.json" "$source/$model/3/model.json"
rclone copyto "$tmp/train/$model/3/dataset.json" "$source/$model/3/dataset.json"
check "half-uploaded version (weights.bin missing): logged, not visible, 2 serves" \
    fault_leaves_serving "version incomplete" 2
head -c 100000 "$tmp/train/$model/3/weights.bin" | rclone rcat "$source/$model/3/weights.bin"
check "half-uploaded version (weights.bin cut short): logged, not visible, 2 serves" \
    fault_leaves_serving "version incomplete" 2
check "an incomplete version does not fail the pass" sync_once

wrong_credentials() { RCLONE_CONFIG_MODELS_SECRET_ACCESS_KEY=wrong-secret fault_leaves_serving "cannot list the bucket" 2 "SignatureDoesNotMatch"; }
check "wrong credentials: logged, nothing changes, 2 serves" wrong_credentials
wrong_key() { RCLONE_CONFIG_MODELS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000000 fault_leaves_serving "cannot list the bucket" 2 "InvalidAccessKeyId"; }
check "an unknown access key: logged, nothing changes, 2 serves" wrong_key
wrong_credentials_fail_the_pass() { ! RCLONE_CONFIG_MODELS_SECRET_ACCESS_KEY=wrong-secret sync_once; }
check "wrong credentials fail the pass (exit status)" wrong_credentials_fail_the_pass
# Port 1 on loopback: nothing listens, the connection is refused at once.
unreachable() { RCLONE_CONFIG_MODELS_ENDPOINT=http://127.0.0.1:1 fault_leaves_serving "cannot list the bucket" 2 "connection refused"; }
check "unreachable endpoint: logged, nothing changes, 2 serves" unreachable

# The rest of the version (weights.bin whole, the report and the model card).
rclone copy "$tmp/train/$model/3" "$source/$model/3"
check "once the upload completes, a pass publishes version 3" sync_once
check "Vigia swaps to version 3" field_becomes "['serving_version']" 3
check "version 3 is published byte for byte" diff -r "$storage/$model/3" "$tmp/train/$model/3"

check "the bucket is deleted (rclone purge)" rclone purge "$bucket"
check "deleted bucket: logged, nothing removed (SYNC_PRUNE on), 3 serves" \
    fault_leaves_serving "cannot list the bucket" 3 "directory not found|NoSuchBucket"
check "after every fault, versions 1 to 3 are in storage" test "$(local_versions)" = "1 2 3"

echo "model-sync-s3: $passed passed, $failed failed"
[ "$failed" = 0 ]
