#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of overlap from Debian
# packages. Idempotent: packages already present are left alone.
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build pkg-config
  clang libclang-rt-14-dev
  liburing-dev
  node-llhttp
  libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost1.81-dev
  wrk nginx-light gnuplot-nox
  curl python3 procps util-linux
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
