#!/usr/bin/env bash
# Installs what is missing, builds the debug preset (warnings as errors) and
# runs every test suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset debug
cmake --build --preset debug
ctest --preset debug
