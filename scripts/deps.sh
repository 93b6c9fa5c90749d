#!/usr/bin/env bash
# Installs the Debian 12 packages riptide needs to build and test, if any is missing.
# Usage: scripts/deps.sh [extra-package ...]
set -euo pipefail
pkgs=(g++ cmake ninja-build make libgtest-dev libgmock-dev libpcre2-dev pkg-config curl strace python3 procps "$@")
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
