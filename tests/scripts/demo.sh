#!/usr/bin/env bash
# The main job, for now: installs what the build needs, builds the release preset and runs the fdcore benchmark,
# which measures fdcore against the kernel's own descriptor calls and ends with the ratio table.
# Extra arguments go to the benchmark (e.g. --benchmark_filter=dup).
set -euo pipefail
cd "$(dirname "$0")/../.."

tests/scripts/setup-deps.sh
cmake --preset release
cmake --build --preset release

# 0.2 s per benchmark keeps the whole run well under a minute on two cores.
build/release/tests/bench/fdcore_bench --benchmark_min_time=0.2 "$@"
