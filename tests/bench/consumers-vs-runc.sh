#!/usr/bin/env bash
# `ctr run --rm /bin/true` and the shim's memory under the containerd releases people run, ours against runc's
# shim in each, in one run: containerd 2.4.2 over ttrpc (with 2.4.2's own runc shim), then containerd 1.7.35
# over ttrpc and over gRPC (with Debian's runc shim, which 1.7 still starts). gRPC is measured under 1.7
# because containerd 2.0-2.4.2 drop a gRPC shim's connection as soon as they make it (README, gRPC).
# Usage: consumers-vs-runc.sh SHIM_BINARY [RUNS]   (RUNS per column, default 20; WARMUP, CONTAINERS as
# shim-vs-runc.sh). Builds the Go peers first if they are not in build/peers (tests/consumers/build-peers.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shim=${1:?usage: $0 SHIM_BINARY [RUNS]}
runs=${2:-20}
peers=$("$here/../consumers/build-peers.sh" containerd containerd17)
containerd2=$(sed -n 's/^containerd=//p' <<<"$peers")/bin
containerd17=$(sed -n 's/^containerd17=//p' <<<"$peers")/bin

echo "=== containerd 2.x, ttrpc ==="
PCD_CONTAINERD_DIR=$containerd2 "$here/shim-vs-runc.sh" "$shim" "$runs"
echo
echo "=== containerd 1.7, ttrpc and gRPC ==="
PCD_CONTAINERD_DIR=$containerd17 GRPC=1 "$here/shim-vs-runc.sh" "$shim" "$runs"
