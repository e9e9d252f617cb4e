#!/usr/bin/env bash
# The .deb, installed for real into this machine's /usr and /etc, and purged again:
#   - packaging/debian/build-deb.sh builds it twice from BUILD_DIR (no compiling): the version git gives and an
#     older one (LITEBOX_DEB_VERSION); lintian checks the newer one (no errors allowed; warnings listed);
#   - `dpkg -i` the older, edit /etc/containerd/litebox-shim.json, `dpkg -i` the newer: the edit is kept, with
#     no conffile prompt;
#   - the shipped drop-ins merge as documented: `containerd config dump` of Debian 12's config.toml with and
#     without the imports line differ only by the runtimes.litebox tables, under Debian's containerd 1.6 and
#     (when build/peers has them) containerd 1.7 and 2.x;
#   - a private containerd (tests/scripts/private-containerd.sh: socket and state of its own) whose config
#     imports the shipped drop-in runs busybox containers by runtime name io.containerd.litebox.v1, with the
#     shim found on a PATH holding nothing of the build tree (/usr/bin's, checked on the running shim),
#     its options from the edited conffile; `litebox-ctl fds` on a running one; the gRPC transport's module
#     found where the package put it (under containerd 1.7, when build/peers has it);
#   - `dpkg --purge`: every path the package installed is gone (directories other packages share stay), the
#     conffile too, no /run/containerd/litebox state, no process; containerd still starts with the imports
#     line left in config.toml.
# Usage: deb_install_test.sh BUILD_DIR [WORK_DIR]
#   BUILD_DIR: a built tree configured with CMAKE_INSTALL_PREFIX=/usr (build/ci); WORK_DIR (default
#   BUILD_DIR/deb-test): the .debs and the logs. LITEBOX_PEERS_DIR: where build-peers.sh put containerd 1.7 and
#   2.x (default build/peers); without them their checks are skipped with a note.
# Output: TAP-like `ok N - what` / `not ok N - what` with `#` details; stops at the first failure.
# Exit: 0 passed, 1 failed, 77 skipped (not root, or no dpkg/containerd). Cleans up on every path: containerd
# stopped, its containers and shims gone, the package purged.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../scripts/private-containerd.sh
. "$repo/tests/scripts/private-containerd.sh"

usage() { echo "usage: $0 BUILD_DIR [WORK_DIR]" >&2; exit 2; }
[ $# -ge 1 ] || usage
build=$(cd "$1" && pwd) || usage
work=${2:-$build/deb-test}
pkg=containerd-shim-litebox
shim=/usr/bin/containerd-shim-litebox-v1
# Nothing of the build tree, nor /usr/local: what containerd and the tests run is what the package installed.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
started=$SECONDS

n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
note() { echo "# $*"; }
show() { sed 's/^/#   /' "$1" | tail -n "${2:-25}"; }
fail() { n=$((n + 1)); echo "not ok $n - $*"; exit 1; }
skip() { echo "1..0 # SKIP $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (dpkg -i into /usr, containers)"
for tool in dpkg dpkg-deb dpkg-query containerd ctr; do command -v "$tool" >/dev/null || skip "needs $tool"; done
[ -x /bin/busybox ] || skip "needs busybox-static"
status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
if [ -n "$status" ] && [ "$status" != not-installed ]; then
  fail "$pkg is already on this machine ($status): the test installs and purges it; purge it first"
fi

multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
peers=${LITEBOX_PEERS_DIR:-$repo/build/peers}  # containerd 1.7 and 2.x from tests/consumers/build-peers.sh
# shellcheck source=../consumers/peers.env
. "$repo/tests/consumers/peers.env"
containerd17=$peers/containerd-$CONTAINERD17_VERSION/bin
containerd2=$peers/containerd-$CONTAINERD_VERSION/bin

rm -rf "$work"
mkdir -p "$work/debs"
lintian_pid=
installed=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -z "$lintian_pid" ] || kill "$lintian_pid" 2>/dev/null
  pcd_cleanup
  if [ "$installed" = 1 ]; then
    echo "# cleanup: dpkg --purge $pkg"
    dpkg --purge "$pkg" </dev/null >/dev/null 2>&1 || echo "# cleanup: dpkg --purge $pkg failed" >&2
  fi
  rm -rf "$work/rootfs" "$work/dump"
  echo "# deb_install_test: $n checks, $((SECONDS - started)) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------------------------------- the packages
build_deb() {  # build_deb LOG [VERSION]: the .deb's path
  LITEBOX_DEB_VERSION=${2:-} "$repo/packaging/debian/build-deb.sh" "$build" "$work/debs" 2>"$1" | tail -n 1
}
t=$SECONDS
newer=$(build_deb "$work/build-newer.log") && [ -f "$newer" ] || { show "$work/build-newer.log"; fail "build-deb.sh $build"; }
version=$(dpkg-deb -f "$newer" Version)
older_version=${version%-*}~older-1
dpkg --compare-versions "$older_version" lt "$version" || fail "$older_version is not older than $version"
older=$(build_deb "$work/build-older.log" "$older_version") && [ -f "$older" ] ||
  { show "$work/build-older.log"; fail "build-deb.sh with LITEBOX_DEB_VERSION=$older_version"; }
ok "build-deb.sh: $(basename "$newer") ($(stat -c %s "$newer") bytes) and $(basename "$older"), $((SECONDS - t)) s"
sed 's/^build-deb: /# /' "$work/build-newer.log" | grep -v '^# .*from /' || true
dpkg-deb -c "$newer" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' | grep -v '^\.\?$' >"$work/files"
note "$(grep -c . "$work/files") paths; the files and their sizes:"
dpkg-deb -c "$newer" | awk '$1 !~ /^d/ {printf "#   %8s %s\n", $3, substr($6, 2)}'

if command -v lintian >/dev/null; then
  lintian --no-tag-display-limit "$newer" >"$work/lintian.out" 2>"$work/lintian.err" &
  lintian_pid=$!
fi

# What exists before: shared directories must stay, anything else in the package must not be there yet.
: >"$work/preexisting"
while read -r path; do
  if [ -d "$path" ] && [ ! -L "$path" ]; then echo "$path" >>"$work/preexisting"
  elif [ -e "$path" ] || [ -L "$path" ]; then fail "$path exists and is not from $pkg: installing would overwrite it"
  fi
done <"$work/files"
state_dirs=(/run/containerd/litebox /run/litebox-runtime)
namespaces=()  # the containerd namespaces the test's containers ran in
declare -A state_before=()
for d in "${state_dirs[@]}"; do
  state_before[$d]=absent
  [ -d "$d" ] || continue
  if [ -n "$(find "$d" -mindepth 1 ! -type d -print -quit)" ]; then state_before[$d]=busy; else state_before[$d]=empty; fi
done
ls /run/containerd/s 2>/dev/null | sort >"$work/sockets-before"

# ------------------------------------------------------------------------------- install, edit, upgrade
t=$SECONDS
installed=1
timeout 120 dpkg -i "$older" </dev/null >"$work/dpkg-older.log" 2>&1 || { show "$work/dpkg-older.log"; fail "dpkg -i $(basename "$older")"; }
[ "$(dpkg-query -W -f='${Version}' "$pkg")" = "$older_version" ] || fail "dpkg-query does not report $older_version installed"
grep -q 'config-v2.d/\*.toml' "$work/dpkg-older.log" || { show "$work/dpkg-older.log"; fail "the first install's message names no imports line"; }
dpkg-query -W -f='${Conffiles}\n' "$pkg" | grep -q '^ /etc/containerd/litebox-shim.json ' || fail "/etc/containerd/litebox-shim.json is not a conffile"
ok "dpkg -i $older_version; the message on first install names the imports lines"
note "$(sed -n '/^containerd-shim-litebox:/,$p' "$work/dpkg-older.log" | head -n 6 | tr '\n' '|')"

conffile=/etc/containerd/litebox-shim.json
cat >"$conffile" <<'JSON'
{
  "transport": "ttrpc",
  "log_level": "debug",
  "runtime_root": "/run/containerd/litebox",
  "core": true,
  "core_descriptor_budget": 4096
}
JSON
cp "$conffile" "$work/edited.json"
timeout 120 dpkg -i "$newer" </dev/null >"$work/dpkg-newer.log" 2>&1 || { show "$work/dpkg-newer.log"; fail "dpkg -i $(basename "$newer") over $older_version (a conffile prompt fails here: stdin is /dev/null)"; }
[ "$(dpkg-query -W -f='${Version}' "$pkg")" = "$version" ] || fail "dpkg-query does not report $version installed"
cmp -s "$conffile" "$work/edited.json" || fail "the edited $conffile did not survive the upgrade"
leftover=$(find /etc/containerd -maxdepth 1 -name 'litebox-shim.json.dpkg-*')
[ -z "$leftover" ] || fail "the upgrade left $leftover"
! grep -q 'config-v2.d/\*.toml' "$work/dpkg-newer.log" || fail "the upgrade repeated the first install's message"
ok "dpkg -i $version over it: the edited conffile kept, no prompt, no .dpkg-* file ($((SECONDS - t)) s for both)"

# -------------------------------------------------------------------------------------- what is installed
for cmd in containerd-shim-litebox-v1 litebox-ctl litebox-runtime; do
  [ "$(command -v "$cmd")" = "/usr/bin/$cmd" ] || fail "$cmd resolves to '$(command -v "$cmd")' on PATH=$PATH, not /usr/bin/$cmd"
done
module=/usr/lib/$multiarch/containerd-shim-litebox-v1/litebox-shim-grpc.so
[ -f "$module" ] || fail "no $module"
for page in man8/containerd-shim-litebox-v1.8 man8/litebox-runtime.8 man1/litebox-ctl.1; do
  [ -f "/usr/share/man/$page.gz" ] || fail "no /usr/share/man/$page.gz"
done
ok "the three commands on PATH from /usr/bin, the gRPC module in /usr/lib/$multiarch/containerd-shim-litebox-v1/, the man pages"

"$shim" -v >"$work/shim-v" 2>&1 || { show "$work/shim-v"; fail "$shim -v"; }
shim_version=$(awk '$1 == "Version:" {print $2}' "$work/shim-v")
shim_revision=$(awk '$1 == "Revision:" {print $2}' "$work/shim-v")
upstream=${version%-*}
[ "$shim_version" = "${upstream%%[~+]*}" ] || { show "$work/shim-v"; fail "-v says Version $shim_version, the package is $version"; }
if [[ $upstream =~ git[0-9]{8}\.([0-9]+\.)?([0-9a-f]{12}) ]]; then
  [ "$shim_revision" = "${BASH_REMATCH[2]}" ] || { show "$work/shim-v"; fail "-v says Revision $shim_revision, the package version names ${BASH_REMATCH[2]}"; }
fi
ok "containerd-shim-litebox-v1 -v: Version $shim_version, Revision $shim_revision (package $version)"

# ------------------------------------------------------------------------------- the drop-ins, merged
v2_import='/usr/share/litebox/containerd/config-v2.d/*.toml'
v3_import='/usr/share/litebox/containerd/config-v3.d/*.toml'
mkdir -p "$work/dump"
# Debian 12's /etc/containerd/config.toml (containerd 1.6.20~ds1-1+deb12u3), as the package installs it.
debian_config() {
  printf 'version = 2\n'
  [ -z "${1:-}" ] || printf 'imports = ["%s"]\n' "$1"
  cat <<'TOML'

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "/var/lib/containerd/opt"
TOML
}
without_litebox() {  # a config dump without its runtimes.litebox tables and its imports line
  awk '/^ *\[/ {skip = ($0 ~ /runtimes\.litebox[].]/)} !skip && !/^ *imports *=/' "$1"
}
# merge_check LABEL CONTAINERD BASE WITH: dumps of BASE and WITH (BASE plus our import) equal but for the
# runtime's tables, which WITH has.
merge_check() {
  local label=$1 bin=$2 base=$3 with=$4 d=$work/dump/$1
  "$bin" --config "$base" config dump >"$d.base" 2>"$d.err" || { show "$d.err"; fail "$label: containerd config dump of $base"; }
  "$bin" --config "$with" config dump >"$d.with" 2>"$d.err" || { show "$d.err"; fail "$label: containerd config dump with the import"; }
  grep -q 'runtimes\.litebox\]' "$d.with" || { show "$d.with" 60; fail "$label: the dump with the import has no runtimes.litebox"; }
  # (1.x dumps "strings", 2.x 'strings')
  grep -A16 'runtimes\.litebox\]' "$d.with" | grep -qE "runtime_type = [\"']io\.containerd\.litebox\.v1[\"']" ||
    { show "$d.with" 60; fail "$label: runtimes.litebox has no runtime_type io.containerd.litebox.v1"; }
  grep -qE "ConfigPath = [\"']/etc/containerd/litebox-shim\.json[\"']" "$d.with" || fail "$label: no ConfigPath to the conffile"
  if ! diff <(without_litebox "$d.base") <(without_litebox "$d.with") >"$d.diff"; then
    show "$d.diff" 40
    fail "$label: the import changed more than the runtimes.litebox tables"
  fi
}
debian_config >"$work/dump/debian.toml"
debian_config "$v2_import" >"$work/dump/debian-import.toml"
merge_check containerd16 containerd "$work/dump/debian.toml" "$work/dump/debian-import.toml"
ok "containerd $(containerd --version | awk '{print $3}'): Debian's config.toml + the v2 import = Debian's + runtimes.litebox (config dump)"
if [ -x "$containerd17/containerd" ]; then
  merge_check containerd17 "$containerd17/containerd" "$work/dump/debian.toml" "$work/dump/debian-import.toml"
  ok "containerd $CONTAINERD17_VERSION: the same"
else
  note "containerd $CONTAINERD17_VERSION not in build/peers (tests/consumers/build-peers.sh): its merge not checked"
fi
if [ -x "$containerd2/containerd" ]; then
  # containerd 2.x's own default config.toml (with imports = ["/etc/containerd/conf.d/*.toml"]), and with our
  # pattern added to that list.
  "$containerd2/containerd" config default >"$work/dump/default2.toml" 2>/dev/null || fail "containerd 2.x config default"
  grep -q '^imports = \[' "$work/dump/default2.toml" || fail "containerd 2.x's default config has no imports line"
  sed "s|^imports = \[\(.*\)\]|imports = [\1, \"$v3_import\"]|" "$work/dump/default2.toml" >"$work/dump/default2-import.toml"
  merge_check containerd2 "$containerd2/containerd" "$work/dump/default2.toml" "$work/dump/default2-import.toml"
  ok "containerd $CONTAINERD_VERSION: its default config.toml + the v3 import = the same + runtimes.litebox"
else
  note "containerd $CONTAINERD_VERSION not in build/peers: its merge not checked"
fi

# ------------------------------------------------------------------------------------- containers
t=$SECONDS
id=deb-$$
PCD_IMPORTS=$v2_import pcd_start deb || fail "start a private containerd importing $v2_import"
namespaces+=("$PCD_NAMESPACE")
"$PCD_CONTAINERD" --config "$PCD_DIR/config.toml" config dump >"$work/private-dump" 2>&1
# (its CRI plugin is disabled, so the dump shows the import among the files read, not the runtime's tables)
grep -q '^imports = .*/usr/share/litebox/containerd/config-v2.d/litebox.toml' "$work/private-dump" ||
  { show "$work/private-dump"; fail "the private containerd did not read the imported file"; }
rootfs=$PCD_DIR/rootfs
pcd_build_rootfs "$rootfs" || fail "busybox rootfs"
ok "a private containerd ($PCD_ADDRESS) whose config imports $v2_import"

run=(run --runtime io.containerd.litebox.v1 --runtime-config-path "$conffile" "${PCD_RUN_OPTS[@]}")
pcd_ctr "${run[@]}" --rm --rootfs "$rootfs" "$id-rm" sh -c 'echo hello from the packaged shim; ls /proc/self/fd' \
  >"$work/run-rm.out" 2>&1 || { show "$work/run-rm.out"; pcd_dump_log 30; fail "ctr run --rm --runtime io.containerd.litebox.v1"; }
grep -q 'hello from the packaged shim' "$work/run-rm.out" || { show "$work/run-rm.out"; fail "the container's output is missing"; }
ok "ctr run --rm --runtime io.containerd.litebox.v1 (options from the edited conffile): $(head -n 1 "$work/run-rm.out")"

pcd_ctr "${run[@]}" -d --rootfs "$rootfs" "$id" sleep 300 >"$work/run-d.out" 2>&1 || { show "$work/run-d.out"; fail "ctr run -d"; }
pids=$(pcd_shim_pids "$id")
[ -n "$pids" ] || fail "no shim process serves $id"
for pid in $pids; do
  exe=$(readlink "/proc/$pid/exe")
  [ "$exe" = "$shim" ] || fail "the shim serving $id is $exe, not $shim"
done
litebox-ctl --namespace "$PCD_NAMESPACE" fds "$id" >"$work/fds.out" 2>&1 || { show "$work/fds.out"; fail "litebox-ctl fds $id"; }
grep -q '(pid 1 in the container) sleep' "$work/fds.out" || { show "$work/fds.out"; fail "litebox-ctl fds lists no sleep process"; }
for fd in 0 1 2; do grep -qE "^$fd +" "$work/fds.out" || { show "$work/fds.out"; fail "litebox-ctl fds lists no descriptor $fd"; }; done
ok "ctr run -d: served by $shim (pid $pids), litebox-ctl fds lists its table ($(grep -cE '^[0-9]+ ' "$work/fds.out") descriptors)"
sed 's/^/#   /' "$work/fds.out"
[ -f "/run/containerd/litebox/$PCD_NAMESPACE/$id/shim.address" ] || fail "no state under the conffile's runtime_root /run/containerd/litebox"
pcd_ctr task kill -s KILL "$id" >/dev/null 2>&1
for _ in $(seq 1 50); do
  [ "$(pcd_ctr task ls 2>/dev/null | awk -v id="$id" '$1 == id {print $3}')" = STOPPED ] && break
  sleep 0.1
done
pcd_ctr task delete "$id" >/dev/null 2>&1 || fail "ctr task delete $id"
pcd_ctr container delete "$id" >/dev/null 2>&1 || fail "ctr container delete $id"
ok "kill, delete ($((SECONDS - t)) s with containerd)"
pcd_cleanup

if [ -x "$containerd17/containerd" ]; then
  # The gRPC transport: the shim loads litebox-shim-grpc.so from /usr/lib/<multiarch>/containerd-shim-litebox-v1/.
  t=$SECONDS
  sed 's/"transport": "ttrpc"/"transport": "grpc"/' "$work/edited.json" >"$work/grpc.json"
  PCD_NAMESPACE=  # a namespace of its own again (set here: an assignment before a function call is undone after it)
  PCD_CONTAINERD_DIR=$containerd17 PCD_IMPORTS=$v2_import pcd_start deb17 || fail "start containerd $CONTAINERD17_VERSION"
  namespaces+=("$PCD_NAMESPACE")
  pcd_build_rootfs "$PCD_DIR/rootfs" || fail "busybox rootfs"
  pcd_ctr run --runtime io.containerd.litebox.v1 --runtime-config-path "$work/grpc.json" "${PCD_RUN_OPTS[@]}" -d \
    --rootfs "$PCD_DIR/rootfs" "$id-grpc" sleep 300 >"$work/run-grpc.out" 2>&1 ||
    { show "$work/run-grpc.out"; pcd_dump_log 30; fail "ctr run with transport grpc under containerd $CONTAINERD17_VERSION"; }
  address=$PCD_DIR/state/io.containerd.runtime.v2.task/$PCD_NAMESPACE/$id-grpc/address
  grep -q '"protocol":"grpc"' "$address" 2>/dev/null || { show "$address"; fail "containerd did not record a gRPC shim"; }
  pcd_ctr task kill -s KILL "$id-grpc" >/dev/null 2>&1
  pcd_cleanup
  ok "transport grpc under containerd $CONTAINERD17_VERSION: the shim loaded the packaged module ($((SECONDS - t)) s)"
else
  note "containerd $CONTAINERD17_VERSION not in build/peers: the gRPC module not run"
fi

left=$(for p in /proc/[0-9]*; do
  exe=$(readlink "$p/exe" 2>/dev/null) || continue
  case $exe in "$shim" | "$shim (deleted)" | /usr/bin/litebox-runtime*) echo "${p#/proc/} $exe" ;; esac
done)
[ -z "$left" ] || fail "processes left after containerd stopped: $left"

# ------------------------------------------------------------------------------------------- lintian
if [ -n "$lintian_pid" ]; then
  wait "$lintian_pid"
  lintian_rc=$?
  lintian_pid=
  errors=$(grep -c '^E: ' "$work/lintian.out")
  warnings=$(grep -c '^W: ' "$work/lintian.out")
  sed 's/^/#   /' "$work/lintian.out"
  [ "$errors" -eq 0 ] || fail "lintian: $errors errors"
  [ "$lintian_rc" -eq 0 ] || [ "$warnings" -gt 0 ] || { show "$work/lintian.err"; fail "lintian exited $lintian_rc"; }
  ok "lintian $(lintian --version | awk '{print $2}'): no errors, $warnings warnings"
else
  note "lintian not installed (tests/scripts/setup-deps.sh installs it): not run"
fi

# ---------------------------------------------------------------------------------------------- purge
dpkg-query -L "$pkg" | grep -v '^/\.$' >"$work/installed-files"
timeout 120 dpkg --purge "$pkg" </dev/null >"$work/purge.log" 2>&1 || { show "$work/purge.log"; fail "dpkg --purge $pkg"; }
installed=0
[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" = not-installed ] ||
  [ -z "$(dpkg-query -W "$pkg" 2>/dev/null)" ] || fail "dpkg still knows $pkg after purge"
left=()
while read -r path; do
  if grep -qxF "$path" "$work/preexisting"; then
    [ -d "$path" ] || fail "$path, which existed before the install, is gone"
  elif [ -e "$path" ] || [ -L "$path" ]; then
    left+=("$path")
  fi
done < <(sort -u "$work/files" "$work/installed-files")
[ ${#left[@]} -eq 0 ] || fail "left after purge: ${left[*]}"
[ ! -e "$conffile" ] || fail "$conffile left after purge"
[ -z "$(find /etc/containerd -maxdepth 1 -name 'litebox-shim.json*' 2>/dev/null)" ] || fail "litebox-shim.json.* left in /etc/containerd"
for d in "${state_dirs[@]}"; do
  for ns in "${namespaces[@]}"; do
    [ ! -e "$d/$ns" ] || fail "$d/$ns left after purge"
  done
  [ -e "$d" ] || continue
  # Another containerd's containers on this machine (before or during the test) keep theirs, as postrm
  # leaves a folder that holds state; nothing of ours and no empty folder may be there.
  others=$(find "$d" -mindepth 1 -maxdepth 1 -printf '%f ')
  [ -n "$(find "$d" -mindepth 1 ! -type d -print -quit)" ] || fail "$d left after purge, with nothing in it but ${others:-nothing}"
  note "$d kept: other containers' state is there (${state_before[$d]} before the test; now ${others% })"
done
new_sockets=$(ls /run/containerd/s 2>/dev/null | sort | comm -13 "$work/sockets-before" -)
[ -z "$new_sockets" ] || fail "shim sockets left in /run/containerd/s: $new_sockets"
ok "dpkg --purge: the $(grep -c . "$work/installed-files") paths it installed gone ($(grep -c . "$work/preexisting") shared directories kept), the conffile, the containers' state, no socket, no process"

# The imports line left behind in config.toml: its pattern matches nothing, and containerd still starts.
containerd --config "$work/dump/debian-import.toml" config dump >"$work/dump/after-purge" 2>&1 ||
  { show "$work/dump/after-purge"; fail "containerd does not load a config.toml whose import pattern matches nothing"; }
diff <(without_litebox "$work/dump/containerd16.base") <(without_litebox "$work/dump/after-purge") >/dev/null ||
  fail "after purge, the config with the imports line differs from Debian's"
ok "after purge, a config.toml still importing config-v2.d/*.toml loads (as Debian's own)"
echo "1..$n"
