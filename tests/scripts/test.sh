#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what it needs, then builds and runs every test under the
# asan and tsan presets (the modules CI sanitizes), the fuzz preset (each libFuzzer target for 30 seconds),
# the ci preset (everything, warnings as errors) and the mingw preset (the Windows build, its tests under
# wine with a prefix of its own under build/mingw), then the .deb built from the ci tree and installed for real
# (tests/packaging/deb_install_test.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
tests/scripts/setup-deps.sh

jobs=$(nproc)
stage() {  # stage PRESET: configure, build and test one preset
  local started=$SECONDS
  echo "=== preset $1 ==="
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1" -j "${jobs}"
  ctest --preset "$1" -j "${jobs}"
  echo "=== preset $1: $((SECONDS - started)) s ==="
}

for preset in asan tsan fuzz; do stage "${preset}"; done

# The ci preset's tests spend much of their time waiting on containerd and its clients: the Windows stage
# runs beside them, niced, and its output follows theirs.
echo "=== preset ci ==="
started=$SECONDS
cmake --preset ci >/dev/null
cmake --build --preset ci -j "${jobs}"
mingw_log=build/mingw-stage.log
mkdir -p build
nice -n 10 bash -c "$(declare -f stage); jobs=${jobs}; stage mingw" >"${mingw_log}" 2>&1 &
mingw_pid=$!
ci_rc=0
ctest --preset ci -j "${jobs}" || ci_rc=$?
echo "=== preset ci: $((SECONDS - started)) s ==="
mingw_rc=0
wait "${mingw_pid}" || mingw_rc=$?
cat "${mingw_log}"
# wine's server for the mingw tests' prefix outlives them: stop it.
WINEPREFIX="$PWD/build/mingw/wineprefix" wineserver -k 2>/dev/null || true

# The .deb from the ci tree (no compiling), installed into this machine's /usr, used, upgraded and purged:
# alone, after everything else, since it installs into the real system.
echo "=== package deb ==="
started=$SECONDS
deb_rc=0
tests/packaging/deb_install_test.sh build/ci || deb_rc=$?
if [ "${deb_rc}" -eq 77 ]; then echo "test.sh: the deb package test skipped (see its reason above)"; deb_rc=0; fi
echo "=== package deb: $((SECONDS - started)) s ==="
if [ "${ci_rc}" -ne 0 ] || [ "${mingw_rc}" -ne 0 ] || [ "${deb_rc}" -ne 0 ]; then
  echo "test.sh: ci preset exit ${ci_rc}, mingw preset exit ${mingw_rc}, deb package test exit ${deb_rc}" >&2
  exit 1
fi
