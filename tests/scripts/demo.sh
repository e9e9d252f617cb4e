#!/usr/bin/env bash
# The main job: installs what the build needs, builds the release preset, starts a private containerd
# (Debian's, on its own socket and state directory under /run/litebox-demo-PID), runs busybox containers
# through containerd-shim-litebox-v1 with ctr (runtime io.containerd.litebox.v1) and shows their output, stops
# containerd; then the fdcore benchmark (fdcore against the kernel's own descriptor calls).
# Extra arguments go to the benchmark (e.g. --benchmark_filter=dup). Needs root (namespaces, mounts, cgroups).
set -euo pipefail
cd "$(dirname "$0")/../.."

tests/scripts/setup-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release

tests/scripts/containerd-demo.sh build/release
echo

echo "=== fdcore against the kernel ==="
# 0.2 s per benchmark keeps the whole run well under a minute on two cores.
build/release/tests/bench/fdcore_bench --benchmark_min_time=0.2 "$@"
