#!/usr/bin/env bash
# `litebox-runtime run` against `runc run` on the same busybox bundle running /bin/true, alternating in one
# run; prints the median wall times and their ratio. Usage: runtime-vs-runc.sh [LITEBOX_RUNTIME] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."

runtime=${1:-build/release/platforms/linux/litebox-runtime}
rounds=${2:-30}
command -v runc >/dev/null || { echo "runc-vs: needs Debian's runc (apt-get install runc)" >&2; exit 1; }
[ -x /bin/busybox ] || { echo "runc-vs: needs busybox-static" >&2; exit 1; }
[ -x "$runtime" ] || { echo "runc-vs: build litebox-runtime first (cmake --preset release && cmake --build --preset release)" >&2; exit 1; }

work=$(mktemp -d /tmp/litebox-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs/proc" "$work/bundle/rootfs/sys" "$work/bundle/rootfs/dev"
cp /bin/busybox "$work/bundle/rootfs/bin/busybox"
ln -s busybox "$work/bundle/rootfs/bin/true"
(cd "$work/bundle" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"\/bin\/true"/' config.json)

# Wall time of one command in nanoseconds.
time_ns() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1 </dev/null
  end=$(date +%s%N)
  echo $((end - start))
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

ours=()
theirs=()
for i in $(seq 1 "$rounds"); do
  ours+=("$(time_ns "$runtime" --root "$work/lb" run --bundle "$work/bundle" "lb$i")")
  theirs+=("$(time_ns runc --root "$work/runc" run --bundle "$work/bundle" "rc$i")")
done
m_ours=$(printf '%s\n' "${ours[@]}" | median)
m_theirs=$(printf '%s\n' "${theirs[@]}" | median)
echo "run /bin/true, $rounds rounds alternating, median wall time:"
printf '  litebox-runtime  %8.2f ms\n' "$(echo "$m_ours / 1000000" | bc -l)"
printf '  runc             %8.2f ms\n' "$(echo "$m_theirs / 1000000" | bc -l)"
printf '  ratio            %8.2fx of runc (goal: at most 0.5x)\n' "$(echo "$m_ours / $m_theirs" | bc -l)"
