#!/usr/bin/env bash
# The headline benchmark: containerd-shim-litebox-v1 against containerd's runc shim, both driven by one private
# containerd (Debian's) through ctr on the same busybox rootfs.
#  1. Start-up: `ctr run --rm --runtime R --rootfs ROOTFS ID /bin/true`, RUNS times per runtime after WARMUP
#     runs each, alternating (the order swapped every round); median and p90 wall time, and the ratio
#     ours/runc of the medians (goal: at most 0.6x).
#  2. Memory: CONTAINERS detached `sleep 1000` containers per runtime (one runtime at a time); the shim server
#     processes serving them are found in /proc (argv has `-id ID`, and this containerd's address in argv or a
#     bundle of it as cwd: pcd_shim_pids), their VmRSS (/proc/PID/status) and Pss (/proc/PID/smaps_rollup)
#     summed and divided by the number of containers; the ratio ours/runc (goal: under a third). Only the
#     shim server processes count: not the containers' own processes.
#
# Usage: shim-vs-runc.sh SHIM_BINARY [RUNS]
#   SHIM_BINARY: our containerd-shim-litebox-v1 (any file name; it is put on containerd's PATH under that name).
#                `-` or absent: measure runc's shim alone (the "ours" column is skipped).
#   RUNS: timed `ctr run --rm` per runtime (default 30).
# Environment:
#   OURS_RUNTIME  runtime of the "ours" column (default io.containerd.litebox.v1); set it to
#                 io.containerd.runc.v2 to validate the script with runc's shim in both columns.
#   WARMUP (default 3), CONTAINERS (default 5), MEM_SETTLE seconds before reading memory (default 1).
#   PCD_CONTAINERD_DIR  another containerd (a folder with containerd and ctr, e.g. build/peers/containerd-v2.4.2/bin
#                 from tests/consumers/build-peers.sh); runc's shim is then the one in that folder if it has one
#                 (containerd 2.3+ cannot start Debian's 1.6 runc shim), else Debian's.
#   GRPC=1        a third column: our shim asked for the gRPC transport (its options through ctr's
#                 --runtime-config-path; needs containerd 1.7, see the README's gRPC section).
# Needs root, Debian's containerd and runc, busybox-static.
set -Eeuo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../scripts/private-containerd.sh
. "$here/../scripts/private-containerd.sh"

invocation=$(
  for v in OURS_RUNTIME WARMUP CONTAINERS MEM_SETTLE PCD_CONTAINERD_DIR GRPC; do
    if [ -n "${!v:-}" ]; then printf '%s=%q ' "$v" "${!v}"; fi
  done
  printf '%q' "$0"
  if [ $# -gt 0 ]; then printf ' %q' "$@"; fi
)
fail() { echo "shim-vs-runc: $*" >&2; exit 1; }
usage="usage: $0 SHIM_BINARY|- [RUNS]   (env: OURS_RUNTIME, WARMUP, CONTAINERS, MEM_SETTLE)"

shim=${1:--}
runs=${2:-30}
warmup=${WARMUP:-3}
containers=${CONTAINERS:-5}
settle=${MEM_SETTLE:-1}
runc_runtime=io.containerd.runc.v2
for n in "$runs" "$warmup" "$containers"; do
  [[ $n =~ ^[0-9]+$ ]] || fail "not a count: $n; $usage"
done
if [ "$runs" -lt 1 ] || [ "$containers" -lt 1 ]; then fail "RUNS and CONTAINERS must be at least 1"; fi
command -v containerd-shim-runc-v2 >/dev/null || fail "needs Debian's containerd (containerd-shim-runc-v2 not found)"
command -v runc >/dev/null || fail "needs Debian's runc (apt-get install runc)"

if [ -n "${OURS_RUNTIME:-}" ]; then
  ours_runtime=$OURS_RUNTIME
elif [ "$shim" != - ]; then
  ours_runtime=io.containerd.litebox.v1
else
  ours_runtime=  # runc alone
fi
if [ "$shim" != - ] && { [ ! -f "$shim" ] || [ ! -x "$shim" ]; }; then
  fail "no shim binary at $shim (build it: cmake --build --preset release; or pass - to measure runc's shim alone)"
fi
if [ "$ours_runtime" = io.containerd.litebox.v1 ] && [ "$shim" = - ]; then
  fail "OURS_RUNTIME=io.containerd.litebox.v1 needs SHIM_BINARY; $usage"
fi

trap 'pcd_cleanup' EXIT
pcd_trap_errors shim-vs-runc

if [ "$shim" != - ]; then
  pcd_shim_dir "$shim"
  pcd_start bench "$PCD_SHIM_DIR"
else
  pcd_start bench
fi
rootfs=$PCD_DIR/rootfs
pcd_build_rootfs "$rootfs"

columns=()
[ -z "$ours_runtime" ] || columns+=(ours)
columns+=(runc)
declare -A runtime_of=([ours]=$ours_runtime [runc]=$runc_runtime)
declare -A label_of=([ours]="ours ($ours_runtime)" [runc]="runc ($runc_runtime)")
declare -A options_of=([ours]="" [runc]="")
if [ "${GRPC:-0}" = 1 ] && [ -n "$ours_runtime" ]; then
  printf '{"transport": "grpc"}\n' >"$PCD_DIR/grpc-options.json"
  columns=(ours ours_grpc runc)
  runtime_of[ours_grpc]=$ours_runtime
  label_of[ours]="ours ($ours_runtime, ttrpc)"
  label_of[ours_grpc]="ours ($ours_runtime, gRPC)"
  options_of[ours_grpc]=$PCD_DIR/grpc-options.json
fi
runc_shim=$(PATH=$(dirname "$PCD_CONTAINERD"):$PATH command -v containerd-shim-runc-v2)

echo "shim-vs-runc: containerd $("$PCD_CONTAINERD" --version | awk '{print $3}'), runc $(runc --version | awk 'NR == 1 {print $3}'), $(nproc) CPUs, kernel $(uname -r)"
echo "runc's shim: $runc_shim"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the times)"
[ "$shim" = - ] || echo "ours: $(readlink -f "$shim")"
[ -n "$ours_runtime" ] || echo "no SHIM_BINARY: runc's shim alone"
[ "$ours_runtime" != "$runc_runtime" ] || echo "validation run: the \"ours\" column is runc's shim too (OURS_RUNTIME)"

# ---- 1. ctr run --rm /bin/true ----
# run_once COLUMN NAME: one `ctr run --rm`; prints its wall time in microseconds. On failure shows ctr's
# output and fails.
run_once() {
  local column=$1 id=$2-$1-$$ start end
  start=${EPOCHREALTIME/./}
  local options=()
  [ -z "${options_of[$column]}" ] || options=(--runtime-config-path "${options_of[$column]}")
  if ! pcd_ctr run --rm --runtime "${runtime_of[$column]}" "${options[@]}" "${PCD_RUN_OPTS[@]}" --rootfs "$rootfs" "$id" /bin/true \
    </dev/null >"$PCD_DIR/run.out" 2>&1; then
    echo "shim-vs-runc: ctr run --rm --runtime ${runtime_of[$column]} ... $id /bin/true failed:" >&2
    cat -v "$PCD_DIR/run.out" >&2
    return 1
  fi
  end=${EPOCHREALTIME/./}
  echo $((end - start))
}

for column in "${columns[@]}"; do
  for i in $(seq 1 "$warmup"); do run_once "$column" "warm$i" >/dev/null; done
done
declare -A times=()
for round in $(seq 1 "$runs"); do
  # The order rotates every round, so that no column always follows the same one.
  order=("${columns[@]:round % ${#columns[@]}}" "${columns[@]:0:round % ${#columns[@]}}")
  for column in "${order[@]}"; do
    times[$column]+="$(run_once "$column" "run$round") "
  done
done

# percentile P of the numbers on stdin, nearest rank
percentile() { sort -n | awk -v p="$1" '{a[NR] = $1} END {r = int((p * NR + 99) / 100); if (r < 1) r = 1; print a[r]}'; }
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ms() { awk -v us="$1" 'BEGIN {printf "%.1f", us / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

declare -A med=() p90=() low=()
for column in "${columns[@]}"; do
  med[$column]=$(tr ' ' '\n' <<<"${times[$column]}" | grep . | median)
  p90[$column]=$(tr ' ' '\n' <<<"${times[$column]}" | grep . | percentile 90)
  low[$column]=$(tr ' ' '\n' <<<"${times[$column]}" | grep . | percentile 0)
done

echo
echo "ctr run --rm --rootfs ROOTFS ID /bin/true: $runs runs per runtime, alternating, after $warmup warm-up runs each"
printf '  %-44s %10s %10s %10s\n' runtime "median ms" "p90 ms" "min ms"
for column in "${columns[@]}"; do
  printf '  %-44s %10s %10s %10s\n' "${label_of[$column]}" "$(ms "${med[$column]}")" "$(ms "${p90[$column]}")" "$(ms "${low[$column]}")"
done
if [ -n "$ours_runtime" ]; then
  r=$(ratio "${med[ours]}" "${med[runc]}")
  verdict=$(awk -v r="$r" 'BEGIN {print (r <= 0.6) ? "meets" : "misses"}')
  printf '  ratio ours/runc: median %sx, p90 %sx  (goal: at most 0.6x: %s)\n' \
    "$r" "$(ratio "${p90[ours]}" "${p90[runc]}")" "$verdict"
  if [ -n "${med[ours_grpc]:-}" ]; then
    printf '  ratio ours over gRPC/runc: median %sx, p90 %sx; gRPC/ttrpc: median %sx\n' "$(ratio "${med[ours_grpc]}" "${med[runc]}")" \
      "$(ratio "${p90[ours_grpc]}" "${p90[runc]}")" "$(ratio "${med[ours_grpc]}" "${med[ours]}")"
  fi
fi

# ---- 2. resident memory of the shim servers ----
# mem_measure COLUMN: starts the containers, sums the shim servers' VmRSS and Pss (kB), tears them down.
declare -A rss=() pss=() nproc_of=()
mem_measure() {
  local column=$1 runtime=${runtime_of[$1]} ids=() id i pids pid rss_kb=0 pss_kb=0 v status options=()
  [ -z "${options_of[$column]}" ] || options=(--runtime-config-path "${options_of[$column]}")
  for i in $(seq 1 "$containers"); do
    id=mem-$column-$i-$$
    pcd_ctr run -d --runtime "$runtime" "${options[@]}" "${PCD_RUN_OPTS[@]}" --rootfs "$rootfs" "$id" sleep 1000 </dev/null >/dev/null
    ids+=("$id")
  done
  sleep "$settle"
  pids=$(pcd_shim_pids "${ids[@]}")
  [ -n "$pids" ] || fail "no shim server process found for ${ids[*]} (none has -id ID in its argv and our address in its argv or a bundle as its cwd)"
  for pid in $pids; do
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
    rss_kb=$((rss_kb + v))
    v=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
    pss_kb=$((pss_kb + v))
  done
  rss[$column]=$rss_kb
  pss[$column]=$pss_kb
  nproc_of[$column]=$(wc -w <<<"$pids")
  for id in "${ids[@]}"; do pcd_ctr task kill -s KILL "$id"; done
  for id in "${ids[@]}"; do
    for _ in $(seq 1 50); do
      status=$(pcd_ctr task ls | awk -v id="$id" '$1 == id {print $3}')
      [ "$status" = STOPPED ] && break
      sleep 0.1
    done
    pcd_ctr task delete "$id" >/dev/null 2>&1 || pcd_ctr task delete "$id"
    pcd_ctr container delete "$id"
  done
}
for column in "${columns[@]}"; do mem_measure "$column"; done

kb_per() { awk -v kb="$1" -v n="$containers" 'BEGIN {printf "%.0f", kb / n}'; }
echo
echo "shim server memory with $containers detached 'sleep 1000' containers per runtime (one runtime at a time)"
printf '  %-44s %9s %14s %14s %14s\n' runtime processes "RSS kB total" "RSS kB/ctr" "PSS kB/ctr"
for column in "${columns[@]}"; do
  printf '  %-44s %9s %14s %14s %14s\n' "${label_of[$column]}" "${nproc_of[$column]}" "${rss[$column]}" \
    "$(kb_per "${rss[$column]}")" "$(kb_per "${pss[$column]}")"
done
if [ -n "$ours_runtime" ]; then
  r=$(ratio "${pss[ours]}" "${pss[runc]}")
  verdict=$(awk -v r="$r" 'BEGIN {print (r < 1 / 3) ? "meets" : "misses"}')
  printf '  ratio ours/runc: RSS %sx, PSS %sx  (goal: under 0.33x: %s)\n' \
    "$(ratio "${rss[ours]}" "${rss[runc]}")" "$r" "$verdict"
fi
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: $invocation"
