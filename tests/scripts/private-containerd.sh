# shellcheck shell=bash
# A private containerd for the demo and the benchmarks: its own config, root, state and sockets, so it never
# touches (or needs) a system containerd. Source this file, then:
#
#   pcd_start PURPOSE [PATH_DIR]   start containerd; PATH_DIR goes first on its PATH (where it finds
#                                  containerd-shim-litebox-v1); waits until `ctr version` answers
#   pcd_ctr ARGS...                ctr with this containerd's address and namespace (and a deadline:
#                                  PCD_CTR_TIMEOUT seconds, default 120; exit 124 when it expires)
#   pcd_build_rootfs DIR           a busybox rootfs: /bin (every applet), /proc, /dev, /sys, /tmp, /etc/passwd...
#   pcd_shim_dir BINARY            sets PCD_SHIM_DIR: a directory where BINARY is containerd-shim-litebox-v1
#   pcd_shim_pids ID...            pids of the shim server process(es) serving these container ids
#   pcd_dump_log [LINES]           the tail of containerd's log, to stderr (for failures)
#   pcd_trap_errors NAME           an ERR trap that reports the first failure once, with containerd's log,
#                                  and INT/TERM traps that exit (so `trap pcd_cleanup EXIT` runs)
#   pcd_cleanup                    kill tasks, stop containerd, kill its leftover shims, unmount and remove
#                                  everything; idempotent, for `trap pcd_cleanup EXIT`
#
# Variables set by pcd_start (read them, don't set them): PCD_DIR (everything lives here; short, under /run, so
# sockets fit in sun_path), PCD_ADDRESS (gRPC socket; ttrpc is PCD_ADDRESS.ttrpc), PCD_PID, PCD_LOG.
# Settings read by pcd_start: PCD_NAMESPACE (default litebox-PURPOSE-PID, which cleanup owns and empties),
# PCD_RUN_DIR (default /run).
# PCD_CONTAINERD_DIR: a directory holding the containerd and ctr to run (a containerd 2.x from
# tests/consumers/build-peers.sh); default Debian's on PATH. Its major version picks the config's version (2 for
# 1.x, 3 for 2.x). PCD_CRI=1 keeps the CRI plugin (served on PCD_ADDRESS, with its pause image named
# PCD_SANDBOX_IMAGE, CNI from PCD_CNI_BIN_DIR / PCD_CNI_CONF_DIR, default under PCD_DIR) and what images need
# (the overlayfs snapshotter, the differ); PCD_IMAGES=1 keeps only the latter. PCD_CONFIG_APPEND: TOML text
# added at the end of the config, as a user adds a snippet to config.toml (its `version` line dropped).
# PCD_IMPORTS: paths or patterns for the config's top-level `imports` list (space-separated), as a user
# imports drop-in files.
# Set by pcd_start: PCD_CONTAINERD, PCD_CTR (the binaries), PCD_CONTAINERD_MAJOR (1 or 2).
# PCD_RUN_OPTS: options every `ctr run` here should get (ctr's --rootfs spec has no PATH variable, and runc
# then cannot resolve a bare `sh`).
# Needs root, Debian's containerd (containerd, ctr) and busybox-static.

# State (never taken from the environment; PCD_NAMESPACE, PCD_RUN_DIR and PCD_CTR_TIMEOUT may be).
PCD_DIR=
PCD_ADDRESS=
PCD_PID=
PCD_LOG=
PCD_SHIM_DIR=
PCD_LINK_DIR=
PCD_OWN_NS=
PCD_NAMESPACE=${PCD_NAMESPACE:-}
PCD_CONTAINERD=
PCD_CTR=
PCD_CONTAINERD_MAJOR=
# shellcheck disable=SC2034 # used by the scripts that source this file
PCD_RUN_OPTS=(--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)

pcd_die() { echo "private-containerd: $*" >&2; return 1; }

# Checks what every user of this library needs; returns 1 with a message naming what is missing.
pcd_require() {
  [ "$(id -u)" -eq 0 ] || { pcd_die "needs root (containers need namespaces, mounts and cgroups)"; return 1; }
  local tool
  for tool in containerd ctr; do
    if [ -n "${PCD_CONTAINERD_DIR:-}" ]; then
      [ -x "$PCD_CONTAINERD_DIR/$tool" ] || { pcd_die "no $tool in PCD_CONTAINERD_DIR=$PCD_CONTAINERD_DIR"; return 1; }
    else
      command -v "$tool" >/dev/null || { pcd_die "needs Debian's containerd ($tool not found; apt-get install containerd)"; return 1; }
    fi
  done
  [ -x /bin/busybox ] || { pcd_die "needs busybox-static (/bin/busybox; apt-get install busybox-static)"; return 1; }
}

pcd_start() {
  local purpose=${1:?pcd_start PURPOSE [PATH_DIR]} path_dir=${2:-}
  pcd_require || return 1
  [ -z "$PCD_PID" ] || { pcd_die "containerd already started (pid $PCD_PID)"; return 1; }
  # A namespace of our own (unless PCD_NAMESPACE is given): what runc's shim leaves outside our directory is
  # keyed by it (/run/containerd/runc/NS, cgroups /NS/ID), and pcd_cleanup may then remove all of it.
  if [ -z "$PCD_NAMESPACE" ]; then
    PCD_NAMESPACE=litebox-$purpose-$$
    PCD_OWN_NS=1
  fi
  PCD_DIR=${PCD_RUN_DIR:-/run}/litebox-$purpose-$$
  PCD_ADDRESS=$PCD_DIR/containerd.sock
  PCD_LOG=$PCD_DIR/containerd.log
  # sun_path holds 108 bytes with the terminating NUL; the ttrpc socket is the longer one.
  if [ ${#PCD_ADDRESS} -gt 100 ]; then
    pcd_die "socket path too long for sun_path (${#PCD_ADDRESS}+6 > 107 bytes): $PCD_ADDRESS"
    return 1
  fi
  if [ -e "$PCD_DIR" ]; then pcd_die "$PCD_DIR already exists (a leftover of pid $$?)"; return 1; fi
  mkdir -p "$PCD_DIR/root" "$PCD_DIR/state"
  chmod 0711 "$PCD_DIR"
  if [ -n "${PCD_CONTAINERD_DIR:-}" ]; then
    PCD_CONTAINERD=$(cd "$PCD_CONTAINERD_DIR" && pwd)/containerd PCD_CTR=$(cd "$PCD_CONTAINERD_DIR" && pwd)/ctr
  else
    PCD_CONTAINERD=$(command -v containerd) PCD_CTR=$(command -v ctr)
  fi
  PCD_CONTAINERD_MAJOR=$(pcd_containerd_major "$PCD_CONTAINERD") || return 1
  pcd_write_config > "$PCD_DIR/config.toml"
  local env_path=$PATH
  # A containerd 2.x of ours brings its own runc shim (Debian's 1.6 one cannot start under 2.3+): containerd
  # looks on its PATH before its own folder, so that folder goes first.
  [ -z "${PCD_CONTAINERD_DIR:-}" ] || env_path=$(dirname "$PCD_CONTAINERD"):$env_path
  [ -z "$path_dir" ] || env_path=$path_dir:$env_path
  # Its own process group (set -m is off in scripts, so use setsid): a Ctrl-C of the script reaches
  # containerd only through our trap, which stops it in order.
  PATH=$env_path setsid "$PCD_CONTAINERD" --config "$PCD_DIR/config.toml" </dev/null >"$PCD_LOG" 2>&1 &
  PCD_PID=$!
  local _
  for _ in $(seq 1 200); do
    if pcd_ctr version >/dev/null 2>&1; then return 0; fi
    kill -0 "$PCD_PID" 2>/dev/null || break
    sleep 0.05
  done
  pcd_die "containerd did not answer on $PCD_ADDRESS within 10 s; its log:"
  pcd_dump_log 40
  return 1
}

# The major version of a containerd binary: 1 (Debian's 1.6: "containerd github.com/containerd/containerd
# 1.6.20~ds1 ...", or v1.7.35 built from the module) or 2 ("containerd github.com/containerd/containerd/v2 v2.4.2").
pcd_containerd_major() {
  local words
  words=$("$1" --version 2>/dev/null) || { pcd_die "$1 --version failed"; return 1; }
  case $words in
    *containerd/containerd/v2\ *) echo 2 ;;
    *containerd/containerd\ 1.* | *containerd/containerd\ v1.*) echo 1 ;;
    *) pcd_die "unknown containerd version: $words"; return 1 ;;
  esac
}

# The config: only what `ctr run --rootfs` needs (no CRI, no image snapshotters or differ, no restart monitor,
# no /opt) unless PCD_CRI or PCD_IMAGES asks for more; version 2 for containerd 1.x, 3 for 2.x.
pcd_write_config() {
  local v=2 cri=${PCD_CRI:-0} images=${PCD_IMAGES:-0}
  [ "$PCD_CONTAINERD_MAJOR" = 2 ] && v=3
  [ "$cri" = 1 ] && images=1
  echo "version = $v"
  if [ -n "${PCD_IMPORTS:-}" ]; then
    local imports list
    read -ra list <<<"$PCD_IMPORTS"  # split on spaces, patterns left as they are (no globbing)
    imports=$(printf '"%s", ' "${list[@]}")
    echo "imports = [${imports%, }]"
  fi
  echo "root = \"$PCD_DIR/root\""
  echo "state = \"$PCD_DIR/state\""
  echo "disabled_plugins = ["
  printf '  "%s",\n' io.containerd.internal.v1.opt io.containerd.internal.v1.restart io.containerd.snapshotter.v1.aufs \
    io.containerd.snapshotter.v1.btrfs io.containerd.snapshotter.v1.devmapper io.containerd.snapshotter.v1.zfs \
    io.containerd.snapshotter.v1.blockfile io.containerd.snapshotter.v1.erofs io.containerd.tracing.processor.v1.otlp \
    io.containerd.internal.v1.tracing io.containerd.nri.v1.nri
  if [ "$images" != 1 ]; then
    printf '  "%s",\n' io.containerd.snapshotter.v1.overlayfs io.containerd.differ.v1.walking \
      io.containerd.service.v1.diff-service io.containerd.grpc.v1.diff
  fi
  if [ "$cri" != 1 ]; then
    printf '  "%s",\n' io.containerd.grpc.v1.cri io.containerd.cri.v1.images io.containerd.cri.v1.runtime \
      io.containerd.podsandbox.controller.v1.podsandbox io.containerd.sandbox.controller.v1.shim
  fi
  echo "]"
  cat <<TOML
[grpc]
  address = "$PCD_ADDRESS"
[ttrpc]
  address = "$PCD_ADDRESS.ttrpc"
[debug]
  level = "${PCD_LOG_LEVEL:-info}"
TOML
  if [ "$cri" = 1 ]; then
    local sandbox=${PCD_SANDBOX_IMAGE:-registry.k8s.io/pause:3.10} cni_bin=${PCD_CNI_BIN_DIR:-$PCD_DIR/cni/bin}
    local cni_conf=${PCD_CNI_CONF_DIR:-$PCD_DIR/cni/net.d}
    mkdir -p "$PCD_DIR/cni/bin" "$PCD_DIR/cni/net.d"
    if [ "$v" = 2 ]; then
      cat <<TOML
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$sandbox"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "$cni_bin"
  conf_dir = "$cni_conf"
TOML
    else
      cat <<TOML
[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = "$sandbox"
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
[plugins."io.containerd.cri.v1.runtime"]
  enable_selinux = false
  disable_apparmor = true
[plugins."io.containerd.cri.v1.runtime".cni]
  bin_dirs = ["$cni_bin"]
  conf_dir = "$cni_conf"
TOML
    fi
  fi
  if [ -n "${PCD_CONFIG_APPEND:-}" ]; then
    printf '%s\n' "$PCD_CONFIG_APPEND" | grep -v '^version *='
  fi
}

pcd_ctr() {
  [ -n "$PCD_ADDRESS" ] || { pcd_die "pcd_ctr before pcd_start"; return 1; }
  # A hung shim must not hang the job: every ctr call has a deadline (PCD_CTR_TIMEOUT seconds, default 120).
  CONTAINERD_SUPPRESS_DEPRECATION_WARNINGS=1 timeout --foreground -k 5 "${PCD_CTR_TIMEOUT:-120}" "$PCD_CTR" --address "$PCD_ADDRESS" --namespace "$PCD_NAMESPACE" "$@"
}

pcd_dump_log() {
  if [ -z "$PCD_LOG" ] || [ ! -f "$PCD_LOG" ]; then return 0; fi
  echo "--- last ${1:-30} lines of $PCD_LOG (plugin loading left out) ---" >&2
  grep -av 'loading plugin' "$PCD_LOG" | tail -n "${1:-30}" >&2
  echo "---" >&2
}

# For scripts running with set -eE: `pcd_trap_errors NAME` reports the first failing command once (not again
# for every function it unwinds through, nor from subshells) with the tail of containerd's log; INT and TERM
# end the script quietly (130, 143), so that an EXIT trap (pcd_cleanup) runs.
pcd_trap_errors() {
  PCD_ERR_NAME=$1
  PCD_ERR_SEEN=
  trap 'pcd_on_error "$LINENO" "$BASH_COMMAND"' ERR
  trap 'PCD_ERR_SEEN=1; echo "$PCD_ERR_NAME: interrupted, cleaning up" >&2; exit 130' INT
  trap 'PCD_ERR_SEEN=1; echo "$PCD_ERR_NAME: terminated, cleaning up" >&2; exit 143' TERM
}
pcd_on_error() {
  if [ "$BASHPID" != "$$" ] || [ -n "$PCD_ERR_SEEN" ]; then return 0; fi
  PCD_ERR_SEEN=1
  echo "$PCD_ERR_NAME: FAILED at line $1: $2" >&2
  pcd_dump_log 30
}

# A busybox rootfs: busybox-static copied in, every applet a symlink made by `busybox --install -s` (one
# process instead of ~400 ln). --install links to the path of the running busybox as the kernel resolved it
# (/usr/bin/busybox on merged-/usr Debian), so the copy goes at that same path inside the rootfs, and the
# links resolve inside the container too.
pcd_build_rootfs() {
  local dir=${1:?pcd_build_rootfs DIR} exe
  exe=$(readlink -f /bin/busybox)
  mkdir -p "$dir/bin" "$dir/proc" "$dir/dev" "$dir/sys" "$dir/tmp" "$dir/etc" "$dir/root" "$dir/run" \
    "$dir$(dirname "$exe")"
  chmod 1777 "$dir/tmp"
  cp /bin/busybox "$dir$exe"
  [ -e "$dir/bin/busybox" ] || ln -s "$exe" "$dir/bin/busybox"
  /bin/busybox --install -s "$dir/bin"
  [ "$(readlink "$dir/bin/sh")" = "$exe" ] || { pcd_die "busybox --install did not link $dir/bin/sh to $exe"; return 1; }
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
  echo litebox > "$dir/etc/hostname"
  : > "$dir/etc/resolv.conf"
}

# containerd finds io.containerd.litebox.v1 as containerd-shim-litebox-v1 on its PATH. Sets PCD_SHIM_DIR to a
# directory holding it: BINARY's own directory if it has that name (the CMake target's), else a temporary
# directory with a link of that name (pcd_cleanup removes it). Pass PCD_SHIM_DIR to pcd_start as PATH_DIR.
# shellcheck disable=SC2034 # PCD_SHIM_DIR is read by the scripts that source this file
pcd_shim_dir() {
  local binary=${1:?pcd_shim_dir BINARY}
  if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
    pcd_die "shim binary not found or not executable: $binary"
    return 1
  fi
  binary=$(readlink -f "$binary")
  if [ "$(basename "$binary")" = containerd-shim-litebox-v1 ]; then
    PCD_SHIM_DIR=$(dirname "$binary")
  else
    PCD_LINK_DIR=$(mktemp -d /tmp/litebox-shim-bin-XXXXXX)
    ln -s "$binary" "$PCD_LINK_DIR/containerd-shim-litebox-v1"
    PCD_SHIM_DIR=$PCD_LINK_DIR
  fi
}

# Pids of the shim server process(es) serving these container ids (call after the tasks started): argv has
# `-id ID`, and it belongs to this containerd (its argv has our address, or its working directory is a bundle
# under our state, as a shim's is). One pid per container for runc's shim; a shim process serving several
# containers is printed once.
pcd_shim_pids() {
  local id file pid cwd
  for id in "$@"; do
    while read -r file; do
      pid=${file#/proc/}
      pid=${pid%/cmdline}
      if [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ]; then continue; fi
      tr '\0' '\n' 2>/dev/null <"$file" |
        awk -v id="$id" 'prev == "-id" && $0 == id {found = 1} {prev = $0} END {exit !found}' || continue
      cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || continue
      if [[ $cwd == "$PCD_DIR"/* ]] || grep -qzxF -- "$PCD_ADDRESS" "$file" 2>/dev/null; then echo "$pid"; fi
    done < <(grep -lzxF -- "$id" /proc/[0-9]*/cmdline 2>/dev/null || true)
  done | sort -un
  return 0
}

# Every process (but this shell) with this containerd's address as an argument: its shims' servers, and
# anything in flight that names the address (a shim's `start` or `delete`).
pcd_address_pids() {
  [ -n "$PCD_ADDRESS" ] || return 0
  local file pid
  # grep -z: NUL-separated argv elements; -x: an element equal to the address. (grep matches its own argv:
  # gone by the time it is checked.)
  while read -r file; do
    pid=${file#/proc/}
    pid=${pid%/cmdline}
    if [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] || [ ! -e "/proc/$pid" ]; then continue; fi
    echo "$pid"
  done < <(grep -lzxF -- "$PCD_ADDRESS" /proc/[0-9]*/cmdline 2>/dev/null || true)
  return 0
}

pcd_descendants() {  # children, grandchildren... of PID (the containers a shim reaps)
  local child
  # shellcheck disable=SC2013 # the children files are space-separated pids
  for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    echo "$child"
    pcd_descendants "$child"
  done
}

pcd_cleanup() {
  local rc=$? pid id _ saved_err
  # Best effort from here on, whatever the caller's set -e / ERR trap; both restored on return.
  local -
  set +eE
  saved_err=$(trap -p ERR)
  trap - ERR
  if [ -n "$PCD_PID" ] && kill -0 "$PCD_PID" 2>/dev/null; then
    # Ask containerd first, so each shim tears its container down and runs its own `delete`.
    for id in $(timeout 10 "${PCD_CTR:-ctr}" --address "$PCD_ADDRESS" --namespace "$PCD_NAMESPACE" task ls -q 2>/dev/null); do
      timeout 10 "${PCD_CTR:-ctr}" --address "$PCD_ADDRESS" --namespace "$PCD_NAMESPACE" task kill -a -s KILL "$id" >/dev/null 2>&1 || true
    done
    for id in $(timeout 10 "${PCD_CTR:-ctr}" --address "$PCD_ADDRESS" --namespace "$PCD_NAMESPACE" task ls -q 2>/dev/null); do
      timeout 15 "${PCD_CTR:-ctr}" --address "$PCD_ADDRESS" --namespace "$PCD_NAMESPACE" task delete -f "$id" >/dev/null 2>&1 || true
    done
    for id in $(timeout 10 "${PCD_CTR:-ctr}" --address "$PCD_ADDRESS" --namespace "$PCD_NAMESPACE" container ls -q 2>/dev/null); do
      timeout 10 "${PCD_CTR:-ctr}" --address "$PCD_ADDRESS" --namespace "$PCD_NAMESPACE" container delete "$id" >/dev/null 2>&1 || true
    done
    kill -TERM "$PCD_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$PCD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PCD_PID" 2>/dev/null || true
  fi
  # No `wait` here: in an EXIT trap entered through a signal trap's `exit`, bash ends the script inside it.
  # bash reaps the child itself (kill -0 fails once it has).
  PCD_PID=
  # Shims outlive containerd by design; kill ours, and the containers they were running.
  local leftovers
  leftovers=$(pcd_address_pids)
  if [ -n "$leftovers" ]; then
    echo "private-containerd: killing leftover shim process(es): $(echo "$leftovers" | tr '\n' ' ')" >&2
    for pid in $leftovers; do
      # shellcheck disable=SC2046 # word splitting of the pid list is intended
      kill -KILL $(pcd_descendants "$pid") "$pid" 2>/dev/null || true
    done
    sleep 0.2
  fi
  if [ -n "$PCD_DIR" ] && [ -d "$PCD_DIR" ]; then
    # Rootfs bind mounts, shm, anything a shim left under our state: deepest first.
    local mnt
    awk -v dir="$PCD_DIR/" 'index($5, dir) == 1 {print $5}' /proc/self/mountinfo | sort -r |
      while read -r mnt; do umount -l "$mnt" 2>/dev/null || umount -f "$mnt" 2>/dev/null || true; done
    case $PCD_DIR in
      */litebox-*-[0-9]*) rm -rf "$PCD_DIR" 2>/dev/null || pcd_die "could not remove $PCD_DIR" || true ;;
    esac
  fi
  PCD_DIR=
  if [ -n "$PCD_LINK_DIR" ]; then rm -rf "$PCD_LINK_DIR"; PCD_LINK_DIR=; fi
  if [ -n "$PCD_OWN_NS" ]; then
    # Our namespace's containers whose shim died with them (or was killed above): their processes by cgroup,
    # their runc state, then the cgroup directories (cgroupsPath /NS/ID; v1 hierarchies and v2).
    local cg procs
    for cg in /sys/fs/cgroup/*/"$PCD_NAMESPACE" /sys/fs/cgroup/"$PCD_NAMESPACE"; do
      [ -d "$cg" ] || continue
      procs=$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
      # shellcheck disable=SC2086 # a list of pids
      [ -z "$procs" ] || kill -KILL $procs 2>/dev/null || true
    done
    if [ -d /run/containerd/runc/"$PCD_NAMESPACE" ] && command -v runc >/dev/null; then
      for id in /run/containerd/runc/"$PCD_NAMESPACE"/*; do
        [ -d "$id" ] || continue
        id=${id##*/}
        timeout 10 runc --root /run/containerd/runc/"$PCD_NAMESPACE" delete --force "$id" >/dev/null 2>&1 || true
      done
    fi
    for cg in /sys/fs/cgroup/*/"$PCD_NAMESPACE" /sys/fs/cgroup/"$PCD_NAMESPACE"; do
      [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    rmdir /run/containerd/runc/"$PCD_NAMESPACE" 2>/dev/null
    PCD_OWN_NS=
  fi
  eval "${saved_err:-}"
  return "$rc"
}
