#!/bin/sh
# publish-model.sh — upload one trained model version to object storage so that the
# model-sync sidecar of every replica picks it up.
#
#   deploy/publish-model.sh LOCAL_VERSION_DIR DEST
#     LOCAL_VERSION_DIR  e.g. models/prohibited-items/3 (made by `vigia train`; check it
#                        first with `vigia validate`)
#     DEST               rclone path of the models root, e.g. bucket:vigia-models/models
#
# The version lands at DEST/<model-name>/<version>/. model.json is uploaded last: the
# sidecar treats a version as complete only once its model.json exists, and model.json
# lists the SHA-256 of every other file, which the registry verifies before serving.
# Versions are immutable: publishing a version number that already exists is refused.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 LOCAL_VERSION_DIR DEST" >&2; exit 2; }
src=${1%/}
dest=${2%/}
version=${src##*/}
name_dir=${src%/*}
name=${name_dir##*/}

case $version in '' | 0* | *[!0-9]*) echo "$src: the last path component must be a version number" >&2; exit 2 ;; esac
[ -f "$src/model.json" ] || { echo "$src/model.json: not found" >&2; exit 2; }
if [ -n "$(rclone lsf --include model.json "$dest/$name/$version" 2>/dev/null)" ]; then
    echo "$dest/$name/$version already exists; versions are immutable: train a new version" >&2
    exit 1
fi

rclone copy --checksum --exclude model.json --exclude '.*' "$src" "$dest/$name/$version"
rclone copy --checksum --include model.json "$src" "$dest/$name/$version"
echo "published $name version $version to $dest/$name/$version" >&2
