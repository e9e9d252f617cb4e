#!/usr/bin/env bash
# The main job, until the shim exists: installs what the build needs, builds the release preset, runs a
# busybox container through litebox-runtime and shows its output, then runs the fdcore benchmark, which
# measures fdcore against the kernel's own descriptor calls and ends with the ratio table.
# Extra arguments go to the benchmark (e.g. --benchmark_filter=dup). Needs root (namespaces, mounts, cgroups).
set -euo pipefail
cd "$(dirname "$0")/../.."

tests/scripts/setup-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release

# A busybox bundle under the build tree whose process tells what it sees.
bundle=build/release/demo-bundle
rm -rf "$bundle"
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/sys" "$bundle/rootfs/dev" "$bundle/rootfs/tmp"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$bundle/rootfs/bin/$applet"
done
cat > "$bundle/config.json" <<'JSON'
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["sh", "-c", "echo \"hello from $(hostname), pid $$ in its own pid namespace\"; echo 'its descriptors (fd 3 is ls reading the directory):'; ls -l /proc/self/fd 2>/dev/null; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "litebox-demo",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
    "resources": {"memory": {"limit": 67108864}, "pids": {"limit": 64}},
    "maskedPaths": ["/proc/kcore", "/proc/keys", "/sys/firmware"],
    "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"]
  }
}
JSON
echo "=== litebox-runtime run (a busybox container) ==="
build/release/platforms/linux/litebox-runtime --root build/release/demo-state run --bundle "$bundle" "demo-$$" </dev/null
echo

echo "=== fdcore against the kernel ==="
# 0.2 s per benchmark keeps the whole run well under a minute on two cores.
build/release/tests/bench/fdcore_bench --benchmark_min_time=0.2 "$@"
