#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what it needs, then builds and runs every test under the
# asan and tsan presets (the modules CI sanitizes), the fuzz preset (each libFuzzer target for 60 seconds)
# and the ci preset (everything, warnings as errors).
set -euo pipefail
cd "$(dirname "$0")/../.."
tests/scripts/setup-deps.sh

jobs=$(nproc)
for preset in asan tsan fuzz ci; do
  echo "=== preset ${preset} ==="
  cmake --preset "${preset}" >/dev/null
  cmake --build --preset "${preset}" -j "${jobs}"
  ctest --preset "${preset}" -j "${jobs}"
done
