#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what it needs, then builds and runs every test under the
# asan and tsan presets (the modules CI sanitizes), the fuzz preset (each libFuzzer target for 30 seconds),
# the ci preset (everything, warnings as errors) and the mingw preset (the Windows build, its tests under
# wine with a prefix of its own under build/mingw).
set -euo pipefail
cd "$(dirname "$0")/../.."
tests/scripts/setup-deps.sh

jobs=$(nproc)
for preset in asan tsan fuzz ci mingw; do
  echo "=== preset ${preset} ==="
  started=$SECONDS
  cmake --preset "${preset}" >/dev/null
  cmake --build --preset "${preset}" -j "${jobs}"
  ctest --preset "${preset}" -j "${jobs}"
  echo "=== preset ${preset}: $((SECONDS - started)) s ==="
done
# wine's server for the mingw tests' prefix outlives them: stop it.
WINEPREFIX="$PWD/build/mingw/wineprefix" wineserver -k 2>/dev/null || true
