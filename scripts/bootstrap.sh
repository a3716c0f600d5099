#!/usr/bin/env bash
# Installs what a fresh Debian machine with the Swift toolchain lacks for building,
# running and testing Vigia. Idempotent: installs only missing packages.
set -euo pipefail
packages=(libssl-dev pkg-config openssl curl ca-certificates python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "bootstrap: the Swift 6.3 toolchain must be on PATH (swift not found)" >&2; exit 1; }
