#!/usr/bin/env bash
# Installs what is missing, builds the release preset and serves the bundled
# demo site on http://127.0.0.1:8080 (Ctrl-C stops it gracefully).
# Extra arguments go to `overlap serve` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release
cmake --build --preset release --target overlap_cli
exec build/release/apps/overlap serve "$@"
