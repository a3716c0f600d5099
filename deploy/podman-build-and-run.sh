#!/usr/bin/env bash
# Build the Vigia image with podman on a Debian 12 machine that reaches no image registry,
# run it, and check the contract a container orchestrator relies on:
#   1. base images: two debootstrap'd bookworm root filesystems imported into podman
#      (runtime: minbase; build: minbase + the C toolchain and libraries Swift needs);
#   2. build: the Dockerfile as is, with the host's Swift toolchain (/opt/swift) and
#      package mirror (/opt/swift-packages + the git `insteadOf` rules in /etc/gitconfig)
#      bind-mounted read-only into the build stage;
#   3. run: read-only root filesystem, a tmpfs /tmp, all capabilities dropped,
#      no-new-privileges, host network (podman here has no other network);
#   4. wait for GET /health/ready = 200, POST a listing, check the prediction;
#   5. SIGTERM the container and require exit code 0 within the drain grace;
#   then again with the models on a mounted volume, filled by the model-sync sidecar's
#   script (rclone against a local directory as the bucket), publishing a second version
#   while the container runs and waiting until it serves that version (hot swap).
# Usage: deploy/podman-build-and-run.sh   (as root; installs podman, buildah, runc,
#        debootstrap from Debian if missing). Env: VIGIA_PODMAN_PORT (default 18080),
#        VIGIA_PODMAN_WORK (default /var/tmp/vigia-podman: rootfs cache), KEEP_IMAGE=1.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=${VIGIA_PODMAN_WORK:-/var/tmp/vigia-podman}
port=${VIGIA_PODMAN_PORT:-18080}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
runtime_base=localhost/vigia-base-runtime:bookworm
build_base=localhost/vigia-base-build:bookworm
image=localhost/vigia:dev
container=vigia-podman-check
started=$(date +%s)

log() { printf '[podman-check %3ss] %s\n' "$(( $(date +%s) - started ))" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and rootful podman)"
[ -x /opt/swift/usr/bin/swift ] || die "no Swift toolchain at /opt/swift"
compgen -G "$repo/models/*/*/model.json" >/dev/null \
    || die "no model under $repo/models (the image embeds the default model: train one with vigia train)"

need=()
for tool in podman buildah runc debootstrap curl; do command -v "$tool" >/dev/null || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Lowered limits: podman asks runc for more open files than this sandbox's hard limit
# (20000 here), which fails with "error setting rlimits ... operation not permitted".
nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] || [ "$nofile" -gt 16384 ] && nofile=16384
podman_opts=(--runtime runc --cgroup-manager cgroupfs --events-backend file)
limits=(--ulimit "nofile=$nofile:$nofile" --ulimit nproc=4096:4096)

# --- 1. base images --------------------------------------------------------------------
# Packages the host's toolchain needs to compile and link (ldd of swift-build/-frontend,
# plus libc/libstdc++ headers, a linker, and git for package resolution).
build_packages=libssl-dev,binutils,libc6-dev,libgcc-12-dev,libstdc++-12-dev,zlib1g-dev,git,ca-certificates,pkg-config,libcurl4,libxml2,libedit2,libsqlite3-0,libncurses6,libkeyutils1,libcom-err2,tzdata

make_base() { # name tag include
    local name=$1 tag=$2 include=${3:-}
    if podman "${podman_opts[@]}" image exists "$tag"; then log "base $tag exists"; return; fi
    local root="$work/rootfs-$name"
    if [ ! -x "$root/bin/sh" ] || [ ! -f "$root/.complete" ]; then
        rm -rf "$root"; mkdir -p "$work"
        log "debootstrap bookworm minbase → $root ${include:+(+ $include)}"
        debootstrap --variant=minbase ${include:+--include="$include"} bookworm "$root" "$mirror" \
            >"$work/debootstrap-$name.log" 2>&1 || { tail -20 "$work/debootstrap-$name.log"; die "debootstrap $name"; }
        rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
        touch "$root/.complete"
    fi
    log "importing $root as $tag"
    tar --exclude=./.complete -C "$root" -c . | podman "${podman_opts[@]}" import - "$tag" >/dev/null 2>&1
}
make_base runtime "$runtime_base" libssl3
make_base build "$build_base" "$build_packages"

# --- 2. build --------------------------------------------------------------------------
log "building $image (release; first build takes several minutes on 2 cores)"
build_started=$(date +%s)
mounts=(--volume /opt/swift:/opt/swift:ro)
[ -d /opt/swift-packages ] && mounts+=(--volume /opt/swift-packages:/opt/swift-packages:ro)
[ -f /etc/gitconfig ] && mounts+=(--volume /etc/gitconfig:/etc/gitconfig:ro)
podman "${podman_opts[@]}" build --network host --layers \
    "${limits[@]}" \
    --build-arg SWIFT_IMAGE="$build_base" --build-arg RUNTIME_IMAGE="$runtime_base" \
    "${mounts[@]}" --tag "$image" --file "$repo/Dockerfile" "$repo" >"$work/build.log" 2>&1 \
    || { tail -40 "$work/build.log"; die "podman build (log: $work/build.log)"; }
log "built in $(( $(date +%s) - build_started ))s; image size $(podman "${podman_opts[@]}" image inspect --format '{{.Size}}' "$image") bytes"

# What the binary still links dynamically (must all resolve in the runtime base).
podman "${podman_opts[@]}" run --rm --network host "${limits[@]}" --entrypoint /usr/bin/ldd "$image" /usr/local/bin/vigia \
    | tee "$work/ldd.txt" >&2
! grep -q "not found" "$work/ldd.txt" || die "unresolved shared libraries in the runtime image"

# --- 3–5. run, ready, predict, SIGTERM ---------------------------------------------------
base="http://127.0.0.1:$port"
listing='{"instances":[{"id":"1","site_id":"MLB","title":"Pistola de cola quente 40w","category_id":"MLB1234","price_usd":12.5,"seller_age_days":900,"seller_sales":10,"seller_reputation":"gold"}]}'
cleanup() {
    podman "${podman_opts[@]}" logs "$container" >"$work/container.log" 2>&1 || true
    podman "${podman_opts[@]}" rm -f "$container" >/dev/null 2>&1 || true
    [ "${KEEP_IMAGE:-1}" = 1 ] || podman "${podman_opts[@]}" rmi "$image" >/dev/null 2>&1 || true
}
trap cleanup EXIT

start_container() { # extra podman-run arguments...
    podman "${podman_opts[@]}" rm -f "$container" >/dev/null 2>&1 || true
    log "starting $container on 127.0.0.1:$port (read-only rootfs, cap-drop ALL) $*"
    podman "${podman_opts[@]}" run -d --name "$container" --network host "${limits[@]}" \
        --read-only --tmpfs /tmp:rw,size=16m,mode=1777 --cap-drop ALL --security-opt no-new-privileges \
        -e VIGIA_SERVER_HOST=127.0.0.1 -e VIGIA_SERVER_PORT="$port" "$@" \
        "$image" >/dev/null
    local user
    user=$(podman "${podman_opts[@]}" inspect --format '{{.Config.User}}' "$container")
    case ${user%%:*} in '' | 0 | root) die "container runs as root ($user)" ;; esac
    local deadline=$(( $(date +%s) + 60 ))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health/ready" || true)" = 200 ]; do
        [ "$(podman "${podman_opts[@]}" inspect --format '{{.State.Running}}' "$container")" = true ] \
            || { podman "${podman_opts[@]}" logs "$container" | tail -20; die "container exited before ready"; }
        [ "$(date +%s)" -lt "$deadline" ] || { podman "${podman_opts[@]}" logs "$container" | tail -20; die "not ready within 60s"; }
        sleep 0.5
    done
    log "ready as user $user: $(curl -s "$base/health/ready")"
}

predict() { # → sets body; requires 200 with predictions
    local response status
    response=$(curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' \
        --data "$listing" "$base/v1/models/prohibited-items:predict")
    status=${response##*$'\n'}; body=${response%$'\n'*}
    [ "$status" = 200 ] || die "predict returned $status: $body"
    case $body in *'"predictions"'*'"score"'*) ;; *) die "predict body has no predictions/score: $body" ;; esac
}

stop_container() { # SIGTERM → exit 0
    log "sending SIGTERM"
    local stop_started exit_code
    stop_started=$(date +%s)
    podman "${podman_opts[@]}" kill --signal TERM "$container" >/dev/null
    exit_code=$(timeout 30 podman "${podman_opts[@]}" wait "$container") || die "container did not exit within 30s of SIGTERM"
    log "exited with $exit_code after $(( $(date +%s) - stop_started ))s"
    podman "${podman_opts[@]}" logs "$container" 2>&1 | tail -3 >&2
    [ "$exit_code" = 0 ] || die "exit code $exit_code after SIGTERM"
}

# (a) The default model embedded in the image.
start_container
predict
log "predict (embedded model) → $body"
stop_container

# (b) Models from a mounted volume, filled by the sidecar's own script (rclone, local
# "bucket"), and a new version published while the container runs: it must hot-swap.
command -v rclone >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone >/dev/null
volume_test=$work/volume-test
rm -rf "$volume_test"; mkdir -p "$volume_test/bucket" "$volume_test/volume" "$volume_test/train"
export RCLONE_CONFIG=$volume_test/rclone.conf; : >"$RCLONE_CONFIG"
model_dir=$(dirname "$(compgen -G "$repo/models/prohibited-items/*/model.json" | sort -V | tail -1)")
v1=$(basename "$model_dir") v2=$(( $(basename "$model_dir") + 1 ))
cp -a "$model_dir" "$volume_test/train/$v1"
# Version v2: the same artifact under the next number (model.json's checksums cover the
# other files, which are unchanged; its own "version" must match the directory).
cp -a "$model_dir" "$volume_test/train/$v2"
python3 - "$volume_test/train/$v2/model.json" "$v2" <<'PY'
import json, sys
path, version = sys.argv[1], int(sys.argv[2])
manifest = json.load(open(path))
manifest["version"] = version
json.dump(manifest, open(path, "w"))
PY
mkdir -p "$volume_test/train/prohibited-items"
mv "$volume_test/train/$v1" "$volume_test/train/$v2" "$volume_test/train/prohibited-items/"
sync_once() {
    SYNC_SOURCE="$volume_test/bucket" SYNC_STORAGE="$volume_test/volume" SYNC_ONCE=true \
        sh "$repo/k8s/model-sync/sync-models.sh" 2>>"$volume_test/sync.log"
}
sh "$repo/deploy/publish-model.sh" "$volume_test/train/prohibited-items/$v1" "$volume_test/bucket" 2>/dev/null
sync_once || die "first sync failed ($volume_test/sync.log)"
chmod -R a+rX "$volume_test/volume"
start_container --volume "$volume_test/volume:/var/lib/vigia/models:ro"
predict
case $body in *"\"model_version\":$v1,"*) ;; *) die "expected version $v1 from the volume: $body" ;; esac
log "predict (volume) → version $v1"
swap_started=$(date +%s)
sh "$repo/deploy/publish-model.sh" "$volume_test/train/prohibited-items/$v2" "$volume_test/bucket" 2>/dev/null
sync_once || die "second sync failed ($volume_test/sync.log)"
chmod -R a+rX "$volume_test/volume"
deadline=$(( $(date +%s) + 30 ))
until predict; [[ $body == *"\"model_version\":$v2,"* ]]; do
    [ "$(date +%s)" -lt "$deadline" ] || die "still serving $body 30s after version $v2 was published"
    sleep 0.2
done
log "hot swap: version $v2 serving $(( $(date +%s) - swap_started ))s after publication"
stop_container
log "PASS (total $(( $(date +%s) - started ))s)"
