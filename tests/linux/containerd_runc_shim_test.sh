#!/usr/bin/env bash
# litebox-runtime as the runc binary of containerd's own runc shim (io.containerd.runc.v2 with BinaryName):
# a real containerd from Debian, on a private socket with its state under the build tree, driven by ctr.
# This is runc compatibility as containerd uses it: create/start/state/kill/delete, exec, ps, pause, resume,
# and the cgroup the shim reads for metrics.
# Usage: containerd_runc_shim_test.sh LITEBOX_RUNTIME SCRATCH_DIR. Exit 77: skipped (ctest SKIP_RETURN_CODE).
set -euo pipefail
runtime=$1
scratch=$2

if [ "$(id -u)" -ne 0 ]; then echo "skipped: needs root (containers need namespaces, mounts and cgroups)"; exit 77; fi
for tool in containerd ctr containerd-shim-runc-v2; do
  command -v "$tool" >/dev/null || { echo "skipped: needs Debian's containerd ($tool not found)"; exit 77; }
done
[ -x /bin/busybox ] || { echo "skipped: needs busybox-static"; exit 77; }

mkdir -p "$scratch"
work=$(mktemp -d "$scratch/containerd-XXXXXX")
ctr=(ctr --address "$work/containerd.sock")
ids=()
cleanup() {
  for id in "${ids[@]}"; do
    "${ctr[@]}" task kill -s KILL "$id" >/dev/null 2>&1 || true
    "${ctr[@]}" task delete "$id" >/dev/null 2>&1 || true
    "${ctr[@]}" container delete "$id" >/dev/null 2>&1 || true
  done
  [ -n "${containerd_pid:-}" ] && kill "$containerd_pid" 2>/dev/null && wait "$containerd_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/config.toml" <<TOML
version = 2
root = "$work/root"
state = "$work/state"
[grpc]
  address = "$work/containerd.sock"
[ttrpc]
  address = "$work/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  disable = true
TOML
containerd --config "$work/config.toml" >"$work/containerd.log" 2>&1 &
containerd_pid=$!
for _ in $(seq 1 100); do "${ctr[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
"${ctr[@]}" version >/dev/null || { echo "containerd did not start:"; cat "$work/containerd.log"; exit 1; }

mkdir -p "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/dev" "$work/rootfs/tmp"
cp /bin/busybox "$work/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$work/rootfs/bin/$applet"; done

passes=0
failures=0
check() {  # check NAME EXPECTED ACTUAL
  if [ "$2" == "$3" ]; then
    echo "ok: $1"
    passes=$((passes + 1))
  else
    echo "FAILED: $1: expected [$2], got [$3]"
    failures=$((failures + 1))
  fi
}
run_opts=(--runc-binary "$runtime" --rootfs "$work/rootfs")
tag=$$

# A foreground run: output and exit code through the shim.
id=lbx-run-$tag; ids+=("$id")
set +e
out=$("${ctr[@]}" run --rm "${run_opts[@]}" "$id" sh -c 'echo hello via containerd; ls /proc/self/fd | tr "\n" " "; exit 3' 2>&1)
code=$?
set -e
check "run output" "hello via containerd
0 1 2 3 " "$out"
check "run exit code" 3 "$code"

# A detached task: exec, ps, pause, resume, metrics, kill, delete.
id=lbx-task-$tag; ids+=("$id")
"${ctr[@]}" run -d "${run_opts[@]}" "$id" sleep 300
status() { "${ctr[@]}" task ls | awk -v id="$1" '$1 == id {print $3}'; }
check "task running" RUNNING "$(status "$id")"
check "exec" "exec-ok pid1=sleep" "$("${ctr[@]}" task exec --exec-id e1 "$id" sh -c 'echo exec-ok pid1=$(cat /proc/1/comm)')"
set +e
"${ctr[@]}" task exec --exec-id e2 "$id" sh -c 'exit 7'
code=$?
set -e
check "exec exit code" 7 "$code"
check "ps lists the init" 1 "$("${ctr[@]}" task ps "$id" | tail -n +2 | wc -l)"
"${ctr[@]}" task pause "$id"
check "paused" PAUSED "$(status "$id")"
"${ctr[@]}" task resume "$id"
check "resumed" RUNNING "$(status "$id")"
check "metrics read from the container's cgroup" 1 "$("${ctr[@]}" task metrics "$id" | grep -c -E '^(memory.usage_in_bytes|memory.usage)')"
"${ctr[@]}" task kill -s KILL "$id"
for _ in $(seq 1 50); do [ "$(status "$id")" = STOPPED ] && break; sleep 0.1; done
check "killed" STOPPED "$(status "$id")"
"${ctr[@]}" task delete "$id" >/dev/null
"${ctr[@]}" container delete "$id"
check "no cgroup left" 0 "$(find /sys/fs/cgroup -maxdepth 3 -name "$id" 2>/dev/null | wc -l)"

echo "containerd with litebox-runtime as its runc: $passes checks passed, $failures failed"
exit $((failures == 0 ? 0 : 1))
