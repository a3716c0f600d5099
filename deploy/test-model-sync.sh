#!/usr/bin/env bash
# shellcheck disable=SC2016  # bash -c bodies expand their own positional arguments
# test-model-sync.sh — runs the sidecar's real script (k8s/model-sync/sync-models.sh) and
# deploy/publish-model.sh with real rclone against a local directory standing in for the
# bucket (rclone's local backend), and checks what the registry would see:
#   - a published version appears under its number, complete, and no dot-directory stays;
#   - a version whose model.json is not uploaded yet is not published;
#   - a version missing a file model.json lists, or with a file that differs from its
#     checksum, or with a cut-short model.json, is not published (nor does it fail the pass);
#   - pin.json, labels.json and rollout.json follow the bucket; a file the sidecar does not
#     manage (rollout-abort.json, written by Vigia when a guard stops a canary) stays;
#   - versions are immutable (publish refuses an existing number; sync never rewrites);
#   - dot-entries and non-numeric names in the bucket are ignored;
#   - SYNC_PRUNE removes a version that left the bucket, but never a model's last one;
#   - a bucket that cannot be listed is an error, and nothing local is removed;
#   - the loop (as the sidecar runs it) exits 0 at once on SIGTERM.
# Needs rclone (Debian package). Prints "N passed, N failed"; exits non-zero on a failure.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
sync_script=$repo/k8s/model-sync/sync-models.sh
# The sidecar image (rclone's, Alpine) runs the script with BusyBox's sh: use it when
# installed (scripts/check-deploy.sh installs it), else the system's POSIX sh.
if command -v busybox >/dev/null; then sidecar_sh=(busybox sh); else sidecar_sh=(sh); fi
echo "model-sync: running the script with ${sidecar_sh[*]}"
publish=$repo/deploy/publish-model.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export RCLONE_CONFIG=$tmp/rclone.conf # empty: the local backend needs no remote
: >"$RCLONE_CONFIG"

passed=0 failed=0
check() { # description command...
    local what=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok   $what"; else failed=$((failed + 1)); echo "FAIL $what"; fi
}
sync_once() { SYNC_SOURCE=$bucket SYNC_STORAGE=$storage SYNC_ONCE=true SYNC_PRUNE=${PRUNE:-false} \
    "${sidecar_sh[@]}" "$sync_script" 2>>"$tmp/sync.log"; }
sync_prune_once() { PRUNE=true sync_once; }
no_dot_dirs() { [ -z "$(find "$storage" -mindepth 2 -name '.*')" ]; }

bucket=$tmp/bucket storage=$tmp/storage
mkdir -p "$bucket" "$tmp/train/prohibited-items/1" "$tmp/train/prohibited-items/2"
# Artifacts: random weights and a manifest listing their SHA-256 (the sidecar checks a
# version's files against it; the registry validates the rest).
make_version() { # dir version bytes
    head -c "$3" /dev/urandom >"$1/weights.bin"
    printf '{"name": "prohibited-items", "version": %s, "files": {"weights.bin": "%s"}}\n' \
        "$2" "$(sha256sum "$1/weights.bin" | cut -d' ' -f1)" >"$1/model.json"
}
make_version "$tmp/train/prohibited-items/1" 1 300000
make_version "$tmp/train/prohibited-items/2" 2 1000

check "publish-model uploads version 1" sh "$publish" "$tmp/train/prohibited-items/1" "$bucket"
check "publish-model refuses to overwrite version 1" \
    bash -c '! sh "$0" "$1" "$2" 2>/dev/null' "$publish" "$tmp/train/prohibited-items/1" "$bucket"
# A half-uploaded version 2: weights there, manifest not yet.
mkdir -p "$bucket/prohibited-items/2" "$bucket/prohibited-items/.staging-9" "$bucket/prohibited-items/latest" "$bucket/.trash"
cp "$tmp/train/prohibited-items/2/weights.bin" "$bucket/prohibited-items/2/"
echo '{}' >"$bucket/prohibited-items/.staging-9/model.json"
echo '{}' >"$bucket/prohibited-items/latest/model.json"

check "first pass succeeds" sync_once
check "version 1 is published byte for byte" \
    cmp -s "$storage/prohibited-items/1/weights.bin" "$tmp/train/prohibited-items/1/weights.bin"
check "version 1 has its manifest" test -f "$storage/prohibited-items/1/model.json"
check "version 2 without model.json is not published" test ! -e "$storage/prohibited-items/2"
check "no dot-directory is left behind" no_dot_dirs
check "the ready marker exists after the first pass" test -e "$storage/.sync-ready"
check "dot-entries and non-numeric names are ignored" \
    bash -c '[ "$(ls -A "$0/prohibited-items")" = 1 ] && [ ! -e "$0/.trash" ]' "$storage"

# The manifest of version 2 arrives: the next pass publishes it.
cp "$tmp/train/prohibited-items/2/model.json" "$bucket/prohibited-items/2/"
inode_before=$(stat -c %i "$storage/prohibited-items/1/weights.bin")
check "second pass succeeds" sync_once
check "version 2 is published once its manifest is uploaded" \
    cmp -s "$storage/prohibited-items/2/weights.bin" "$tmp/train/prohibited-items/2/weights.bin"
check "version 1 is not rewritten" test "$(stat -c %i "$storage/prohibited-items/1/weights.bin")" = "$inode_before"

# A leftover staging directory from a killed pass is replaced, not published.
mkdir -p "$bucket/prohibited-items/3" "$storage/prohibited-items/.incoming-3"
echo junk >"$storage/prohibited-items/.incoming-3/weights.bin"
make_version "$bucket/prohibited-items/3" 3 2000
check "a pass after an interrupted one succeeds" sync_once
check "the interrupted copy is redone from the bucket" \
    cmp -s "$storage/prohibited-items/3/weights.bin" "$bucket/prohibited-items/3/weights.bin"
check "no dot-directory is left behind after recovery" no_dot_dirs

# Completeness against the manifest: a version whose model.json is uploaded but a file it
# lists is missing, differs from its checksum, or whose model.json is cut short, is never
# published, does not fail the pass, and is published once the bucket holds it whole.
mkdir -p "$bucket/prohibited-items/4" "$tmp/train/prohibited-items/4"
make_version "$tmp/train/prohibited-items/4" 4 5000
cp "$tmp/train/prohibited-items/4/model.json" "$bucket/prohibited-items/4/"
check "a pass with a version missing a listed file succeeds" sync_once
check "a version missing a listed file is not published" test ! -e "$storage/prohibited-items/4"
check "the missing file is logged as an incomplete version" grep -q '"message":"version incomplete".*"version":4' "$tmp/sync.log"
head -c 2500 "$tmp/train/prohibited-items/4/weights.bin" >"$bucket/prohibited-items/4/weights.bin"
check "a pass with a half-uploaded file succeeds" sync_once
check "a version with a half-uploaded file is not published" test ! -e "$storage/prohibited-items/4"
cp "$tmp/train/prohibited-items/4/weights.bin" "$bucket/prohibited-items/4/"
head -c 40 "$tmp/train/prohibited-items/4/model.json" >"$bucket/prohibited-items/4/model.json"
check "a pass with a cut-short model.json succeeds" sync_once
check "a version with a cut-short model.json is not published" test ! -e "$storage/prohibited-items/4"
check "no dot-directory is left behind by incomplete versions" no_dot_dirs
cp "$tmp/train/prohibited-items/4/model.json" "$bucket/prohibited-items/4/"
check "a pass after the upload completed succeeds" sync_once
check "the completed version is published byte for byte" \
    cmp -s "$storage/prohibited-items/4/weights.bin" "$tmp/train/prohibited-items/4/weights.bin"

# Control files: pin.json and labels.json follow the bucket (renamed into place, removed
# when they leave it); the registry never sees a partial file.
echo '{"version": 2}' >"$bucket/prohibited-items/pin.json"
echo '{"stable": 3}' >"$bucket/prohibited-items/labels.json"
echo '{"canary": {"version": 3, "weight": 0.1}}' >"$bucket/prohibited-items/rollout.json"
check "a pass with control files succeeds" sync_once
check "pin.json is copied" cmp -s "$storage/prohibited-items/pin.json" "$bucket/prohibited-items/pin.json"
check "labels.json is copied" cmp -s "$storage/prohibited-items/labels.json" "$bucket/prohibited-items/labels.json"
check "rollout.json is copied" cmp -s "$storage/prohibited-items/rollout.json" "$bucket/prohibited-items/rollout.json"
pin_inode=$(stat -c %i "$storage/prohibited-items/pin.json")
pin_unchanged() { sync_once && [ "$(stat -c %i "$storage/prohibited-items/pin.json")" = "$pin_inode" ]; }
check "an unchanged control file is left alone" pin_unchanged
echo '{"version": 3}' >"$bucket/prohibited-items/pin.json"
rm "$bucket/prohibited-items/labels.json" "$bucket/prohibited-items/rollout.json"
# Written by Vigia next to rollout.json, never in the bucket: the sidecar must leave it alone.
echo '{"at":"2026-12-04T16:30:00Z","reason":"canary: psi","rollout":{"canary":{"version":3,"weight":0.1},"guards":{"min_samples":1000}}}' \
    >"$storage/prohibited-items/rollout-abort.json"
check "a pass after control files changed succeeds" sync_once
check "a rollout-abort.json the bucket does not have is left alone" test -s "$storage/prohibited-items/rollout-abort.json"
check "a rollout.json gone from the bucket is removed" test ! -e "$storage/prohibited-items/rollout.json"
check "a changed pin.json replaces the old one" grep -q '"version": 3' "$storage/prohibited-items/pin.json"
check "a labels.json gone from the bucket is removed" test ! -e "$storage/prohibited-items/labels.json"
check "no dot-entry is left behind by control files" no_dot_dirs
rm "$bucket/prohibited-items/pin.json"
check "a pass after pin.json left the bucket succeeds" sync_once
check "pin.json gone from the bucket is removed" test ! -e "$storage/prohibited-items/pin.json"

# Pruning: version 1 leaves the bucket.
rm -rf "$bucket/prohibited-items/1"
check "a pass without SYNC_PRUNE succeeds" sync_once
check "without SYNC_PRUNE version 1 stays local" test -d "$storage/prohibited-items/1"
check "a pass with SYNC_PRUNE succeeds" sync_prune_once
check "SYNC_PRUNE leaves rollout-abort.json alone" test -s "$storage/prohibited-items/rollout-abort.json"
check "with SYNC_PRUNE version 1 is removed" test ! -e "$storage/prohibited-items/1"
check "with SYNC_PRUNE versions 2 to 4 stay" \
    test -d "$storage/prohibited-items/2" -a -d "$storage/prohibited-items/3" -a -d "$storage/prohibited-items/4"
rm -rf "$bucket/prohibited-items/2" "$bucket/prohibited-items/3" "$bucket/prohibited-items/4"
check "a pass over a model with no complete version succeeds" sync_prune_once
check "SYNC_PRUNE never prunes a model to nothing" test -d "$storage/prohibited-items/3"

# An unreachable bucket: the pass fails and nothing local changes.
before=$(find "$storage" | sort)
unlistable_fails() { ! bucket=$tmp/does-not-exist PRUNE=true sync_once; }
check "an unlistable bucket fails the pass" unlistable_fails
check "an unlistable bucket removes nothing" test "$(find "$storage" | sort)" = "$before"

# As the sidecar: a long interval, then SIGTERM between passes must end it at once with 0.
stops_on_sigterm() {
    SYNC_SOURCE=$bucket SYNC_STORAGE=$tmp/storage-loop SYNC_INTERVAL_SECONDS=300 \
        "${sidecar_sh[@]}" "$sync_script" 2>>"$tmp/sync.log" &
    local pid=$! deadline=$((SECONDS + 20))
    until [ -e "$tmp/storage-loop/.sync-ready" ]; do
        [ $SECONDS -lt $deadline ] || { kill -KILL $pid; return 1; }
        sleep 0.1
    done
    kill -TERM $pid
    deadline=$((SECONDS + 5))
    while kill -0 $pid 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { kill -KILL $pid; return 1; }
        sleep 0.1
    done
    wait $pid
}
check "the sidecar loop exits 0 at once on SIGTERM" stops_on_sigterm

echo "model-sync: $passed passed, $failed failed"
[ "$failed" = 0 ]
