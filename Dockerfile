# syntax=docker/dockerfile:1
#
# Vigia: a release build with the Swift toolchain, then a slim glibc runtime.
#
# Both base images are build arguments so a locally made base can stand in for a
# registry image (deploy/podman-build-and-run.sh builds with a debootstrap rootfs and
# the host's toolchain bind-mounted at /opt/swift).
#   SWIFT_IMAGE    an image with Swift 6.3 on PATH (or at /opt/swift/usr/bin), git and
#                  the C toolchain Swift links with (default: the official bookworm image)
#   RUNTIME_IMAGE  any glibc-based bookworm image (default: debian:bookworm-slim)
#
# The runtime is read-only-root-filesystem friendly: vigia writes nothing but its logs
# (JSON lines on stderr); models are read from VIGIA_STORAGE_PATH, which a volume may
# replace. The process is PID 1 itself: it handles SIGTERM (readiness 503, stop
# accepting, drain in-flight requests for server.drain_timeout_seconds, exit 0), so no
# init shim is needed.
ARG SWIFT_IMAGE=swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
# A toolchain bind-mounted at /opt/swift comes first; the official image's /usr/bin stays.
ENV PATH=/opt/swift/usr/bin:${PATH}
WORKDIR /src
# TLS links the system OpenSSL (libssl-dev at build time, libssl3 at run time).
RUN dpkg -s libssl-dev pkg-config >/dev/null 2>&1 \
    || (apt-get update \
        && apt-get install -y --no-install-recommends libssl-dev=3.0.* pkg-config=1.8.* \
        && rm -rf /var/lib/apt/lists/*)
COPY Package.swift ./
COPY Sources ./Sources
# Package.swift declares the test targets too, and SwiftPM checks their folders exist.
COPY Tests ./Tests
# The serving build (--disable-default-traits leaves out the `Training` trait: no train,
# evaluate or model-card, no SwiftCSV or Yams, and so no ICU data, ~34 MB).
# --static-swift-stdlib links the Swift runtime and FoundationEssentials into the binary, so
# the runtime image needs only glibc, libstdc++, libgcc and libssl3 (see `ldd` in the podman
# script). The DWARF debug sections (the service never reads them) are stripped; the symbol
# table stays, so a crash backtrace still names its functions.
RUN swift build -c release --disable-default-traits --static-swift-stdlib --product vigia \
    && install -D -m 0755 "$(swift build -c release --disable-default-traits --show-bin-path)/vigia" /out/usr/local/bin/vigia \
    && strip --strip-debug /out/usr/local/bin/vigia
COPY config/vigia.json /out/etc/vigia/vigia.json
# The default model (a real artifact trained by `vigia train`), used when no volume is
# mounted over the storage path.
COPY models /out/var/lib/vigia/models

FROM ${RUNTIME_IMAGE}
ARG APP_UID=10001
# A fixed numeric user so Kubernetes' runAsNonRoot can verify it and volumes can be
# shared with the model-sync sidecar through fsGroup.
RUN (dpkg -s libssl3 >/dev/null 2>&1 \
     || (apt-get update \
         && apt-get install -y --no-install-recommends libssl3=3.0.* \
         && rm -rf /var/lib/apt/lists/*)) \
    && groupadd --system --gid "${APP_UID}" vigia \
    && useradd --system --uid "${APP_UID}" --gid vigia --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin vigia
COPY --from=build --chown=root:root /out/ /
# Listen on every interface inside the container (the file's default is loopback);
# the storage path is absolute so the working directory does not matter.
ENV VIGIA_SERVER_HOST=0.0.0.0 \
    VIGIA_STORAGE_PATH=/var/lib/vigia/models
WORKDIR /var/lib/vigia
USER ${APP_UID}:${APP_UID}
EXPOSE 8080 8443
STOPSIGNAL SIGTERM
# No HEALTHCHECK: the image carries no HTTP client, and Kubernetes uses its own probes
# on /health/live and /health/ready (k8s/deployment.yaml).
ENTRYPOINT ["/usr/local/bin/vigia"]
CMD ["serve", "--config", "/etc/vigia/vigia.json"]
