#!/bin/sh
# sync-models.sh — the model-sync sidecar: copies every model version from object
# storage into Vigia's storage directory and publishes each version atomically.
#
# Layout, the same on both sides:  <root>/<model-name>/<version>/{model.json,weights.bin,…}
# A version is a positive decimal integer without leading zeros; versions are immutable
# (a new model is a new version number), so a version already present locally is never
# copied again.
#
# Atomic publication: a version is copied into <storage>/<name>/.incoming-<version>
# (the registry ignores every entry whose name starts with "."), verified, then renamed to
# <storage>/<name>/<version> with one rename(2) on the same filesystem. The registry thus
# never sees a half-copied version.
#
# Completeness: a remote version is considered only once its model.json exists
# (publishers upload it last; deploy/publish-model.sh does). After the copy, every file
# that model.json's "files" object lists must be present with that SHA-256 (the same
# checksum manifest the registry verifies). A version that fails — objects missing, a
# half-uploaded or altered file, a model.json that is not a complete JSON object — is
# logged ("version incomplete"), its copy is deleted unseen, and it is tried again on
# the next pass; it does not fail the pass, so one bad upload never holds back the
# versions that are complete.
#
# Environment (all but SYNC_SOURCE have defaults):
#   SYNC_SOURCE            rclone path of the models root, e.g. "bucket:vigia-models/models"
#                          (a local directory works too; used by deploy/test-model-sync.sh)
#   SYNC_STORAGE           local storage directory (default /var/lib/vigia/models)
#   SYNC_INTERVAL_SECONDS  seconds between passes (default 30)
#   SYNC_ONCE              "true": one pass, then exit with its status (default false)
#   SYNC_PRUNE             "true": remove local versions that left the bucket, but never a
#                          model's last version (default false)
#   RCLONE_*               rclone's own settings (RCLONE_CONFIG points at the Secret's file).
#                          The pass itself is the retry loop, so unless set otherwise each
#                          rclone call tries once (RCLONE_RETRIES=1), retries a request
#                          twice (RCLONE_LOW_LEVEL_RETRIES=2) and gives a connection 10 s
#                          (RCLONE_CONTIMEOUT=10s): an unreachable endpoint fails a pass in
#                          seconds instead of rclone's minutes of back-off.
# Model-level control files (<model>/labels.json, <model>/pin.json, <model>/rollout.json)
# follow the bucket too, as opaque files: copied to a dot-name and renamed over the old
# one when they differ, removed when they leave the bucket. Writing pin.json to the
# bucket is a rollback every replica applies. Other files in a model directory (Vigia's own
# rollout-abort.json, written when a guard stops a canary) are never copied over or removed.
# After the first complete pass it creates <storage>/.sync-ready (the sidecar's
# startupProbe checks it, so Vigia starts with the bucket's models already in place).
# A pass that cannot list the bucket (wrong credentials, unreachable endpoint, deleted
# bucket) or copy from it is logged, changes nothing local, and is retried.
set -eu

: "${SYNC_SOURCE:?SYNC_SOURCE must name the models root in object storage}"
storage=${SYNC_STORAGE:-/var/lib/vigia/models}
interval=${SYNC_INTERVAL_SECONDS:-30}
once=${SYNC_ONCE:-false}
prune=${SYNC_PRUNE:-false}
source_root=${SYNC_SOURCE%/}
export RCLONE_RETRIES="${RCLONE_RETRIES:-1}"
export RCLONE_LOW_LEVEL_RETRIES="${RCLONE_LOW_LEVEL_RETRIES:-2}"
export RCLONE_CONTIMEOUT="${RCLONE_CONTIMEOUT:-10s}"
control_files="labels.json pin.json rollout.json"

log() { printf '{"level":"%s","message":"%s","sidecar":"model-sync"%s}\n' "$1" "$2" "${3:-}" >&2; }

# A directory name that the registry accepts as a version.
is_version() {
    case $1 in
        '' | 0* | *[!0-9]*) return 1 ;;
        *) return 0 ;;
    esac
}

# A directory name that is a model name: not hidden, no slash (lsf --dirs-only adds one).
is_model_name() {
    case $1 in
        '' | .* | */*) return 1 ;;
        *) return 0 ;;
    esac
}

# Prints the checksum manifest of a version as sha256sum(1) lines ("<hex>  <file>"): the
# members of the top-level "files" object of MODEL_JSON. Fails (status 1, reason on
# stderr) unless the file is one complete JSON object whose "files" object maps plain file
# names to 64-digit hex strings. A small JSON scanner: strings (with escapes) are skipped
# whole, so a "files" key nested anywhere else is never taken for the manifest's.
manifest_checksums() { # model.json
    # JSON strings cannot hold a raw newline, so the scan goes line by line; the state
    # (depth, last token, current key) carries over. LC_ALL=C: bytes, whatever the locale.
    LC_ALL=C awk '
        function fail(reason) { print FILENAME ": " reason > "/dev/stderr"; failed = 1; exit 1 }
        BEGIN { depth = 0; closed = 0; in_files = 0; files_seen = 0; last = ""; key = "" }
        {
            line = $0; n = length(line); i = 1
            while (i <= n) {
                c = substr(line, i, 1)
                if (c == " " || c == "\t" || c == "\r") { i++; continue }
                if (closed) fail("text after the top-level object")
                if (c == "\"") {
                    j = i + 1; text = ""
                    while (j <= n) {
                        d = substr(line, j, 1)
                        if (d == "\\") { text = text d substr(line, j + 1, 1); j += 2; continue }
                        if (d == "\"") break
                        text = text d; j++
                    }
                    if (j > n) fail("unterminated string")
                    i = j + 1
                    if (in_files && depth == 2 && last == ":") {
                        if (text !~ /^[0-9a-f]+$/ || length(text) != 64) fail("files: \"" key "\" is not a SHA-256 hex digest")
                        if (key == "" || key ~ /[\/\\]/ || key ~ /^\./) fail("files: \"" key "\" is not a plain file name")
                        printf "%s  %s\n", text, key
                    }
                    value = text; last = "s"; continue
                }
                i++
                if (c == "{" || c == "[") {
                    if (depth == 0 && c != "{") fail("not a JSON object")
                    if (depth == 1 && c == "{" && last == ":" && key == "files") { in_files = 1; files_seen = 1 }
                    else if (in_files && depth == 2) fail("files: \"" key "\" is not a string")
                    stack[++depth] = c; last = c; continue
                }
                if (c == "}" || c == "]") {
                    if (depth == 0 || (c == "}") != (stack[depth] == "{")) fail("unbalanced brackets")
                    depth--; if (depth == 1) in_files = 0; if (depth == 0) closed = 1
                    last = c; continue
                }
                if (c == ":") {
                    if (last != "s") fail("a key is not a string")
                    if (depth == 1 || (in_files && depth == 2)) key = value
                    last = c; continue
                }
                if (c == ",") { last = c; continue }
                # A number, true, false or null.
                if (depth == 0) fail("not a JSON object")
                if (in_files && depth == 2) fail("files: \"" key "\" is not a string")
                while (i <= n && index("{}[]:,\" \t\r", substr(line, i, 1)) == 0) i++
                last = "v"
            }
        }
        END {
            if (failed) exit 1
            if (!closed) fail("incomplete JSON")
            if (!files_seen) fail("no \"files\" object")
        }
    ' "$1"
}

# Succeeds when DIR holds every file its model.json lists, each with its SHA-256.
version_is_complete() { # dir
    sums=$(manifest_checksums "$1/model.json") || return 1
    [ -z "$sums" ] && return 0
    (cd "$1" && printf '%s\n' "$sums" | sha256sum -c >/dev/null 2>&1)
}

publish_version() { # name version
    name=$1 version=$2
    target="$storage/$name/$version"
    staging="$storage/$name/.incoming-$version"
    rm -rf "$staging"
    mkdir -p "$staging"
    if ! rclone copy --checksum --no-traverse "$source_root/$name/$version" "$staging"; then
        rm -rf "$staging"
        log error "copy failed" ",\"model\":\"$name\",\"version\":$version"
        return 1
    fi
    # Verify the local copy against the bucket (size + hash where the backend has one).
    if ! rclone check --one-way "$source_root/$name/$version" "$staging" 2>/dev/null; then
        rm -rf "$staging"
        log error "copy differs from the bucket" ",\"model\":\"$name\",\"version\":$version"
        return 1
    fi
    if [ ! -f "$staging/model.json" ]; then
        rm -rf "$staging"
        log warning "model.json vanished during copy" ",\"model\":\"$name\",\"version\":$version"
        return 1
    fi
    if ! version_is_complete "$staging"; then
        rm -rf "$staging"
        log error "version incomplete" ",\"model\":\"$name\",\"version\":$version,\"detail\":\"a file model.json lists is missing or differs from its checksum, or model.json is not complete; retried next pass\""
        return 2
    fi
    if [ -e "$target" ]; then # someone else published it meanwhile: keep theirs
        rm -rf "$staging"
        return 0
    fi
    mv "$staging" "$target" # rename(2): staging and target share a directory
    log info "published" ",\"model\":\"$name\",\"version\":$version"
}

prune_model() { # name remote-versions
    name=$1 remote=$2
    [ -n "$remote" ] || return 0 # never prune a model to nothing
    for dir in "$storage/$name"/*; do
        [ -d "$dir" ] || continue
        version=${dir##*/}
        is_version "$version" || continue
        case " $remote " in *" $version "*) continue ;; esac
        # Rename out of sight first (atomic for the registry), then delete.
        mv "$dir" "$storage/$name/.removed-$version"
        rm -rf "$storage/$name/.removed-$version"
        log info "removed" ",\"model\":\"$name\",\"version\":$version"
    done
}

sync_control_files() { # name
    name=$1
    files=$(rclone lsf --files-only "$source_root/$name") || return 1
    for file in $control_files; do
        target="$storage/$name/$file"
        if printf '%s\n' "$files" | grep -qxF "$file"; then
            mkdir -p "$storage/$name"
            staging="$storage/$name/.incoming-$file"
            if ! rclone copyto "$source_root/$name/$file" "$staging"; then
                rm -f "$staging"
                log error "copy failed" ",\"model\":\"$name\",\"file\":\"$file\""
                return 1
            fi
            if cmp -s "$staging" "$target"; then
                rm -f "$staging"
            else
                mv "$staging" "$target" # rename(2): the registry reads the old or the new file
                log info "control file updated" ",\"model\":\"$name\",\"file\":\"$file\""
            fi
        elif [ -e "$target" ]; then
            rm -f "$target"
            log info "control file removed" ",\"model\":\"$name\",\"file\":\"$file\""
        fi
    done
}

sync_pass() {
    status=0
    names=$(rclone lsf --dirs-only "$source_root") || {
        log error "cannot list the bucket" ",\"source\":\"$source_root\""
        return 1
    }
    for entry in $names; do
        name=${entry%/}
        is_model_name "$name" || continue
        versions=$(rclone lsf --dirs-only "$source_root/$name") || { status=1; continue; }
        complete=""
        for ventry in $versions; do
            version=${ventry%/}
            is_version "$version" || continue
            # Only versions whose manifest has been uploaded (model.json goes last).
            if [ -z "$(rclone lsf --files-only --include model.json "$source_root/$name/$version")" ]; then
                continue
            fi
            complete="$complete $version"
            [ -d "$storage/$name/$version" ] && continue
            # 2: the version is incomplete (logged, retried next pass) — not a failed pass.
            publish_version "$name" "$version" || [ $? = 2 ] || status=1
        done
        if [ "$prune" = true ] && [ -d "$storage/$name" ]; then
            prune_model "$name" "$complete"
        fi
        # After the versions, so a pin.json naming a new version finds it published.
        sync_control_files "$name" || status=1
    done
    return $status
}

# PID 1 in its container: without a handler the kernel would ignore SIGTERM and the pod
# would wait out its whole grace period. The sleep runs in the background so the trap
# fires at once; a copy in progress finishes or dies with the pod (its staging
# directory is a dot-entry the registry never reads).
trap 'log info "stopping"; exit 0' TERM INT

mkdir -p "$storage"
while :; do
    if sync_pass; then
        [ -e "$storage/.sync-ready" ] || { : >"$storage/.sync-ready"; log info "first pass complete"; }
        [ "$once" = true ] && exit 0
    else
        [ "$once" = true ] && exit 1
        log warning "pass incomplete; retrying" ",\"interval_seconds\":$interval"
    fi
    sleep "$interval" &
    wait $! || true
done
