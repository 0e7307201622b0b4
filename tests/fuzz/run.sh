#!/usr/bin/env bash
# Builds the `fuzz` preset and runs http_fuzz for SECONDS (default 60) on a
# scratch copy of the checked-in corpus. Exits non-zero on any finding; the
# crashing input is kept in build/fuzz/findings/.
set -euo pipefail

seconds=${1:-60}
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

cmake --preset fuzz
cmake --build --preset fuzz --target http_fuzz -j 2

corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp tests/fuzz/corpus/http/* "$corpus"/
findings="$repo/build/fuzz/findings"
mkdir -p "$findings"

build/fuzz/tests/fuzz/http_fuzz -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$findings/" -print_final_stats=1 "$corpus" tests/fuzz/corpus/http
