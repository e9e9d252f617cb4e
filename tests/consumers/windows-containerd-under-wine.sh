#!/usr/bin/env bash
# PROBE, run by hand: not part of CI (nothing registers it: a fresh run builds containerd for Windows, ~4 min of
# the 40-minute CI budget, and its answer is a summary line, not a pass/fail). Question: does containerd's own
# Windows build run under wine far enough to start our shim, and how far does its ctr.exe get?
#
# What it does (every step has a deadline; the summary line at the end says how far it got):
#  1. builds containerd.exe and ctr.exe (GOOS=windows GOARCH=amd64, CGO off, containerd's default build tags:
#     CRI compiled in, as in containerd's release) at the containerd version pinned in peers.env, from the Go
#     module proxy, into build/peers/windows/containerd-<version>/bin (skipped when both are there). Its module
#     and build caches are build/peers/windows/{gomod,gocache}; the build runs niced with GOFLAGS=-p=1.
#  2. compiles with mingw, from the sources below, into build/peers/windows/probe-tools (never into the product):
#     a bcryptprimitives.dll exporting ProcessPrng (wine 8.0 has no bcryptprimitives.dll, and every Go >= 1.22
#     Windows program dies at start without it: "fatal error: bcryptprimitives.dll not found"), a bindfltapi.dll
#     that reports "no bind mapping" (wine has no bind filter; containerd's bundle delete unmounts through it
#     first), a stand-in containerd-shim-litebox-v1.exe that logs its argv, cwd, environment and stdin
#     (containerd's BootstrapParams) and exits 1, and a hello.exe.
#  3. a wine prefix of its own, build/peers/windows/wineprefix (Windows 10; the DLLs above in its system32),
#     WINEDEBUG=-all; a fresh C:\litebox-test in it (containerd's root and state, config, rootfs, images).
#  4. containerd.exe under wine with a minimal config (debug log; gRPC \\.\pipe\litebox-test-containerd, ttrpc
#     the same + .ttrpc; CRI and the LCOW/CimFS/block-CIM plugins disabled), then ctr.exe version, plugins ls;
#  5. `ctr.exe run --rm --runtime io.containerd.litebox.v1 --config spec.json` (no image: a rootfs folder
#     holding hello.exe), with the shim on wine's PATH (WINEPATH): the real one when it exists
#     (build/mingw/runtime_shim/containerd-shim-litebox-v1.exe, or $LITEBOX_WINDOWS_SHIM), else the stand-in,
#     run twice: exiting 1, then answering `start` with a pipe address it serves (one ttrpc connection: it logs
#     containerd's first request and closes);
#  6. `ctr.exe images import` of a one-layer Windows OCI image (Files/hello.exe) and, if that works,
#     `ctr.exe run --rm --runtime io.containerd.litebox.v1` of it;
#  7. stops containerd and `wineserver -k` for this prefix only.
#
# Usage: tests/consumers/windows-containerd-under-wine.sh [--standin]   (--standin: the stand-in even when the
#        real shim exists)
# Environment: LITEBOX_PROBE_WINEDEBUG  WINEDEBUG for containerd.exe and the shim (default -all; e.g.
#                                       fixme+all or +seh to see the failing call), other wine calls stay -all
#              LITEBOX_WINDOWS_SHIM     the shim .exe to try (default: the mingw build's, else the stand-in)
#              LITEBOX_PROBE_SOCKET_DIR the shim manager's socket_dir (BootstrapParams.socket_dir; default
#                                       C:\litebox-test\state\s; containerd on Windows always sends one)
# Output: each step's result, the log folder (build/peers/windows/probe-logs), and the summary line.
# Exit: 0 when it ran to the end (whatever the summary says), 1 a step of its own failed (build, prefix).
#
# Seen on Debian 12, wine 8.0, containerd v2.4.2 built with Go 1.26.8 (2026-12): the build takes ~4 min fresh
# (246 s at -p=1, module downloads included), a cached run ~15 s. containerd.exe boots and serves its named
# pipe (50 plugins ok, 5 skip: the HCS/CimFS ones); ctr version and plugins ls work; `ctr run --config` makes
# the bundle and starts the shim with containerd 2.x's argv, environment and BootstrapParams on stdin; a shim
# that answers `start` with a pipe address gets containerd's ttrpc connection and its Task.Create (bundle path,
# ctr's stdio pipes). What wine 8 lacks on the way: BackupWrite (a stub: "Request not supported"), so no image
# layer unpacks into the windows snapshotter (whose next steps need vmcompute.dll, absent too);
# NtSetInformationFile(FileDispositionInformationEx), so Go 1.26's os.RemoveAll fails with "Invalid function"
# and every deleted bundle leaves .ID\config.json behind (containerd only logs it); CreateSymbolicLinkW (a stub
# that reports success: the bundle's `work` link is never made).
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../scripts/go-env.sh
source "$repo/tests/scripts/go-env.sh"
# shellcheck source=peers.env
source "$repo/tests/consumers/peers.env"

use_standin=0
case ${1:-} in
  --standin) use_standin=1 ;;
  '') ;;
  *) echo "usage: $0 [--standin]" >&2; exit 2 ;;
esac

win=$repo/build/peers/windows
version=$CONTAINERD_VERSION
out=$win/containerd-$version
tools=$win/probe-tools
logs=$win/probe-logs
export WINEPREFIX=$win/wineprefix
test_root=$WINEPREFIX/drive_c/litebox-test
pipe='\\.\pipe\litebox-test-containerd'
probe_debug=${LITEBOX_PROBE_WINEDEBUG:--all}
socket_dir=${LITEBOX_PROBE_SOCKET_DIR:-'C:\litebox-test\state\s'}
# bcryptprimitives,bindfltapi=n: the DLLs compiled below (wine has none of its own); mscoree, mshtml: no Mono or
# Gecko prompts.
export WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml=;bcryptprimitives,bindfltapi=n'
unset DISPLAY

say() { echo "windows-containerd-under-wine: $*" >&2; }
die() { say "$*"; exit 1; }
for tool in timeout wine wineserver winepath x86_64-w64-mingw32-g++-posix x86_64-w64-mingw32-gcc tar sha256sum; do
  command -v "$tool" >/dev/null || die "needs $tool (see /work/shared/windows-toolchain.md for the packages)"
done
mkdir -p "$win" "$tools"
rm -rf "$logs"
mkdir -p "$logs"

# Summary fields, filled in as the steps go.
s_build=no s_serves=no s_version=no s_plugins='not run' s_shim=no s_shim_kind='' s_run_stop='not run'
s_import='not run' s_image_run='not run' s_leftover='' s_connect=''
summary() {
  local line="SUMMARY: containerd $version (GOOS=windows) under $(wine --version 2>/dev/null): build: $s_build;"
  line+=" containerd.exe serves: $s_serves; ctr version: $s_version; plugins: $s_plugins;"
  line+=" shim started: $s_shim${s_shim_kind:+ ($s_shim_kind)}, stopped at: $s_run_stop;"
  [ -z "$s_connect" ] || line+=" stand-in answering start: $s_connect;"
  [ -z "${s_nullio:-}" ] || line+=" with --null-io: $s_nullio;"
  line+=" image import: $s_import; image run: $s_image_run"
  [ -z "$s_leftover" ] || line+="; $s_leftover"
  echo "$line"
}

# ------------------------------------------------------------------------------------------------ 1. build
go_bin=$(litebox_go 1.26) || die "no Go >= 1.26"
if [ -x "$out/bin/containerd.exe" ] && [ -x "$out/bin/ctr.exe" ]; then
  s_build="cached ($out/bin)"
  say "containerd.exe and ctr.exe $version: cached in $out/bin"
else
  say "building containerd.exe and ctr.exe $version for windows/amd64 (GOFLAGS=-p=1, niced; ~3 min fresh)"
  t0=$SECONDS
  build_rc=0
  (
    set -e
    export GOMODCACHE=$win/gomod GOCACHE=$win/gocache GOFLAGS='-modcacherw -p=1' GOTOOLCHAIN=local
    export GOPROXY=${GOPROXY:-https://proxy.golang.org} GOSUMDB=${GOSUMDB:-sum.golang.org} GONOSUMDB=
    dir=$(cd "$win" && timeout 600 "$go_bin" mod download -json "github.com/containerd/containerd/v2@$version" |
      sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    [ -n "$dir" ] && [ -d "$dir" ]
    rm -rf "$out/src"
    mkdir -p "$out"
    cp -r "$dir" "$out/src"
    chmod -R u+w "$out/src"
    cd "$out/src"
    CGO_ENABLED=0 GOOS=windows GOARCH=amd64 timeout 2400 nice -n 10 "$go_bin" build -trimpath \
      -ldflags "-X github.com/containerd/containerd/v2/version.Version=$version" \
      -o "$out/bin/" ./cmd/containerd ./cmd/ctr
  ) >"$logs/go-build.log" 2>&1 || build_rc=$?
  rm -rf "$out/src"
  if [ "$build_rc" -ne 0 ] || [ ! -x "$out/bin/ctr.exe" ]; then
    tail -20 "$logs/go-build.log" >&2
    s_build="failed (exit $build_rc, $logs/go-build.log)"
    summary
    exit 1
  fi
  s_build="built in $((SECONDS - t0)) s"
  say "$s_build"
fi
containerd_exe=$out/bin/containerd.exe
ctr_exe=$out/bin/ctr.exe

# ------------------------------------------------------------------------------------- 2. helper programs
# bcryptprimitives.dll: Go's runtime (1.22+) loads it from system32 at start for ProcessPrng; wine 8.0 lacks it.
cat >"$tools/bcryptprimitives.c" <<'EOF'
#include <windows.h>
#include <bcrypt.h>
/* ProcessPrng as Windows 10 exports it, on wine's BCryptGenRandom (wine 8.0 has no bcryptprimitives.dll). */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
    if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}
BOOL WINAPI DllMain(HINSTANCE h, DWORD reason, LPVOID reserved) { (void)h; (void)reason; (void)reserved; return TRUE; }
EOF
# The stand-in shim: how containerd launched it, then exit 1 (its stderr reaches ctr through containerd). When
# C:\litebox-test\standin-address holds a pipe address, `start` instead prints that address and leaves a detached
# copy of itself listening there: it accepts containerd's ttrpc connection, logs the first frame (service and
# method of the first request), and closes it. That shows how far containerd's side of the shim connection gets
# under wine without a shim.
cat >"$tools/standin-shim.cpp" <<'EOF'
// Stand-in for containerd-shim-litebox-v1.exe (probe only, build tree only): logs argv, cwd, the environment
// and stdin's bytes (containerd 2.x writes BootstrapParams there) to C:\litebox-test\standin-shim.log (stdin
// also raw to ...log.stdin), says so on stderr and exits 1; or, when C:\litebox-test\standin-address exists,
// answers `start` with the address it holds and serves one ttrpc connection there from a detached copy
// (argv: self --serve ADDRESS).
#include <windows.h>
#include <cstdio>
#include <cwchar>
#include <string>
static const wchar_t *logpath = L"C:\\litebox-test\\standin-shim.log";

static int serve(const wchar_t *address) {
  FILE *f = _wfopen(logpath, L"a");
  HANDLE pipe = CreateNamedPipeW(address, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT,
                                 PIPE_UNLIMITED_INSTANCES, 65536, 65536, 0, nullptr);
  if (pipe == INVALID_HANDLE_VALUE) {
    if (f) fwprintf(f, L"serve: CreateNamedPipeW %ls: error %lu\n", address, GetLastError());
    return 1;
  }
  if (f) { fwprintf(f, L"serve: listening on %ls\n", address); fflush(f); }
  BOOL ok = ConnectNamedPipe(pipe, nullptr) || GetLastError() == ERROR_PIPE_CONNECTED;
  if (f) {
    fwprintf(f, L"serve: ConnectNamedPipe: %ls (error %lu)\n", ok ? L"connected" : L"failed", GetLastError());
    fflush(f);
  }
  unsigned char buf[65536];
  DWORD n = 0;
  if (ok && ReadFile(pipe, buf, sizeof buf, &n, nullptr) && n >= 10) {
    unsigned len = (buf[0] << 24) | (buf[1] << 16) | (buf[2] << 8) | buf[3];
    unsigned stream = (buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7];
    std::wstring text;  // the printable runs of the request (service, method names)
    for (DWORD i = 10; i < n && i < 10 + len; i++) text += (buf[i] >= 32 && buf[i] < 127) ? wchar_t(buf[i]) : L' ';
    if (f) fwprintf(f, L"serve: first ttrpc frame: %lu bytes read, length %u, stream %u, type %u: %ls\n", n, len,
                    stream, buf[8], text.c_str());
  } else if (f) {
    fwprintf(f, L"serve: read %lu bytes (error %lu)\n", n, GetLastError());
  }
  if (f) { fwprintf(f, L"serve: closing the connection\n"); fclose(f); }
  FlushFileBuffers(pipe);
  DisconnectNamedPipe(pipe);
  CloseHandle(pipe);
  return 0;
}

int wmain(int argc, wchar_t **argv) {
  if (argc == 3 && wcscmp(argv[1], L"--serve") == 0) return serve(argv[2]);
  FILE *f = _wfopen(logpath, L"a");
  if (!f) return 2;
  fwprintf(f, L"=== stand-in shim, pid %lu\n", GetCurrentProcessId());
  for (int i = 0; i < argc; i++) fwprintf(f, L"argv[%d]=%ls\n", i, argv[i]);
  wchar_t cwd[MAX_PATH] = L"";
  GetCurrentDirectoryW(MAX_PATH, cwd);
  fwprintf(f, L"cwd=%ls\n", cwd);
  wchar_t *env = GetEnvironmentStringsW();
  for (wchar_t *e = env; *e; e += wcslen(e) + 1) fwprintf(f, L"env %ls\n", e);
  FreeEnvironmentStringsW(env);
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  DWORD type = GetFileType(in);
  fwprintf(f, L"stdin file type %lu\n", type);
  bool start = argc > 1 && wcscmp(argv[argc - 1], L"start") == 0;
  if (type == FILE_TYPE_PIPE || type == FILE_TYPE_DISK) {
    FILE *raw = start ? _wfopen((std::wstring(logpath) + L".stdin").c_str(), L"wb") : nullptr;
    unsigned char buf[4096];
    DWORD n = 0, total = 0;
    while (ReadFile(in, buf, sizeof buf, &n, nullptr) && n > 0) {
      if (raw) fwrite(buf, 1, n, raw);
      total += n;
    }
    if (raw) fclose(raw);
    fwprintf(f, L"stdin: %lu bytes\n", total);
  }
  wchar_t address[512] = L"";
  if (FILE *a = start ? _wfopen(L"C:\\litebox-test\\standin-address", L"r") : nullptr) {
    if (!fgetws(address, 512, a)) address[0] = 0;
    fclose(a);
    address[wcscspn(address, L"\r\n")] = 0;
  }
  if (address[0]) {
    // A detached copy serves the address; it inherits no handle, so containerd's read of our stdout ends with us.
    std::wstring cmd = L"\"" + std::wstring(argv[0]) + L"\" --serve " + address;
    STARTUPINFOW si = {sizeof si};
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(nullptr, &cmd[0], nullptr, nullptr, FALSE, DETACHED_PROCESS, nullptr, nullptr, &si, &pi)) {
      fwprintf(f, L"start: CreateProcessW of the server failed: %lu\n", GetLastError());
      fclose(f);
      return 1;
    }
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    for (int i = 0; i < 50; i++) {  // until the server's pipe exists (5 s at most)
      if (WaitNamedPipeW(address, 0) || GetLastError() == ERROR_SEM_TIMEOUT) break;
      Sleep(100);
    }
    fwprintf(f, L"start: answered %ls\n", address);
    fclose(f);
    wprintf(L"%ls", address);
    fflush(stdout);
    return 0;
  }
  fclose(f);
  fwprintf(stderr, L"litebox stand-in shim: logged how it was started to %ls; exiting 1\n", logpath);
  return 1;
}
EOF
# bindfltapi.dll: containerd's Bundle.Delete (and every Windows unmount) calls BfRemoveMapping first; wine has no
# bind filter, so no mapping can exist: "not found", which containerd takes as "not a mount point", as Windows
# answers for a plain folder. Without it the delete stops at "removing file binding: Module not found".
cat >"$tools/bindfltapi.c" <<'EOF'
#include <windows.h>
/* wine has no bind filter: no mapping exists (removal: not found) and none can be made (not supported). */
__declspec(dllexport) HRESULT WINAPI BfRemoveMapping(HANDLE job, LPCWSTR root) {
  (void)job; (void)root;
  return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
}
__declspec(dllexport) HRESULT WINAPI BfSetupFilter(HANDLE job, ULONG flags, LPCWSTR root, LPCWSTR target,
                                                   LPCWSTR *exceptions, ULONG count) {
  (void)job; (void)flags; (void)root; (void)target; (void)exceptions; (void)count;
  return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
}
__declspec(dllexport) HRESULT WINAPI BfGetMappings(ULONG flags, HANDLE job, LPCWSTR root, PSID sid, PULONG size,
                                                   PVOID out) {
  (void)flags; (void)job; (void)root; (void)sid; (void)out;
  if (size) *size = 0;
  return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
}
BOOL WINAPI DllMain(HINSTANCE h, DWORD reason, LPVOID reserved) { (void)h; (void)reason; (void)reserved; return TRUE; }
EOF
cat >"$tools/hello.c" <<'EOF'
#include <stdio.h>
int main(void) { puts("hello from hello.exe in a litebox container"); return 0; }
EOF
(
  set -e
  cd "$tools"
  timeout 120 x86_64-w64-mingw32-gcc -O2 -shared -o bcryptprimitives.dll bcryptprimitives.c -lbcrypt -static-libgcc
  timeout 120 x86_64-w64-mingw32-gcc -O2 -shared -o bindfltapi.dll bindfltapi.c -static-libgcc
  mkdir -p standin
  timeout 120 x86_64-w64-mingw32-g++-posix -municode -O1 -static -static-libgcc -static-libstdc++ \
    -o standin/containerd-shim-litebox-v1.exe standin-shim.cpp
  timeout 120 x86_64-w64-mingw32-gcc -O1 -static -o hello.exe hello.c
) >"$logs/mingw.log" 2>&1 || { cat "$logs/mingw.log" >&2; die "mingw build of the helpers failed"; }

shim=${LITEBOX_WINDOWS_SHIM:-$repo/build/mingw/runtime_shim/containerd-shim-litebox-v1.exe}
if [ "$use_standin" = 1 ] || [ ! -f "$shim" ]; then
  shim=$tools/standin/containerd-shim-litebox-v1.exe
  s_shim_kind='stand-in'
else
  s_shim_kind="real shim $shim"
  [ "$(basename "$shim")" = containerd-shim-litebox-v1.exe ] ||
    die "the shim must be named containerd-shim-litebox-v1.exe (containerd looks it up by that name): $shim"
fi
say "shim: $s_shim_kind"

# ----------------------------------------------------------------------------------------------- 3. prefix
# Only this prefix's wineserver (and so only processes of this prefix) is ever killed.
wineserver -k 2>/dev/null
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  say "creating the wine prefix $WINEPREFIX (Windows 10)"
  mkdir -p "$WINEPREFIX"
  timeout 180 wine winecfg /v win10 </dev/null >"$logs/prefix.log" 2>&1
  timeout 60 wineserver -w
  [ -f "$WINEPREFIX/system.reg" ] || die "no wine prefix made (see $logs/prefix.log)"
fi
cp "$tools/bcryptprimitives.dll" "$tools/bindfltapi.dll" "$WINEPREFIX/drive_c/windows/system32/"
finish() {
  wineserver -k 2>/dev/null
  timeout 30 wineserver -w 2>/dev/null
}
trap finish EXIT
trap 'say interrupted; exit 130' INT TERM

rm -rf "$test_root"
mkdir -p "$test_root/rootfs" "$test_root/image/Files" "$test_root/image/Hives"
cp "$tools/hello.exe" "$test_root/rootfs/hello.exe"
cp "$tools/hello.exe" "$test_root/image/Files/hello.exe"

# A Go program's smoke test: dies at once without the DLL above.
if ! timeout 60 wine "$ctr_exe" --version </dev/null >"$logs/ctr-version-local.log" 2>&1; then
  cat "$logs/ctr-version-local.log" >&2
  s_serves="no: ctr.exe --version fails: $(head -1 "$logs/ctr-version-local.log")"
  summary
  exit 0
fi

# ----------------------------------------------------------------------------------------- 4. containerd
cat >"$test_root/config.toml" <<'EOF'
# containerd under wine (tests/consumers/windows-containerd-under-wine.sh): everything inside the wine prefix.
version = 4
root = 'C:\litebox-test\root'
state = 'C:\litebox-test\state'
imports = []
# No CRI; nothing that needs HCS/vmcompute.dll or CimFS for Linux (LCOW) layers or CIM images. The `windows`
# snapshotter and differ stay: the image import below uses them (process-isolated Windows layers).
disabled_plugins = [
  'io.containerd.grpc.v1.cri', 'io.containerd.cri.v1.images', 'io.containerd.cri.v1.runtime',
  'io.containerd.podsandbox.controller.v1.podsandbox',
  'io.containerd.snapshotter.v1.windows-lcow', 'io.containerd.differ.v1.windows-lcow',
  'io.containerd.snapshotter.v1.cimfs', 'io.containerd.differ.v1.cimfs',
  'io.containerd.snapshotter.v1.blockcim', 'io.containerd.differ.v1.blockcim',
]

[debug]
  level = 'debug'

[plugins]
  [plugins.'io.containerd.server.v1.grpc']
    address = '\\.\pipe\litebox-test-containerd'
  [plugins.'io.containerd.server.v1.ttrpc']
    address = '\\.\pipe\litebox-test-containerd.ttrpc'
  [plugins.'io.containerd.service.v1.diff-service']
    default = ['windows']
  [plugins.'io.containerd.shim.v1.manager']
    # BootstrapParams.socket_dir; the default is C:\ProgramData\containerd\state\s whatever `state` says.
    socket_dir = '@SOCKET_DIR@'
EOF
config=$(<"$test_root/config.toml")
printf '%s\n' "${config//@SOCKET_DIR@/"$socket_dir"}" >"$test_root/config.toml"

shim_dir_win=$(winepath -w "$(dirname "$shim")" 2>/dev/null)
say "starting containerd.exe under wine (log: $logs/containerd.log; shim folder on PATH: $shim_dir_win)"
# A backstop lifetime; the EXIT trap ends it sooner (wineserver -k).
WINEPATH=$shim_dir_win WINEDEBUG=$probe_debug \
  timeout 600 wine "$containerd_exe" --config 'C:\litebox-test\config.toml' </dev/null >"$logs/containerd.log" 2>&1 &
containerd_pid=$!

ctr() {  # ctr SECONDS ARGS...: ctr.exe against our containerd (stdin from /dev/null)
  local seconds=$1
  shift
  timeout "$seconds" wine "$ctr_exe" --address "$pipe" "$@" </dev/null
}
deadline=$((SECONDS + 60))
while :; do
  if ctr 15 version >"$logs/ctr-version.log" 2>&1; then break; fi
  if ! kill -0 "$containerd_pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then break; fi
  sleep 1
done
if grep -q '^Server:' "$logs/ctr-version.log"; then
  s_serves=yes s_version=yes
  cat "$logs/ctr-version.log"
else
  err=$(grep -a -m1 'level=fatal\|level=error' "$logs/containerd.log" || tail -1 "$logs/containerd.log")
  s_serves="no: ${err:-containerd.exe exited without a log line}"
  s_version="no: $(tail -1 "$logs/ctr-version.log")"
  summary
  exit 0
fi

if ctr 30 plugins ls >"$logs/plugins.log" 2>&1; then
  cat "$logs/plugins.log"
  s_plugins="$(awk 'NR > 1 { n[$NF]++ } END { printf "%d ok, %d skip, %d error", n["ok"], n["skip"], n["error"] }' "$logs/plugins.log")"
  errs=$(awk 'NR > 1 && $NF == "error" { printf "%s%s.%s", sep, $1, $2; sep = ", " }' "$logs/plugins.log")
  [ -z "$errs" ] || s_plugins+=" ($errs)"
else
  s_plugins="ctr plugins ls failed: $(tail -1 "$logs/plugins.log")"
fi

# first_error LOG: the first containerd error after the mark (a line count) in its log.
first_error() { tail -n +"$(($1 + 1))" "$logs/containerd.log" | grep -a -m1 'level=error' | sed 's/^time="[^"]*" //'; }
shim_logged() { [ -s "$test_root/standin-shim.log" ]; }

# --------------------------------------------------------------------- 5. run with a rootfs folder (no image)
cat >"$test_root/spec.json" <<'EOF'
{"ociVersion": "1.2.0",
 "process": {"args": ["C:\\litebox-test\\rootfs\\hello.exe"], "cwd": "C:\\",
             "env": ["PATH=C:\\litebox-test\\rootfs"]},
 "root": {"path": "C:\\litebox-test\\rootfs"},
 "windows": {"layerFolders": []}}
EOF
mark=$(wc -l <"$logs/containerd.log")
say "ctr run --rm --runtime io.containerd.litebox.v1 --config spec.json probe-folder"
ctr 120 run --rm --runtime io.containerd.litebox.v1 --config 'C:\litebox-test\spec.json' probe-folder \
  >"$logs/run-folder.log" 2>&1
run_rc=$?
cat "$logs/run-folder.log"
if grep -q 'hello from hello.exe' "$logs/run-folder.log"; then
  s_shim=yes s_run_stop="nowhere: hello.exe's output reached ctr (exit $run_rc)"
else
  # "start failed: <its output>: exit status N" is containerd's report of a shim process that ran and failed;
  # "connecting to shim" is containerd dialing the address a shim's start printed.
  if shim_logged || grep -a -q 'start failed: .*exit status\|connecting to shim' "$logs/run-folder.log" \
      <(tail -n +"$((mark + 1))" "$logs/containerd.log"); then
    s_shim=yes
  fi
  s_run_stop="ctr exit $run_rc: $(grep -a -m1 '^ctr: ' "$logs/run-folder.log" || tail -1 "$logs/run-folder.log")"
  e=$(first_error "$mark")
  [ -z "$e" ] || s_run_stop+=" (containerd: $e)"
  [ "$s_shim_kind" = stand-in ] ||
    say "(--standin shows how far containerd itself gets with a shim that answers start)"
fi
# The same with --null-io: no stdio pipes of ctr's. Seen under wine 8: the first client of a go-winio listener
# is connected to the listener's first instance, which go-winio creates without read/write access so that
# Windows keeps it disconnected and never accepts on it; wine connects clients to it anyway. The shim's
# CreateFile of ctr's stdout pipe lands there and the container's first write blocks for good (go-winio's
# pipes have no buffer). Without stdio the whole lifecycle can be seen.
s_nullio="not run (the stand-in)"
if [ "$s_shim_kind" != stand-in ]; then
  mark=$(wc -l <"$logs/containerd.log")
  say "ctr run --rm --null-io --runtime io.containerd.litebox.v1 --config spec.json probe-nullio"
  ctr 120 run --rm --null-io --runtime io.containerd.litebox.v1 --config 'C:\litebox-test\spec.json' probe-nullio \
    >"$logs/run-nullio.log" 2>&1
  nullio_rc=$?
  cat "$logs/run-nullio.log"
  rpcs=$(tail -n +"$((mark + 1))" "$logs/containerd.log" | grep -a -o 'msg="rpc containerd.task.v2.Task/[A-Za-z]*' |
    sed 's/.*Task\///' | tr '\n' ' ')
  events=$(tail -n +"$((mark + 1))" "$logs/containerd.log" | grep -a -o 'msg="event /tasks/[a-z]*' | sed 's/.*event //' |
    tr '\n' ' ')
  if [ "$nullio_rc" -eq 0 ]; then
    s_nullio="ctr exit 0; the shim served: ${rpcs:-none}; its events: ${events:-none}"
  else
    s_nullio="ctr exit $nullio_rc: $(grep -a -m1 '^ctr: ' "$logs/run-nullio.log" || tail -1 "$logs/run-nullio.log"); the shim served: ${rpcs:-none}"
  fi
fi

if shim_logged; then
  say "the stand-in was started as:"
  grep -a '^argv\|^cwd\|^env \(PATH\|GRPC\|TTRPC\|NAMESPACE\|MAX_SHIM\|GOMAXPROCS\)=\|^stdin' "$test_root/standin-shim.log" >&2
  bootstrap_proto=$win/gomod/github.com/containerd/containerd/api@v1.12.0/runtime/bootstrap/v1/bootstrap.proto
  if command -v protoc >/dev/null && [ -s "$test_root/standin-shim.log.stdin" ]; then
    if [ -f "$bootstrap_proto" ]; then
      protoc -I "$(dirname "$bootstrap_proto")" -I /usr/include --decode=containerd.runtime.bootstrap.v1.BootstrapParams \
        "$bootstrap_proto" <"$test_root/standin-shim.log.stdin" >"$logs/bootstrap-params.txt" 2>&1 ||
        protoc --decode_raw <"$test_root/standin-shim.log.stdin" >"$logs/bootstrap-params.txt" 2>&1
    else
      protoc --decode_raw <"$test_root/standin-shim.log.stdin" >"$logs/bootstrap-params.txt" 2>&1
    fi
    say "its stdin (BootstrapParams):"
    cat "$logs/bootstrap-params.txt" >&2
  fi
  cp "$test_root/standin-shim.log"* "$logs/" 2>/dev/null
fi
# What `ctr run --rm` left of the bundle. Seen under wine 8: containerd's Bundle.Delete first unmounts rootfs
# through bindfltapi.dll (absent: "Module not found"), then renames the bundle to .ID and os.RemoveAll's it,
# whose Go 1.26 Deleteat needs NtSetInformationFile(FileDispositionInformationEx), which wine 8 lacks.
tasks=$test_root/state/io.containerd.runtime.v2.task/default
sleep 2
for left in probe-folder .probe-folder; do
  [ -e "$tasks/$left" ] || continue
  s_leftover+="${s_leftover:+, }bundle left after ctr run --rm: state\\io.containerd.runtime.v2.task\\default\\$left"
  s_leftover+=" ($(cd "$tasks/$left" && find . -mindepth 1 | tr '\n' ' ' | sed 's/ $//'))"
done

# The stand-in once more, answering `start` with a pipe it serves: how far containerd gets with the connection.
if [ "$s_shim_kind" = stand-in ]; then
  printf '%s' '\\.\pipe\litebox-standin-probe-connect' >"$test_root/standin-address"
  mark=$(wc -l <"$logs/containerd.log")
  : >"$test_root/standin-shim.log"
  say "ctr run --rm ... probe-connect (the stand-in answers start with a pipe it serves)"
  ctr 120 run --rm --runtime io.containerd.litebox.v1 --config 'C:\litebox-test\spec.json' probe-connect \
    >"$logs/run-connect.log" 2>&1
  connect_rc=$?
  rm -f "$test_root/standin-address"
  cat "$logs/run-connect.log"
  cp "$test_root/standin-shim.log" "$logs/standin-shim-connect.log" 2>/dev/null
  grep -a '^start:\|^serve:' "$test_root/standin-shim.log" >&2
  frame=$(grep -a -m1 '^serve: first ttrpc frame' "$test_root/standin-shim.log")
  request=$(grep -a -o 'containerd\.task\.v2\.Task *[A-Za-z]*' <<<"$frame" | sed 's/ *\([A-Za-z]*\)$/.\1/')
  [ -z "$frame" ] || frame="${request:-a ttrpc request}, $(sed 's/.*length \([0-9]*\).*/\1/' <<<"$frame") bytes"
  s_connect="ctr exit $connect_rc: $(grep -a -m1 '^ctr: ' "$logs/run-connect.log" || tail -1 "$logs/run-connect.log")"
  if [ -n "$frame" ]; then s_connect="containerd connected and sent ($frame); then $s_connect"; fi
fi
# -------------------------------------------------------------------------------- 6. a Windows OCI image
# A Windows OCI image: one uncompressed layer of DIR's Files/ and Hives/ (the Windows layer layout), os windows
# (no os.version: containerd's Windows platform matcher accepts any), Cmd C:\hello.exe.
# shellcheck source=../scripts/oci-image.sh
. "$repo/tests/scripts/oci-image.sh"
windows_image_archive() {
  OCI_IMAGE_OS=windows OCI_IMAGE_MEMBERS="Files Hives" oci_image_archive "$1" "$2" "$3" '{"Cmd":["C:\\hello.exe"]}'
}
image=localhost/litebox-test/hello:1
if windows_image_archive "$test_root/image" "$test_root/hello.tar" "$image"; then
  mark=$(wc -l <"$logs/containerd.log")
  say "ctr images import hello.tar (unpacks into the windows snapshotter)"
  ctr 120 images import 'C:\litebox-test\hello.tar' >"$logs/import.log" 2>&1
  import_rc=$?
  cat "$logs/import.log"
  if [ "$import_rc" -eq 0 ] && ctr 30 images ls -q 2>/dev/null | grep -q "^$image"; then
    s_import=yes
    say "ctr run --rm --runtime io.containerd.litebox.v1 $image probe-image"
    mark=$(wc -l <"$logs/containerd.log")
    ctr 120 run --rm --runtime io.containerd.litebox.v1 "$image" probe-image >"$logs/run-image.log" 2>&1
    run_rc=$?
    cat "$logs/run-image.log"
    if grep -q 'hello from hello.exe' "$logs/run-image.log"; then
      s_image_run="yes (exit $run_rc)"
    else
      s_image_run="no, ctr exit $run_rc: $(grep -a -m1 '^ctr: ' "$logs/run-image.log" || tail -1 "$logs/run-image.log")"
    fi
  else
    s_import="no, ctr exit $import_rc: $(grep -a -m1 '^ctr: ' "$logs/import.log" || tail -1 "$logs/import.log")"
    e=$(tail -n +"$((mark + 1))" "$logs/containerd.log" | grep -a -m1 'hcsshim\|Module not found' | sed 's/^time="[^"]*" //')
    [ -z "$e" ] || s_import+=" (containerd: $e)"
    # Content only (no unpack): the run would unpack into the same snapshotter, so it is not tried.
    if ctr 60 images import --no-unpack 'C:\litebox-test\hello.tar' >"$logs/import-no-unpack.log" 2>&1 &&
        ctr 30 images ls -q 2>/dev/null | grep -q "^$image"; then
      s_import+="; with --no-unpack: yes (content and image record only; a run unpacks the same way)"
    else
      s_import+="; with --no-unpack: no ($(tail -1 "$logs/import-no-unpack.log"))"
    fi
  fi
else
  s_import="not run: could not build the image archive"
fi

# ------------------------------------------------------------------------------------------------- 7. end
ctr 30 containers ls >"$logs/containers.log" 2>&1
finish
wait "$containerd_pid" 2>/dev/null
say "logs in $logs"
summary
