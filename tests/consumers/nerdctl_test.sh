#!/usr/bin/env bash
# End-to-end test of containerd-shim-litebox-v1 driven by nerdctl (v2.3.5) against a private containerd
# (tests/scripts/private-containerd.sh: its own socket, root, state and namespace under /run/litebox-nerdctl-PID,
# never the machine's). nerdctl gets its own state too: --data-root, --cni-netconfpath under that directory,
# NERDCTL_TOML an empty file there. Images are built from a busybox rootfs (tests/scripts/oci-image.sh) and loaded
# (`nerdctl load`; containerd 1.6 has no transfer service, so there `ctr images import`): nothing is ever pulled.
# Usage: nerdctl_test.sh SHIM_BINARY SCRATCH_DIR
# Environment:
#   NERDCTL_TEST_NERDCTL          the nerdctl binary (default: build/peers/nerdctl-v2.3.5/bin/nerdctl of this
#                                 checkout, from tests/consumers/build-peers.sh nerdctl)
#   NERDCTL_TEST_CONTAINERD_DIR   a folder holding containerd and ctr of containerd 2.x
#                                 (build/peers/containerd-v2.4.2/bin); empty or unset: Debian's containerd 1.6 on PATH
#   NERDCTL_TEST_LITEBOX_CTL      litebox-ctl (default: next to SHIM_BINARY, else on PATH)
#   NERDCTL_TEST_LITEBOX_RUNTIME  litebox-runtime (default: ../platforms/linux/ of SHIM_BINARY's build, next to it,
#                                 else on PATH)
#   NERDCTL_TEST_ONLY=REGEX       runs only the tests whose function name matches (e.g. 'tty|seccomp')
#   NERDCTL_TEST_KEEP=1           keeps the work dir under SCRATCH_DIR (with a copy of containerd's log)
# Output: TAP-like `ok N - name` / `not ok N - name` (details on `#` lines) and a summary.
# Exit: 0 all passed, 1 a check failed, 77 skipped (a prerequisite missing; the message names it).
# Every nerdctl call is limited to 60 s (timeout(1)), every wait for a state to 10 s.
#
# The default-network test (bridge nerdctl0 with Debian's containernetworking-plugins in /usr/lib/cni) changes the
# host for a moment, as nerdctl does: a bridge, iptables chains of the CNI firewall plugin, host-local state in
# /var/lib/cni, net.ipv4.ip_forward. The test puts all of it back (also when interrupted) and checks that it did;
# it sends packets only to the bridge's own address on this host.
# shellcheck disable=SC2317 # the tests and helpers are called through run_test, wait_until and traps
set -uo pipefail

if [ $# -ne 2 ]; then echo "usage: $0 SHIM_BINARY SCRATCH_DIR" >&2; exit 2; fi
shim=$1
scratch=$2
repo=$(cd "$(dirname "$0")/../.." && pwd)
only=${NERDCTL_TEST_ONLY:-}
runtime=io.containerd.litebox.v1

skip() { echo "1..0 # SKIP $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (containerd, namespaces, mounts and cgroups)"
if [ ! -f "$shim" ] || [ ! -x "$shim" ]; then echo "shim binary not found or not executable: $shim" >&2; exit 2; fi
shim=$(readlink -f "$shim")

nerdctl=${NERDCTL_TEST_NERDCTL:-}
if [ -z "$nerdctl" ] && [ -x "$repo/build/peers/nerdctl-v2.3.5/bin/nerdctl" ]; then
  nerdctl=$repo/build/peers/nerdctl-v2.3.5/bin/nerdctl
fi
[ -n "$nerdctl" ] || skip "needs nerdctl: set NERDCTL_TEST_NERDCTL (built by tests/consumers/build-peers.sh nerdctl)"
[ -x "$nerdctl" ] || skip "needs nerdctl: NERDCTL_TEST_NERDCTL=$nerdctl is not an executable"
# nerdctl's OCI hooks and its binary:// log driver run nerdctl again by the path it was started with.
nerdctl=$(readlink -f "$nerdctl")
export PCD_CONTAINERD_DIR=${NERDCTL_TEST_CONTAINERD_DIR:-}
for tool in timeout awk find ip base64; do
  command -v "$tool" >/dev/null || skip "needs $tool"
done

# shellcheck source=SCRIPTDIR/../scripts/private-containerd.sh
. "$repo/tests/scripts/private-containerd.sh"
# shellcheck source=SCRIPTDIR/../scripts/oci-image.sh
. "$repo/tests/scripts/oci-image.sh"
reason=$(pcd_require 2>&1) || skip "${reason#private-containerd: }${PCD_CONTAINERD_DIR:+ (NERDCTL_TEST_CONTAINERD_DIR)}"

litebox_ctl=${NERDCTL_TEST_LITEBOX_CTL:-}
[ -n "$litebox_ctl" ] || { [ -x "$(dirname "$shim")/litebox-ctl" ] && litebox_ctl=$(dirname "$shim")/litebox-ctl; }
[ -n "$litebox_ctl" ] || litebox_ctl=$(command -v litebox-ctl || true)
litebox_runtime=${NERDCTL_TEST_LITEBOX_RUNTIME:-}
for candidate in "$(dirname "$shim")/../platforms/linux/litebox-runtime" "$(dirname "$shim")/litebox-runtime"; do
  if [ -z "$litebox_runtime" ] && [ -x "$candidate" ]; then litebox_runtime=$(readlink -f "$candidate"); fi
done
[ -n "$litebox_runtime" ] || litebox_runtime=$(command -v litebox-runtime || true)

started_at=$(date +%s)
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
work=$(mktemp -d "$scratch/nerdctl-XXXXXX")
image=litebox.test/nerdctl-busybox:$$

# ---------------------------------------------------------------------------------------------- helpers
nc_timeout=60
cni_path=   # --cni-path: our empty folder under PCD_DIR, /usr/lib/cni for the default network's test
NC() {  # nerdctl against our containerd, with its own state, at most $nc_timeout s
  timeout -k 5 "$nc_timeout" "$nerdctl" --address "$PCD_ADDRESS" --namespace "$PCD_NAMESPACE" \
    --data-root "$PCD_DIR/nerdctl" --cni-path "${cni_path:-$PCD_DIR/cni/bin}" --cni-netconfpath "$PCD_DIR/cni/net.d" \
    --cgroup-manager cgroupfs "$@"
}
cmdline() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"; }
wait_until() {  # wait_until SECONDS COMMAND...: poll every 0.1 s until it succeeds or the time is up
  local end=$((SECONDS + $1))
  shift
  while [ "$SECONDS" -lt "$end" ]; do "$@" && return 0; sleep 0.1; done
  "$@"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
status_of() { NC inspect --format '{{.State.Status}}' "$1" 2>/dev/null </dev/null; }
is_status() { [ "$(status_of "$1")" = "$2" ]; }
exit_code_of() { NC inspect --format '{{.State.ExitCode}}' "$1" 2>/dev/null </dev/null; }
listed() { NC ps -a --format '{{.Names}}' </dev/null 2>/dev/null | grep -qxF -- "$1"; }
logs_have() { NC logs "$1" </dev/null 2>&1 | grep -qF -- "$2"; }
shim_pids_of() { pcd_shim_pids "$1"; }
no_shim_for() { [ -z "$(pcd_shim_pids "$1")" ]; }
no_address_pids() { [ -z "$(pcd_address_pids)" ]; }
cgroup_dirs_of() {  # the container's cgroup directories (cgroupsPath /NS/ID with --cgroup-manager cgroupfs)
  local d
  for d in /sys/fs/cgroup/"$PCD_NAMESPACE/$1" /sys/fs/cgroup/*/"$PCD_NAMESPACE/$1"; do [ -d "$d" ] && echo "$d"; done
}
procs_in_cgroup_of() {  # processes in the container's cgroups
  local d
  for d in $(cgroup_dirs_of "$1"); do cat "$d/cgroup.procs" 2>/dev/null; done | sort -un |
    while read -r p; do echo "$p ($(cmdline "$p"))"; done
}
no_cgroup_dirs_of() { [ -z "$(cgroup_dirs_of "$1")" ]; }
our_mounts() { awk -v dir="$PCD_DIR/" 'index($5, dir) == 1 {print $5}' /proc/self/mountinfo; }
fnv1a() {  # fnv1a TEXT OFFSET_BASIS: 64-bit FNV-1a, as 16 hex digits (bash's arithmetic wraps at 64 bits)
  local s=$1 h=$2 i c
  for ((i = 0; i < ${#s}; i++)); do
    printf -v c '%d' "'${s:i:1}"
    h=$(((h ^ c) * 0x100000001b3))
  done
  printf '%016x' "$h"
}
shim_sockets_of() {  # the shim socket paths of a container: what the shim logged serving, and where the shim
  # puts it (runtime_shim/src/shim_socket.cpp: /run/containerd/s/<FNV-1a of address/namespace/group>; a
  # nerdctl container is a group of its own)
  local key=$PCD_ADDRESS/$PCD_NAMESPACE/$1
  {
    grep -aoE "serving $1 in namespace [^ ]+ on /[^ ]+" "$PCD_LOG" 2>/dev/null | awk '{print $NF}'
    echo "/run/containerd/s/$(fnv1a "$key" 0xcbf29ce484222325)$(fnv1a "$key" 0x84222325cbf29ce4)"
  } | sort -u
}
fifos_of() { find /run/containerd/fifo -maxdepth 2 -name "$1-*" 2>/dev/null; }
link_names() { awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort -u; }   # from `ip -o link`
procnetdev_names() { awk -F: 'NR > 2 {gsub(/ /, "", $1); print $1}' | sort -u; }  # from /proc/net/dev

# What nothing of container ID (name NAME) may leave behind once it is removed (or failed to start).
check_gone() {  # check_gone NAME ID
  local name=$1 id=$2 s left
  if listed "$name"; then bad "$name still listed by nerdctl ps -a"; fi
  wait_until 10 no_shim_for "$id" ||
    bad "shim process left for $id: $(for p in $(shim_pids_of "$id"); do echo "$p: $(cmdline "$p")"; done)"
  wait_until 5 no_cgroup_dirs_of "$id" || {
    bad "cgroup directories left: $(cgroup_dirs_of "$id" | tr '\n' ' ')"
    left=$(procs_in_cgroup_of "$id")
    [ -z "$left" ] || bad "processes left in its cgroup: $left"
  }
  left=$(awk -v t="$id" 'index($5, t) || index($4, t) {print $5}' /proc/self/mountinfo)
  expect_eq "mounts naming $id" "" "$left"
  for s in $(shim_sockets_of "$id"); do [ ! -e "$s" ] || bad "shim socket left: $s"; done
  expect_eq "FIFOs of $id left in /run/containerd/fifo" "" "$(fifos_of "$id")"
  [ ! -e "$PCD_DIR/state/io.containerd.runtime.v2.task/$PCD_NAMESPACE/$id" ] || bad "bundle left: $PCD_DIR/state/io.containerd.runtime.v2.task/$PCD_NAMESPACE/$id"
  [ ! -e "/run/containerd/litebox/$PCD_NAMESPACE/$id" ] || bad "runtime state left: /run/containerd/litebox/$PCD_NAMESPACE/$id"
}

# A detached container of this test: run_d NAME [NERDCTL OPTIONS...] -- COMMAND...; its id in $cid.
cid=
run_d() {
  local name=$1 opts=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  t_names+=("$name")
  all_names+=("$name")
  cid=$(NC run -d --pull never --runtime "$runtime" --net none --name "$name" "${opts[@]}" "$image" "$@" \
    </dev/null 2>"$tdir/$name.run.err")
  local rc=$?
  [ "$rc" -eq 0 ] && [ -n "$cid" ] && { all_ids+=("$cid"); return 0; }
  bad "nerdctl run -d --name $name failed (exit code $rc)"
  show stderr "$tdir/$name.run.err"
  return 1
}
name_of_test() { t_names+=("$1"); all_names+=("$1"); }
nerdctl_cmd() {  # the nerdctl command line as one shell word list (for script -c)
  local words
  printf -v words '%q ' "$nerdctl" --address "$PCD_ADDRESS" --namespace "$PCD_NAMESPACE" \
    --data-root "$PCD_DIR/nerdctl" --cni-path "$PCD_DIR/cni/bin" --cni-netconfpath "$PCD_DIR/cni/net.d" \
    --cgroup-manager cgroupfs "$@"
  # --foreground: timeout would otherwise put nerdctl in a process group of its own, in the background of
  # script's terminal, and nerdctl's tcsetattr (raw mode) would stop it with SIGTTOU.
  echo "timeout --foreground -k 5 $nc_timeout $words"
}

# ---------------------------------------------------------------------------------------------- harness
n=0
failed=0
failed_names=()
skipped_names=()
all_names=()
all_ids=()
t_names=()
tfail=0
skip_reason=
note=
tdir=$work
diag() {  # every line a `#` line, also of a multi-line message
  local message line
  for message in "$@"; do
    while IFS= read -r line; do printf '#   %s\n' "$line"; done <<<"$message"
  done
}
bad() { diag "$@"; tfail=1; }
expect_eq() {  # expect_eq WHAT EXPECTED ACTUAL
  [ "$2" == "$3" ] && return 0
  bad "$1: expected [$2], got [$3]"
  return 1
}
show() {  # show LABEL FILE: the first lines of a file in the diagnostics
  [ -s "$2" ] || return 0
  diag "$1:"
  head -c 3000 "$2" | head -n 20 | sed 's/^/#     /'
}
teardown_names() {
  local name
  for name in "$@"; do NC rm -f "$name" </dev/null >/dev/null 2>&1; done
}
log_problems() {  # errors and warnings in containerd's log after line $1, without the usual ones
  tail -n +"$(($1 + 1))" "$PCD_LOG" | grep -aE 'level=(error|warning|fatal)' |
    grep -avE 'is newer than [0-9.]+, the newest this runtime knows|cleaning up after shim disconnected|copy shim log" error="read /proc/self/fd/[0-9]+: file already closed'
}
run_test() {  # run_test NAME FUNCTION
  if [ -n "$only" ] && ! [[ $2 =~ $only ]]; then return; fi
  n=$((n + 1))
  t_names=()
  tfail=0
  skip_reason=
  note=
  local t0 log_lines
  t0=$(now_ms)
  tdir=$work/t$n
  mkdir -p "$tdir"
  log_lines=$(wc -l <"$PCD_LOG")
  "$2" || tfail=1
  [ ${#t_names[@]} -eq 0 ] || teardown_names "${t_names[@]}"
  local took
  took=$(awk -v ms=$(($(now_ms) - t0)) 'BEGIN {printf "%.1f", ms / 1000}')
  if [ -n "$skip_reason" ] && [ "$tfail" -eq 0 ]; then
    echo "ok $n - $1 ($took s) # SKIP $skip_reason"
    skipped_names+=("$1")
  elif [ "$tfail" -eq 0 ]; then
    echo "ok $n - $1 ($took s)${note:+ # $note}"
  else
    echo "not ok $n - $1 ($took s)"
    if log_problems "$log_lines" | grep -q .; then
      diag "containerd's log (errors and warnings during this test):"
      log_problems "$log_lines" | tail -n 8 | cut -c1-600 | sed 's/^/#     /'
    fi
    failed=$((failed + 1))
    failed_names+=("$1")
  fi
}

# ---------------------------------------------------------------------------------------------- network state
# The default network's test changes the host; net_save records what it finds, net_restore puts it back (it is
# also run by the EXIT trap), net_check_restored tells what differs.
net_touched=
net_fwd_before=
declare -A net_rules_before=()
net_cni_before=
net_tables() { echo "iptables:filter iptables:nat ip6tables:filter ip6tables:nat"; }
net_rules() {  # net_rules TOOL TABLE: its rules and chains (iptables -S), nothing when the tool cannot list it
  "$1" -w 5 -t "$2" -S 2>/dev/null | sort
}
# What CNI keeps of nerdctl's network "bridge" in /var/lib/cni: host-local's leases and lock
# (networks/bridge/...) and libcni's result cache (results/bridge-<container id>-eth0). Other users of
# /var/lib/cni (a CRI test's pods, say) are not ours to look at or remove.
net_cni_state() {
  find /var/lib/cni/networks/bridge /var/lib/cni/results -maxdepth 1 \( -path '/var/lib/cni/networks/bridge*' -o \
    -name 'bridge-*' \) 2>/dev/null | sort
}
net_fwd_kept= # veths of others that kept net.ipv4.ip_forward on
net_cni_dirs= # the folders of /var/lib/cni that were not there before (removed again if empty)
net_save() {
  local tt f
  net_fwd_before=$(cat /proc/sys/net/ipv4/ip_forward)
  for tt in $(net_tables); do net_rules_before[$tt]=$(net_rules "${tt%%:*}" "${tt#*:}"); done
  net_cni_before=$(net_cni_state)
  net_cni_dirs=
  for f in /var/lib/cni/networks/bridge /var/lib/cni/networks /var/lib/cni/results /var/lib/cni; do
    [ -e "$f" ] || net_cni_dirs+=" $f"
  done
  net_touched=1
}
net_ours() { grep -E 'CNI-|nerdctl0|10\.4\.0\.'; }   # the rules and chains nerdctl's default network makes
net_restore() {
  [ -n "$net_touched" ] || return 0
  local tt tool table line chain chains f
  ip link show nerdctl0 >/dev/null 2>&1 && ip link delete nerdctl0 2>/dev/null
  for tt in $(net_tables); do
    tool=${tt%%:*} table=${tt#*:}
    # New rules first (they jump to the new chains), then the new chains.
    while read -r line; do
      [ -n "$line" ] || continue
      eval "$tool -w 5 -t $table -D ${line#-A }" 2>/dev/null
    done < <(comm -13 <(lines "${net_rules_before[$tt]}") <(net_rules "$tool" "$table") | grep '^-A ' | net_ours)
    chains=$(comm -13 <(lines "${net_rules_before[$tt]}") <(net_rules "$tool" "$table") | grep '^-N ' | net_ours |
      sed 's/^-N //')
    # Flushed all before any is deleted: they jump to each other.
    for chain in $chains; do "$tool" -w 5 -t "$table" -F "$chain" 2>/dev/null; done
    for chain in $chains; do "$tool" -w 5 -t "$table" -X "$chain" 2>/dev/null; done
  done
  # The bridge plugin turned forwarding on (isGateway). Off again unless someone else's container network
  # (a veth that is not ours: ours went with the container) may need it now.
  net_fwd_kept=
  if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != "$net_fwd_before" ]; then
    net_fwd_kept=$(ip -o link show type veth 2>/dev/null | link_names | tr '\n' ' ')
    [ -n "$net_fwd_kept" ] || echo "$net_fwd_before" >/proc/sys/net/ipv4/ip_forward
  fi
  # host-local's leases and lock of the network "bridge", libcni's results of it: what was not there before;
  # then the folders we made, if nobody else put something in them meanwhile.
  while read -r f; do
    [ -n "$f" ] || continue
    if [ -d "$f" ]; then rmdir "$f" 2>/dev/null; else rm -f "$f"; fi
  done < <(comm -13 <(lines "$net_cni_before") <(net_cni_state) | sort -r)
  for f in $net_cni_dirs; do rmdir "$f" 2>/dev/null; done
  net_touched=
}
lines() { [ -z "$1" ] || printf '%s\n' "$1"; }   # a variable's lines; nothing (not an empty line) if empty
net_check_restored() {  # prints what differs from before
  local tt line
  ip link show nerdctl0 >/dev/null 2>&1 && echo "interface nerdctl0 left"
  for tt in $(net_tables); do
    while read -r line; do
      echo "${tt%%:*} -t ${tt#*:} differs: $line"
    done < <(comm -3 <(lines "${net_rules_before[$tt]}") <(net_rules "${tt%%:*}" "${tt#*:}"))
  done
  [ -n "$net_fwd_kept" ] || [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$net_fwd_before" ] ||
    echo "net.ipv4.ip_forward not restored"
  while read -r line; do echo "CNI state differs: $line"; done < <(comm -3 <(lines "$net_cni_before") <(net_cni_state))
}

# ---------------------------------------------------------------------------------------------- cleanup
cleanup() {
  local rc=$?
  trap - EXIT INT TERM ERR
  set +eE
  if [ -n "$PCD_PID" ] && [ ${#all_names[@]} -gt 0 ]; then
    nc_timeout=20 teardown_names "${all_names[@]}"
  fi
  [ -z "$PCD_LOG" ] || cp "$PCD_LOG" "$work/containerd.log" 2>/dev/null
  local ns=$PCD_NAMESPACE
  pcd_cleanup
  net_restore
  # The shim's runtime root keeps an (empty) folder per namespace; this namespace was ours.
  [ -z "$ns" ] || rmdir "/run/containerd/litebox/$ns" 2>/dev/null
  if [ "${NERDCTL_TEST_KEEP:-0}" = 1 ] || [ "$rc" -eq 1 ]; then
    echo "# kept $work (containerd.log, each test's output)"
  else
    rm -rf --one-file-system "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------- setup
# Set up with errors fatal (pcd_trap_errors reports the failing command with containerd's log); the tests then
# run without -e, each failure becoming a `not ok`.
set -eE
pcd_trap_errors nerdctl_test
# shellcheck disable=SC2034 # read by pcd_start: keep the overlayfs snapshotter and the differ images need
PCD_IMAGES=1
pcd_shim_dir "$shim"
pcd_start nerdctl "$PCD_SHIM_DIR"
mkdir -p "$PCD_DIR/nerdctl" "$PCD_DIR/cni/bin" "$PCD_DIR/cni/net.d"
: >"$PCD_DIR/nerdctl.toml"
export NERDCTL_TOML=$PCD_DIR/nerdctl.toml   # not /etc/nerdctl/nerdctl.toml
pcd_build_rootfs "$work/rootfs"
oci_image_archive "$work/rootfs" "$work/image.tar" "$image"
echo "# $("$nerdctl" --version) ($nerdctl)"
echo "# containerd $("$PCD_CONTAINERD" --version | awk '{print $3}') ($PCD_CONTAINERD) on $PCD_ADDRESS, namespace $PCD_NAMESPACE"
echo "# runtime $runtime: $PCD_SHIM_DIR/containerd-shim-litebox-v1 -> $shim"
if [ "$PCD_CONTAINERD_MAJOR" = 1 ]; then
  # nerdctl v2's load goes through containerd's transfer and streaming services (1.7+): against 1.6 it fails
  # ("unknown service containerd.services.streaming.v1.Streaming", or a bare "EOF").
  pcd_ctr images import "$work/image.tar" >"$work/import.out" 2>&1
  echo "# image $image loaded with ctr images import (nerdctl load needs containerd's transfer service, 1.7+)"
else
  NC load -i "$work/image.tar" </dev/null >"$work/load.out" 2>&1 || { cat "$work/load.out" >&2; false; }
  echo "# image $image loaded with nerdctl load"
fi
NC image inspect "$image" >/dev/null </dev/null
set +eE
trap - ERR

# ---------------------------------------------------------------------------------------------- tests
run_exit() {  # run_exit NAME EXPECTED_CODE COMMAND...
  local name=$1 want=$2
  shift 2
  name_of_test "$name"
  NC run --rm --pull never --runtime "$runtime" --net none --name "$name" "$image" "$@" \
    </dev/null >"$tdir/out" 2>"$tdir/err"
  expect_eq "exit code of nerdctl run --rm" "$want" "$?" || show stderr "$tdir/err"
  expect_eq "output" hi "$(cat "$tdir/out")"
  listed "$name" && bad "container $name still listed after --rm"
  return 0
}
test_run_exit_3() { run_exit exit3 3 sh -c 'echo hi; exit 3'; }
test_run_exit_0() { run_exit exit0 0 sh -c 'echo hi'; }

test_net_host() {
  # --net host: the container's interfaces (netlink, busybox ip) are the host's; with --net none only lo.
  local before after inside
  name_of_test nethost
  before=$(ip -o link | link_names)
  NC run --rm --pull never --runtime "$runtime" --net host --name nethost "$image" ip -o link \
    </dev/null >"$tdir/out" 2>"$tdir/err" || { bad "nerdctl run --net host failed"; show stderr "$tdir/err"; return; }
  after=$(ip -o link | link_names)
  inside=$(link_names <"$tdir/out")
  # Another process may add or remove an interface meanwhile: what was there before and after must be inside,
  # and nothing that was there neither before nor after.
  expect_eq "host interfaces missing in the container" "" "$(comm -23 <(comm -12 <(echo "$before") <(echo "$after")) <(echo "$inside") | tr '\n' ' ')"
  expect_eq "interfaces in the container the host does not have" "" "$(comm -13 <(sort -u <(echo "$before"; echo "$after")) <(echo "$inside") | tr '\n' ' ')"
  [ "$(echo "$inside" | grep -c .)" -ge 2 ] || bad "the container sees only [$inside]"
  name_of_test netnone
  NC run --rm --pull never --runtime "$runtime" --net none --name netnone "$image" ip -o link \
    </dev/null >"$tdir/none" 2>"$tdir/none.err" || { bad "nerdctl run --net none ip -o link failed"; show stderr "$tdir/none.err"; }
  expect_eq "interfaces with --net none" lo "$(link_names <"$tdir/none" | tr '\n' ' ' | sed 's/ $//')"
  diag "host: $(echo "$before" | tr '\n' ' ')" "container: $(echo "$inside" | tr '\n' ' ')"
}

test_net_host_proc_net_dev() {
  # /proc/net is a symlink to self/net (so is /proc/mounts to self/mounts): opening /proc/net/dev makes the
  # kernel resolve "self" for the process that opens it.
  local host inside
  name_of_test procnetdev
  host=$(procnetdev_names </proc/net/dev)
  if ! NC run --rm --pull never --runtime "$runtime" --net host --name procnetdev "$image" cat /proc/net/dev \
      </dev/null >"$tdir/out" 2>"$tdir/err"; then
    bad "cat /proc/net/dev in the container failed"
    show stderr "$tdir/err"
    # Narrow it down for the report: the same file by /proc/self, and with the LiteBox core off.
    # shellcheck disable=SC2016 # expanded by the container's shell
    NC run --rm --pull never --runtime "$runtime" --net host --name procnetdev "$image" sh -c \
      'for p in /proc/net/dev /proc/self/net/dev /proc/mounts /proc/self/mounts; do cat $p >/dev/null 2>&1 && echo "$p: ok" || echo "$p: fails"; done' \
      </dev/null >"$tdir/probe" 2>&1
    show "the same container, core on" "$tdir/probe"
    NC run --rm --pull never --runtime "$runtime" --annotation org.litebox.core=off --net host --name procnetdev "$image" \
      sh -c 'cat /proc/net/dev >/dev/null && echo "/proc/net/dev: ok"' </dev/null >"$tdir/probe.off" 2>&1
    show "with --annotation org.litebox.core=off" "$tdir/probe.off"
    return
  fi
  inside=$(procnetdev_names <"$tdir/out")
  expect_eq "interfaces in /proc/net/dev (container vs host)" "$(echo "$host" | tr '\n' ' ')" "$(echo "$inside" | tr '\n' ' ')"
}

test_sysctls_hostname() {
  # /proc/sys answers from the opener's namespaces: under the LiteBox core the opener is the shim, which must
  # read the container's network, IPC and UTS values (what --sysctl and --hostname set), not the host's.
  # Absolute, relative to /proc, and relative to a /proc/sys directory the container entered itself.
  name_of_test sysctls
  # shellcheck disable=SC2016 # expanded by the container's shell
  NC run --rm --pull never --runtime "$runtime" --net none --name sysctls --hostname lbx-sysctl-host \
    --sysctl net.ipv4.ip_unprivileged_port_start=321 --sysctl kernel.shm_rmid_forced=1 "$image" sh -c \
    'cat /proc/sys/kernel/hostname /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shm_rmid_forced
     cd /proc && cat sys/kernel/hostname; cd /proc/sys/net/ipv4 && cat ip_unprivileged_port_start' \
    </dev/null >"$tdir/out" 2>"$tdir/err" || { bad "nerdctl run --sysctl failed"; show stderr "$tdir/err"; return; }
  expect_eq "hostname, port start, shm_rmid_forced; the same relative" "lbx-sysctl-host 321 1 lbx-sysctl-host 321" \
    "$(tr '\n' ' ' <"$tdir/out" | sed 's/ $//')"
}

test_exec() {
  run_d execd -- sh -c 'echo started; sleep 1000' || return
  wait_until 10 is_status execd running || bad "not running: [$(status_of execd)]"
  NC exec execd sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "' </dev/null >"$tdir/out" 2>"$tdir/err"
  expect_eq "exit code of nerdctl exec" 0 "$?" || show stderr "$tdir/err"
  # (sh -c execs its last command: the init is sleep now)
  expect_eq "output of nerdctl exec" "in-exec
sleep 1000 " "$(cat "$tdir/out")"
  NC exec execd sh -c 'echo out4; exit 4' </dev/null >"$tdir/out4" 2>"$tdir/err4"
  local rc=$?
  # nerdctl exec ends with 1 and the process's code in its message (pkg/cmd/container/exec.go).
  [ "$rc" -ne 0 ] || bad "nerdctl exec of a process exiting 4 ended with 0"
  expect_eq "output of the exec exiting 4" out4 "$(cat "$tdir/out4")"
  grep -q 'exit code 4' "$tdir/err4" || { bad "nerdctl exec's error does not name exit code 4"; show stderr "$tdir/err4"; }
  diag "nerdctl exec (exit 4): exit code $rc, $(head -n 1 "$tdir/err4")"
}

test_exec_missing() {
  # An exec whose start fails (no such binary): nerdctl says so; the container can then be removed and its
  # shim goes away (nerdctl waits on the exec before it starts it, so the shim has a Wait in flight for a
  # process that never runs).
  local id
  run_d execmiss -- sleep 1000 || return
  id=$cid
  wait_until 10 is_status execmiss running || bad "not running: [$(status_of execmiss)]"
  NC exec execmiss /no/such/binary </dev/null >"$tdir/out" 2>"$tdir/err" && bad "nerdctl exec of a missing binary succeeded"
  grep -q '/no/such/binary' "$tdir/err" || { bad "nerdctl's error does not name the binary"; show stderr "$tdir/err"; }
  diag "nerdctl exec: $(head -n 1 "$tdir/err" | cut -c1-300)"
  is_status execmiss running || bad "after the failed exec: status [$(status_of execmiss)]"
  NC rm -f execmiss </dev/null >/dev/null 2>"$tdir/rm.err" || { bad "nerdctl rm -f failed"; show stderr "$tdir/rm.err"; }
  check_gone execmiss "$id"
}

test_logs() {
  # -d: the output goes through nerdctl's logging binary (a binary:// log URI the shim starts).
  local uri
  run_d logsd -- sh -c 'echo out-line; echo err-line >&2; sleep 1000' || return
  uri=$(NC inspect --mode native --format '{{index .Labels "nerdctl/log-uri"}}' logsd </dev/null 2>&1)
  [[ $uri == binary://* ]] || bad "log URI: expected binary://..., got [$uri]"
  wait_until 10 logs_have logsd err-line
  NC logs logsd </dev/null >"$tdir/out" 2>"$tdir/err"
  expect_eq "exit code of nerdctl logs" 0 "$?"
  expect_eq "stdout of nerdctl logs" out-line "$(cat "$tdir/out")"
  expect_eq "stderr of nerdctl logs" err-line "$(cat "$tdir/err")"
}

test_stop_term() {
  # The init traps SIGTERM (a pid namespace's init without a handler would ignore it) and exits 7.
  local t0 ms
  run_d stopterm -- sh -c 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 1 & wait $!; done' || return
  wait_until 10 logs_have stopterm ready || bad "the container never printed ready"
  t0=$(now_ms)
  NC stop stopterm </dev/null >"$tdir/out" 2>"$tdir/err" || { bad "nerdctl stop failed"; show stderr "$tdir/err"; }
  ms=$(($(now_ms) - t0))
  [ "$ms" -lt 5000 ] || bad "nerdctl stop took $ms ms for an init that exits on SIGTERM"
  expect_eq "status after nerdctl stop" exited "$(status_of stopterm)"
  expect_eq "exit code after nerdctl stop" 7 "$(exit_code_of stopterm)"
  logs_have stopterm got-term || bad "the TERM handler's output is not in nerdctl logs"
  diag "nerdctl stop: $ms ms"
}

test_stop_kill() {
  # The init ignores SIGTERM: nerdctl stop -t 2 kills it with SIGKILL after 2 s (exit code 137).
  local t0 ms
  run_d stopkill -- sh -c 'trap "" TERM; echo ready; while :; do sleep 1; done' || return
  wait_until 10 logs_have stopkill ready || bad "the container never printed ready"
  t0=$(now_ms)
  NC stop -t 2 stopkill </dev/null >"$tdir/out" 2>"$tdir/err" || { bad "nerdctl stop -t 2 failed"; show stderr "$tdir/err"; }
  ms=$(($(now_ms) - t0))
  if [ "$ms" -lt 2000 ] || [ "$ms" -ge 8000 ]; then bad "nerdctl stop -t 2 took $ms ms (expected 2 to 8 s)"; fi
  expect_eq "status after nerdctl stop -t 2" exited "$(status_of stopkill)"
  expect_eq "exit code after nerdctl stop -t 2" 137 "$(exit_code_of stopkill)"
  diag "nerdctl stop -t 2: $ms ms"
}

test_rm() {
  # nerdctl rm of an exited container, nerdctl rm of a running one (refused), nerdctl rm -f of it; nothing of
  # either is left.
  local id_exited id_running
  run_d rmexited -- sh -c 'exit 0' || return
  id_exited=$cid
  wait_until 10 is_status rmexited exited || bad "not exited: [$(status_of rmexited)]"
  NC rm rmexited </dev/null >"$tdir/rm1.out" 2>"$tdir/rm1.err" || { bad "nerdctl rm (exited) failed"; show stderr "$tdir/rm1.err"; }
  check_gone rmexited "$id_exited"
  run_d rmrunning -- sleep 1000 || return
  id_running=$cid
  wait_until 10 is_status rmrunning running || bad "not running: [$(status_of rmrunning)]"
  if NC rm rmrunning </dev/null >"$tdir/rm2.out" 2>"$tdir/rm2.err"; then
    bad "nerdctl rm of a running container succeeded without -f"
  else
    is_status rmrunning running || bad "after a refused nerdctl rm: status [$(status_of rmrunning)]"
  fi
  NC rm -f rmrunning </dev/null >"$tdir/rm3.out" 2>"$tdir/rm3.err" || { bad "nerdctl rm -f failed"; show stderr "$tdir/rm3.err"; }
  check_gone rmrunning "$id_running"
}

tty_output_ok() { tr -d '\r' <"$1" | grep -qxE '/dev/pts/[0-9]+'; }
test_tty_run() {
  # -t needs a terminal on nerdctl's side: script(1) gives it one.
  command -v script >/dev/null || { skip_reason="needs script (util-linux)"; return; }
  name_of_test ttyrun
  SHELL=/bin/sh script -qec "$(nerdctl_cmd run --rm -t --pull never --runtime "$runtime" --net none --name ttyrun "$image" sh -c 'tty; exit 5')" \
    /dev/null </dev/null >"$tdir/out" 2>&1
  expect_eq "exit code of nerdctl run -t (through script -e)" 5 "$?"
  tty_output_ok "$tdir/out" || { bad "tty did not print /dev/pts/N"; show output "$tdir/out"; }
}

test_tty_exec() {
  command -v script >/dev/null || { skip_reason="needs script (util-linux)"; return; }
  run_d ttyexec -- sleep 1000 || return
  wait_until 10 is_status ttyexec running || bad "not running: [$(status_of ttyexec)]"
  SHELL=/bin/sh script -qec "$(nerdctl_cmd exec -t ttyexec sh -c 'tty')" /dev/null </dev/null >"$tdir/out" 2>&1
  expect_eq "exit code of nerdctl exec -t (through script -e)" 0 "$?"
  tty_output_ok "$tdir/out" || { bad "tty did not print /dev/pts/N"; show output "$tdir/out"; }
}

test_tty_detached() {
  # -d -t: the terminal's output goes to nerdctl's logging binary.
  run_d ttyd -t -- sh -c 'tty; sleep 1000' || return
  wait_until 10 logs_have ttyd /dev/pts/ || true
  NC logs ttyd </dev/null >"$tdir/out" 2>&1
  tty_output_ok "$tdir/out" || { bad "nerdctl logs of a -d -t container: expected /dev/pts/N"; show output "$tdir/out"; }
}

test_runtime_abs_shim() {
  # --runtime /abs/path/containerd-shim-litebox-v1. nerdctl v2.3.5 (pkg/cmd/container/run_runtime.go) passes a
  # runtime name starting with io.containerd. to containerd; anything else that exec.LookPath finds becomes
  # io.containerd.runc.v2 with options.BinaryName = that path, i.e. a runc-compatible OCI runtime under runc's
  # shim. A shim binary given by path therefore never reaches containerd as a shim.
  local path=$PCD_SHIM_DIR/containerd-shim-litebox-v1 rt options
  name_of_test absshim
  NC create --pull never --runtime "$path" --net none --name absshim "$image" sh -c 'echo by-path' \
    </dev/null >"$tdir/create.out" 2>"$tdir/create.err" || { bad "nerdctl create --runtime $path failed"; show stderr "$tdir/create.err"; return; }
  rt=$(NC inspect --mode native --format '{{.Runtime.Name}}' absshim </dev/null 2>&1)
  # The options are a containerd.runc.v1.Options protobuf (base64 in JSON): BinaryName is a string in it.
  options=$(NC inspect --mode native --format '{{json .Runtime.Options}}' absshim </dev/null 2>&1 |
    sed -n 's/.*"value":"\([^"]*\)".*/\1/p' | base64 -d 2>/dev/null | tr -c '[:print:]' ' ')
  diag "the container's runtime: $rt, options: $options"
  if [ "$rt" = io.containerd.runc.v2 ] && [[ $options == *"$path"* ]]; then
    skip_reason="nerdctl v2.3.5 turns an executable --runtime path into io.containerd.runc.v2 with BinaryName=PATH (a runc-compatible binary under runc's shim), so a shim given by path never reaches containerd"
    return
  fi
  NC start -a absshim </dev/null >"$tdir/out" 2>"$tdir/err"
  expect_eq "exit code of nerdctl start -a" 0 "$?" || show stderr "$tdir/err"
  expect_eq "output" by-path "$(cat "$tdir/out")"
}

test_runtime_abs_litebox_runtime() {
  # What nerdctl does with a path: our runc-compatible litebox-runtime under containerd-shim-runc-v2.
  [ -n "$litebox_runtime" ] || { skip_reason="litebox-runtime not found (NERDCTL_TEST_LITEBOX_RUNTIME)"; return; }
  command -v containerd-shim-runc-v2 >/dev/null ||
    { skip_reason="containerd-shim-runc-v2 not on PATH (Debian's containerd package has it)"; return; }
  local id state
  run_d absrt --runtime "$litebox_runtime" -- sh -c 'echo via-litebox-runtime; sleep 1000' || return
  id=$cid
  wait_until 10 is_status absrt running || bad "not running: [$(status_of absrt)]"
  # runc's shim runs BinaryName with --root /run/containerd/runc/<namespace>: litebox-runtime's state is there.
  state=$("$litebox_runtime" --root "/run/containerd/runc/$PCD_NAMESPACE" state "$id" 2>&1)
  [[ $state == *'"status"'*running* ]] || bad "litebox-runtime --root /run/containerd/runc/$PCD_NAMESPACE state $id: [$state]"
  expect_eq "runtime in nerdctl inspect" io.containerd.runc.v2 \
    "$(NC inspect --format '{{.HostConfig.Runtime}}' absrt </dev/null 2>&1)"
  wait_until 10 logs_have absrt via-litebox-runtime || bad "no output in nerdctl logs"
  NC rm -f absrt </dev/null >/dev/null 2>"$tdir/rm.err" || { bad "nerdctl rm -f failed"; show stderr "$tdir/rm.err"; }
  name_of_test absrtexit
  NC run --rm --pull never --runtime "$litebox_runtime" --net none --name absrtexit "$image" sh -c 'echo hi; exit 6' \
    </dev/null >"$tdir/out" 2>"$tdir/err"
  expect_eq "exit code of nerdctl run --rm --runtime $litebox_runtime" 6 "$?" || show stderr "$tdir/err"
  expect_eq "output" hi "$(cat "$tdir/out")"
}

test_ps_inspect_shim() {
  # nerdctl ps and inspect name our runtime; the container runs under a process of our shim binary serving
  # its id, and the container's init is that process's descendant.
  local pids pid exe init line
  run_d psi -- sleep 1000 || return
  wait_until 10 is_status psi running || bad "not running: [$(status_of psi)]"
  line=$(NC ps --format '{{.Names}} {{.Runtime}} {{.Status}}' </dev/null 2>&1 | grep '^psi ')
  [[ $line == "psi $runtime Up"* ]] || bad "nerdctl ps: expected [psi $runtime Up...], got [$line]"
  expect_eq "nerdctl inspect .HostConfig.Runtime" "$runtime" "$(NC inspect --format '{{.HostConfig.Runtime}}' psi </dev/null 2>&1)"
  expect_eq "nerdctl inspect --mode native .Runtime.Name" "$runtime" \
    "$(NC inspect --mode native --format '{{.Runtime.Name}}' psi </dev/null 2>&1)"
  pids=$(shim_pids_of "$cid")
  expect_eq "shim processes with -id $cid" 1 "$(echo "$pids" | grep -c .)"
  for pid in $pids; do
    exe=$(readlink "/proc/$pid/exe")
    expect_eq "executable of shim process $pid" "$shim" "$exe"
    [[ $(tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1) == */containerd-shim-litebox-v1 ]] ||
      bad "argv[0] of shim process $pid: $(cmdline "$pid")"
    init=$(NC inspect --format '{{.State.Pid}}' psi </dev/null 2>&1)
    pcd_descendants "$pid" | grep -qx "$init" || bad "the container's init ($init) is not a descendant of shim process $pid"
    diag "shim: $pid $(cmdline "$pid")"
  done
}

test_litebox_ctl() {
  # litebox-ctl fds ID: the LiteBox core's descriptor table of the container's init, live.
  [ -n "$litebox_ctl" ] || { skip_reason="litebox-ctl not found (NERDCTL_TEST_LITEBOX_CTL)"; return; }
  run_d ctlfds -- sh -c 'exec 7>/tmp/litebox-marker; echo ready; sleep 1000' || return
  wait_until 10 logs_have ctlfds ready || bad "the container never printed ready"
  "$litebox_ctl" --namespace "$PCD_NAMESPACE" fds "$cid" >"$tdir/out" 2>"$tdir/err"
  expect_eq "exit code of litebox-ctl --namespace $PCD_NAMESPACE fds $cid" 0 "$?" || show stderr "$tdir/err"
  grep -q 'pid 1 in the container' "$tdir/out" || bad "litebox-ctl fds: no table of the container's init"
  grep -qE '^7 .*litebox-marker' "$tdir/out" || bad "litebox-ctl fds: descriptor 7 (/tmp/litebox-marker) not listed"
  [ "$tfail" -eq 0 ] || show "litebox-ctl fds" "$tdir/out"
}

test_default_network() {
  # The default network "bridge" (nerdctl0, 10.4.0.0/24, host-local) with Debian's containernetworking-plugins;
  # nerdctl's hooks (createRuntime: CNI ADD, poststop: CNI DEL) run through our runtime. The container pings
  # the bridge's address (this host); nothing leaves the host.
  local cni=/usr/lib/cni plugin leftovers line
  for plugin in bridge host-local portmap firewall tuning loopback; do
    [ -x "$cni/$plugin" ] || { skip_reason="needs the CNI plugin $cni/$plugin (apt-get install containernetworking-plugins)"; return; }
  done
  command -v iptables >/dev/null || { skip_reason="needs iptables (the CNI bridge and firewall plugins run it)"; return; }
  if ip link show nerdctl0 >/dev/null 2>&1; then
    skip_reason="a nerdctl0 interface already exists (another nerdctl's default network): not touching it"
    return
  fi
  if ip -4 route show | grep -q '^10\.4\.0\.'; then skip_reason="10.4.0.0/24 is already routed on this host"; return; fi
  net_save
  name_of_test bridged
  cni_path=$cni
  # shellcheck disable=SC2016 # expanded by the container's shell
  NC run --rm --pull never --runtime "$runtime" --name bridged "$image" sh -c \
    'ip -o -4 addr show dev eth0; gw=$(ip route | awk "/^default/ {print \$3}"); echo "gateway $gw"; ping -c 1 -W 5 "$gw" >/dev/null && echo ping-ok' \
    </dev/null >"$tdir/out" 2>"$tdir/err"
  local rc=$?
  cni_path=
  expect_eq "exit code of nerdctl run --rm (default network)" 0 "$rc" || show stderr "$tdir/err"
  grep -qE 'eth0 +inet (10|172\.(1[6-9]|2[0-9]|3[01])|192\.168)\.[0-9.]+/[0-9]+' "$tdir/out" ||
    bad "no private IPv4 address on eth0 in the container"
  grep -q '^gateway 10\.4\.0\.1$' "$tdir/out" || bad "the default route is not via nerdctl0's 10.4.0.1"
  grep -q '^ping-ok$' "$tdir/out" || bad "the container could not ping the bridge's address"
  [ "$tfail" -eq 0 ] || show output "$tdir/out"
  # The poststop hook's CNI DEL (through our shim): no veth on the bridge, the lease released.
  leftovers=$(ip -o link show master nerdctl0 2>/dev/null | link_names | tr '\n' ' ')
  expect_eq "interfaces left on nerdctl0 (no CNI DEL?)" "" "$leftovers"
  leftovers=$(find /var/lib/cni/networks/bridge -name '10.4.0.*' 2>/dev/null | tr '\n' ' ')
  expect_eq "host-local leases left (no CNI DEL?)" "" "$leftovers"
  diag "$(grep eth0 "$tdir/out" | awk '{print $2, $3, $4}')"
  net_restore
  leftovers=$(net_check_restored)
  [ -z "$net_fwd_kept" ] ||
    diag "net.ipv4.ip_forward left at $(cat /proc/sys/net/ipv4/ip_forward) (was $net_fwd_before): other container networks are up ($net_fwd_kept)"
  [ -z "$leftovers" ] || { bad "the host is not as it was:"; while read -r line; do diag "  $line"; done <<<"$leftovers"; }
  return 0
}

seccomp_refused() {  # seccomp_refused NAME PROFILE_JSON EXPECTED_MESSAGE
  local name=$1 profile=$tdir/$1.json want=$3 id
  printf '%s\n' "$2" >"$profile"
  name_of_test "$name"
  NC run --rm --pull never --cidfile "$tdir/cid" --runtime "$runtime" --net none --name "$name" \
    --security-opt "seccomp=$profile" "$image" echo should-not-run </dev/null >"$tdir/out" 2>"$tdir/err"
  local rc=$?
  [ "$rc" -ne 0 ] || bad "nerdctl run with an SCMP_ACT_NOTIFY profile succeeded"
  grep -q should-not-run "$tdir/out" && bad "the container ran"
  grep -qF -- "$want" "$tdir/err" || { bad "nerdctl's stderr does not carry the shim's message [$want]"; show stderr "$tdir/err"; }
  diag "nerdctl (exit code $rc): $(head -n 1 "$tdir/err" | cut -c1-400)"
  id=$(cat "$tdir/cid" 2>/dev/null)
  [ -n "$id" ] || { bad "no container id in the --cidfile"; return; }
  all_ids+=("$id")
  check_gone "$name" "$id"
  expect_eq "mounts under $PCD_DIR" "" "$(our_mounts)"
}
test_seccomp_notify_rule() {
  seccomp_refused notifyrule \
    '{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"'"$PCD_DIR"'/seccomp-agent.sock","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_NOTIFY"}]}' \
    "which cannot stack with the LiteBox core's filter"
}
test_seccomp_notify_default() {
  seccomp_refused notifydefault \
    '{"defaultAction":"SCMP_ACT_NOTIFY","listenerPath":"'"$PCD_DIR"'/seccomp-agent.sock"}' \
    "SCMP_ACT_NOTIFY cannot be the seccomp default action"
}

test_nothing_left() {
  # After all the tests: no container, no shim process of this containerd, no logging binary, no mount under
  # PCD_DIR, no cgroup of the namespace, no socket or FIFO of any container of this run.
  local left p c id s ns_cg
  left=$(NC ps -a --format '{{.Names}}' </dev/null 2>&1)
  expect_eq "containers listed by nerdctl ps -a" "" "$left"
  wait_until 10 no_address_pids ||
    bad "shim processes of this containerd left: $(for p in $(pcd_address_pids); do echo "$p: $(cmdline "$p");"; done)"
  left=$(grep -lzF -- "$PCD_DIR/" /proc/[0-9]*/cmdline 2>/dev/null | while read -r p; do
    p=${p#/proc/}; p=${p%/cmdline}
    [ "$p" = "$PCD_PID" ] || [ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] && continue
    c=$(cmdline "$p")
    [ -z "$c" ] || echo "$p: $c"   # (empty: it has exited meanwhile)
  done)
  expect_eq "processes naming $PCD_DIR (shims, logging binaries, hooks)" "" "$left"
  expect_eq "mounts under $PCD_DIR" "" "$(our_mounts)"
  for ns_cg in /sys/fs/cgroup/"$PCD_NAMESPACE" /sys/fs/cgroup/*/"$PCD_NAMESPACE"; do
    [ -d "$ns_cg" ] || continue
    left=$(find "$ns_cg" -mindepth 1 -type d 2>/dev/null | tr '\n' ' ')
    expect_eq "cgroups under $ns_cg" "" "$left"
    left=$(tr '\n' ' ' <"$ns_cg/cgroup.procs" 2>/dev/null)
    expect_eq "processes in $ns_cg" "" "$left"
  done
  left=
  # Every container of this run: those whose id we know, and every one a shim served (by containerd's log).
  for id in $( (printf '%s\n' "${all_ids[@]}"
                grep -aoE "serving [0-9a-f]{64} in namespace $PCD_NAMESPACE " "$PCD_LOG" | awk '{print $2}') | sort -u); do
    for s in $(shim_sockets_of "$id"); do [ ! -e "$s" ] || left+=" $s"; done
    [ -z "$(fifos_of "$id")" ] || left+=" $(fifos_of "$id" | tr '\n' ' ')"
  done
  while read -r s; do
    [ -z "$s" ] || [ ! -e "$s" ] || left+=" $s"
  done < <(grep -aoE "serving [0-9a-f]{64} in namespace $PCD_NAMESPACE on /[^ ]+" "$PCD_LOG" | awk '{print $NF}' | sort -u)
  expect_eq "shim sockets and FIFOs of this run left" "" "${left# }"
  left=$(find "/run/containerd/litebox/$PCD_NAMESPACE" -mindepth 1 -maxdepth 1 2>/dev/null | tr '\n' ' ')
  expect_eq "entries in the shim's runtime root /run/containerd/litebox/$PCD_NAMESPACE" "" "$left"
}

echo "# started $(date '+%F %T')"
run_test "nerdctl run --rm --net none: output hi, exit code 3" test_run_exit_3
run_test "nerdctl run --rm --net none: output hi, exit code 0" test_run_exit_0
run_test "nerdctl run --net host: the container sees the host's interfaces (ip link); --net none only lo" test_net_host
run_test "nerdctl run --net host: /proc/net/dev lists the host's interfaces" test_net_host_proc_net_dev
run_test "nerdctl run --sysctl --hostname: the container reads its own values in /proc/sys" test_sysctls_hostname
run_test "nerdctl run -d, nerdctl exec: output and exit code" test_exec
run_test "nerdctl exec of a missing binary: a clear error; rm -f then leaves nothing" test_exec_missing
run_test "nerdctl logs of a -d container (binary:// log driver): stdout and stderr" test_logs
run_test "nerdctl stop: the init's SIGTERM handler runs, exit code 7, quickly" test_stop_term
run_test "nerdctl stop -t 2: an init ignoring SIGTERM is killed after 2 s, exit code 137" test_stop_kill
run_test "nerdctl rm (exited), rm refused while running, rm -f: nothing left" test_rm
run_test "nerdctl run -t (under script): a terminal, exit code" test_tty_run
run_test "nerdctl exec -t (under script): a terminal" test_tty_exec
run_test "nerdctl run -d -t: the terminal's output in nerdctl logs" test_tty_detached
run_test "nerdctl --runtime /abs/path/containerd-shim-litebox-v1" test_runtime_abs_shim
run_test "nerdctl --runtime /abs/path/litebox-runtime (runc-compatible, under runc's shim)" test_runtime_abs_litebox_runtime
run_test "nerdctl ps / inspect show $runtime; the container runs under our shim's process" test_ps_inspect_shim
run_test "litebox-ctl fds <container id> lists the init's descriptors" test_litebox_ctl
run_test "default bridge network (CNI from /usr/lib/cni): eth0 with a private address; host restored" test_default_network
run_test "seccomp SCMP_ACT_NOTIFY rule: refused with the shim's message, nothing left" test_seccomp_notify_rule
run_test "seccomp SCMP_ACT_NOTIFY default action: refused with the shim's message, nothing left" test_seccomp_notify_default
run_test "nothing left: containers, shims, logging binaries, mounts, cgroups, sockets" test_nothing_left

echo "1..$n"
echo "# containerd $("$PCD_CONTAINERD" --version | awk '{print $3}'): $((n - failed)) of $n passed (${#skipped_names[@]} skipped), $failed failed in $(($(date +%s) - started_at)) s"
for name in "${skipped_names[@]}"; do echo "#   skipped: $name"; done
for name in "${failed_names[@]}"; do echo "#   failed: $name"; done
[ "$failed" -eq 0 ] || exit 1
exit 0
