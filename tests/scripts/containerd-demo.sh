#!/usr/bin/env bash
# The main job's core: a private containerd (Debian's) that finds containerd-shim-litebox-v1 on its PATH, and
# busybox containers run through it with ctr under runtime io.containerd.litebox.v1: one `ctr run --rm` that
# shows what the container sees, then a detached container for exec, ps, metrics, kill and delete.
#
# Usage: containerd-demo.sh BUILD_DIR_WITH_SHIM
#   BUILD_DIR_WITH_SHIM: a directory holding containerd-shim-litebox-v1 (or its runtime_shim/ subdirectory,
#   e.g. build/release), or the binary itself.
# Environment: RUNTIME (default io.containerd.litebox.v1), e.g. RUNTIME=io.containerd.runc.v2 to run the same
#   demo through containerd's runc shim (then BUILD_DIR_WITH_SHIM may be omitted).
# Needs root, Debian's containerd (containerd, ctr) and busybox-static.
set -Eeuo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=private-containerd.sh
. "$here/private-containerd.sh"

runtime=${RUNTIME:-io.containerd.litebox.v1}
build=${1:-}
fail() { echo "containerd-demo: $*" >&2; exit 1; }

shim=
if [ -n "$build" ]; then
  if [ -f "$build" ]; then shim=$build
  elif [ -x "$build/containerd-shim-litebox-v1" ]; then shim=$build/containerd-shim-litebox-v1
  elif [ -x "$build/runtime_shim/containerd-shim-litebox-v1" ]; then shim=$build/runtime_shim/containerd-shim-litebox-v1
  else fail "no containerd-shim-litebox-v1 in $build or $build/runtime_shim (build it first: cmake --build --preset release)"
  fi
elif [ "$runtime" = io.containerd.litebox.v1 ]; then
  fail "usage: $0 BUILD_DIR_WITH_SHIM   (or RUNTIME=io.containerd.runc.v2 $0)"
fi

trap 'pcd_cleanup' EXIT
pcd_trap_errors containerd-demo

if [ -n "$shim" ]; then
  pcd_shim_dir "$shim"
  pcd_start demo "$PCD_SHIM_DIR"
else
  pcd_start demo
fi
rootfs=$PCD_DIR/rootfs
pcd_build_rootfs "$rootfs"

echo "=== containerd $(containerd --version | awk '{print $3}') on $PCD_ADDRESS, runtime $runtime ==="
[ -z "$shim" ] || echo "shim: $(readlink -f "$shim")"
echo

id=demo-$$
# ctr's --rootfs is a flag: the rootfs path is the first positional argument, then the id.
run=(run --runtime "$runtime" "${PCD_RUN_OPTS[@]}")
echo "=== ctr run --rm --runtime $runtime --rootfs ROOTFS $id sh -c '...' ==="
# shellcheck disable=SC2016 # expanded by the container's shell
pcd_ctr "${run[@]}" --rm --rootfs "$rootfs" "$id" sh -c \
  'echo hello from a LiteBox container; uname -a; id; echo "pid $$, hostname $(hostname)"; echo "fds:" $(ls /proc/self/fd)'
echo

id=demo-$$-detached
echo "=== a detached container: ctr run -d ... $id sleep 300; exec, ps, metrics, kill, delete ==="
pcd_ctr "${run[@]}" -d --rootfs "$rootfs" "$id" sleep 300
pcd_ctr task ls
echo "--- ctr task exec --exec-id e1 $id sh -c '...' ---"
# shellcheck disable=SC2016 # expanded by the container's shell
pcd_ctr task exec --exec-id e1 "$id" sh -c 'echo "exec sees pid 1 = $(cat /proc/1/comm)"; ps'
echo "--- ctr task ps $id ---"
pcd_ctr task ps "$id"
echo "--- ctr task metrics $id (first lines) ---"
pcd_ctr task metrics "$id" | sed -n 1,8p
pcd_ctr task kill -s KILL "$id"
status=
for _ in $(seq 1 50); do
  status=$(pcd_ctr task ls | awk -v id="$id" '$1 == id {print $3}')
  [ "$status" = STOPPED ] && break
  sleep 0.1
done
[ "$status" = STOPPED ] || fail "$id did not stop after SIGKILL (status: $status)"
# (ctr warns that the task exited with 137: it was the SIGKILL above)
pcd_ctr task delete "$id" >/dev/null 2>&1 || pcd_ctr task delete "$id"
pcd_ctr container delete "$id"
echo "killed and deleted $id"
echo
echo "=== demo done: runtime $runtime ==="
