#!/usr/bin/env bash
# Runs a Windows program under wine for ctest (the mingw preset's CMAKE_CROSSCOMPILING_EMULATOR): one wine
# prefix per build tree (WINEPREFIX, default <cwd's build tree>/wineprefix; created on first use, 5-9 s),
# headless, wine's own chatter off. The program's exit code is wine's.
set -euo pipefail
if [ -z "${WINEPREFIX:-}" ]; then
  dir=$PWD
  while [ "$dir" != / ] && [ ! -f "$dir/CMakeCache.txt" ]; do dir=$(dirname "$dir"); done
  [ "$dir" = / ] && dir=$PWD
  export WINEPREFIX="$dir/wineprefix"
fi
export WINEDEBUG=${WINEDEBUG:--all} WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
unset DISPLAY
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  mkdir -p "$WINEPREFIX"
  # One first run at a time per prefix; it also reports Windows 10 from then on (the prefix starts as 7).
  exec 9>"$WINEPREFIX.lock"
  flock 9
  if [ ! -f "$WINEPREFIX/system.reg" ]; then
    wine winecfg /v win10 </dev/null >/dev/null 2>&1 || true
    wineserver -w || true
  fi
  exec 9>&-
fi
exec wine "$@" </dev/null
