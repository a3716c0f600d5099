#!/bin/sh
# sync-models.sh — the model-sync sidecar: copies every model version from object
# storage into Vigia's storage directory and publishes each version atomically.
#
# Layout, the same on both sides:  <root>/<model-name>/<version>/{model.json,weights.bin}
# A version is a positive decimal integer without leading zeros; versions are immutable
# (a new model is a new version number), so a version already present locally is never
# copied again.
#
# Atomic publication: a version is copied into <storage>/<name>/.incoming-<version>
# (the registry ignores every entry whose name starts with "."), checked, then renamed to
# <storage>/<name>/<version> with one rename(2) on the same filesystem. The registry thus
# never sees a half-copied version.
#
# A remote version is complete only once its model.json exists: publishers upload
# model.json last (deploy/publish-model.sh does), and model.json lists the SHA-256 of
# every other file, which the registry verifies before serving.
#
# Environment (all but SYNC_SOURCE have defaults):
#   SYNC_SOURCE            rclone path of the models root, e.g. "bucket:vigia-models/models"
#                          (a local directory works too; used by deploy/test-model-sync.sh)
#   SYNC_STORAGE           local storage directory (default /var/lib/vigia/models)
#   SYNC_INTERVAL_SECONDS  seconds between passes (default 30)
#   SYNC_ONCE              "true": one pass, then exit with its status (default false)
#   SYNC_PRUNE             "true": remove local versions that left the bucket, but never a
#                          model's last version (default false)
#   RCLONE_*               rclone's own settings (RCLONE_CONFIG points at the Secret's file)
# Model-level control files (<model>/labels.json, <model>/pin.json) follow the bucket too:
# copied to a dot-name and renamed over the old one when they differ, removed when they
# leave the bucket. Writing pin.json to the bucket is a rollback every replica applies.
# After the first complete pass it creates <storage>/.sync-ready (the sidecar's
# startupProbe checks it, so Vigia starts with the bucket's models already in place).
set -eu

: "${SYNC_SOURCE:?SYNC_SOURCE must name the models root in object storage}"
storage=${SYNC_STORAGE:-/var/lib/vigia/models}
interval=${SYNC_INTERVAL_SECONDS:-30}
once=${SYNC_ONCE:-false}
prune=${SYNC_PRUNE:-false}
source_root=${SYNC_SOURCE%/}

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
    for file in labels.json pin.json; do
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
            publish_version "$name" "$version" || status=1
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
