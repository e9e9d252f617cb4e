#!/usr/bin/env bash
# What the LiteBox core costs: containerd-shim-litebox-v1 with the core on (annotation org.litebox.core=on),
# the same shim with the core off (org.litebox.core=off), Debian's runc shim (io.containerd.runc.v2), and the
# host itself ("native"), all in one run, one private containerd (Debian's), the same busybox rootfs.
#  1. Pipe throughput: `dd if=/dev/zero bs=64k count=16384 | cat > /dev/null` (1 GiB, busybox's dd and cat),
#     timed inside the container with a static CLOCK_MONOTONIC stamp before and after; MiB/s, median of REPS.
#     Goal: the core within 2% of native (ratio on/native at least 0.98).
#  2. open("/dev/null") + close, LOOP_N times (or as many as fit in LOOP_MAX_S seconds), by a static C program
#     (core_bench/openclose.c) that prints the mean nanoseconds per iteration, and those of the first and the
#     last 1% of the iterations (a cost that grows with the descriptors opened so far shows there); median of
#     REPS. Reported: the core's added cost (on - off) in microseconds per iteration and per call.
#  3. Signals against the calls a program makes: SIGWIN_N (default 200000) rounds of dup + F_GETFD + close, and
#     as many rounds of open("/dev/null") + close, under a 50 us SIGALRM timer whose handler lacks SA_RESTART
#     (core_bench/sigwin.c); reported: the calls that failed with EINTR per 1000 signals (natively 0: Linux
#     never interrupts these calls; under the core a call it stops fails so when the signal arrives before the
#     core has received it: it stops no dup, fcntl or close, but it does stop path opens); median of REPS.
#  4. A Go program (tests/core/workloads/gofds, built here with GO, default go, into CACHE): its run time
#     inside the container, median of REPS. Goal: core on at most 1.5x core off.
#  5. python3 importing json, subprocess, asyncio, email, http.client and running one subprocess, in the
#     Debian rootfs of the core tests (tests/core/debian-rootfs.sh, built once into CACHE; skipped without
#     debootstrap or the mirror), PY_N runs per container (default 5), timed inside; median of REPS. Goal: core
#     on at most 3% over core off.
#  6. `ctr run --rm --rootfs ROOTFS ID /bin/true` wall time, median of RUNS per configuration after WARMUP
#     runs each. Reported: the core's added milliseconds (on - off).
# Configurations are interleaved round by round (the first one rotating each round), so drift and other work
# on the machine hit all of them alike. 1 to 3 run in one container per configuration and repetition.
# Inside each container the Seccomp mode of /proc/self/status is read too: 2 (a filter) when the core put the
# container's processes under its seccomp user notification, 0 with the core off and with runc's shim (ctr
# sets no seccomp profile). Until the core serves containers, on and off show the same figures.
#
# Usage: core-vs-runc.sh SHIM_BINARY [RUNS]     (as root)
#   SHIM_BINARY: our containerd-shim-litebox-v1 (any file name; it is put on containerd's PATH under that name).
#   RUNS: timed `ctr run --rm /bin/true` per configuration (default 20).
# Environment: REPS (default 5) repetitions of 1 to 5; LOOP_N (default 200000) open+close iterations;
#   LOOP_MAX_S (default 10) seconds after which the loop stops early (so that a slow core cannot stretch the
#   run; the table says how many iterations were done); WARMUP (default 2) untimed `ctr run` per
#   configuration; SIGWIN_N (see 3); PY_N (see 5); CC (default cc) for the three static C programs; GO
#   (default go); CACHE (default build/bench-cache of the source tree) for gofds and the Debian rootfs.
# Needs root, Debian's containerd and runc, busybox-static, a C compiler with static glibc (libc6-dev); Go and
# debootstrap for 4 and 5 (each skipped with a note when missing).
set -Eeuo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../scripts/private-containerd.sh
. "$here/../scripts/private-containerd.sh"

invocation=$(
  for v in REPS LOOP_N LOOP_MAX_S SIGWIN_N PY_N WARMUP CC GO CACHE; do
    if [ -n "${!v:-}" ]; then printf '%s=%q ' "$v" "${!v}"; fi
  done
  printf '%q' "$0"
  if [ $# -gt 0 ]; then printf ' %q' "$@"; fi
)
fail() { echo "core-vs-runc: $*" >&2; exit 1; }
usage="usage: $0 SHIM_BINARY [RUNS]   (env: REPS, LOOP_N, LOOP_MAX_S, SIGWIN_N, PY_N, WARMUP, CC, GO, CACHE)"

if [ $# -lt 1 ] || [ $# -gt 2 ]; then fail "$usage"; fi
shim=$1
runs=${2:-20}
reps=${REPS:-5}
loop_n=${LOOP_N:-200000}
loop_max_s=${LOOP_MAX_S:-10}
sigwin_n=${SIGWIN_N:-200000}
py_n=${PY_N:-5}
warmup=${WARMUP:-2}
cc=${CC:-cc}
go_tool=${GO:-go}
cache=${CACHE:-$here/../../build/bench-cache}
for n in "$runs" "$reps" "$loop_n" "$loop_max_s" "$sigwin_n" "$py_n" "$warmup"; do
  [[ $n =~ ^[0-9]+$ ]] || fail "not a count: $n; $usage"
done
if [ "$runs" -lt 1 ] || [ "$reps" -lt 1 ] || [ "$loop_n" -lt 1 ] || [ "$loop_max_s" -lt 1 ]; then
  fail "RUNS, REPS, LOOP_N and LOOP_MAX_S must be at least 1"
fi
{ [ -f "$shim" ] && [ -x "$shim" ]; } || fail "no shim binary at $shim (build it: cmake --build --preset release)"
command -v containerd-shim-runc-v2 >/dev/null || fail "needs Debian's containerd (containerd-shim-runc-v2 not found)"
command -v runc >/dev/null || fail "needs Debian's runc (apt-get install runc)"
command -v "$cc" >/dev/null || fail "needs a C compiler ($cc not found; apt-get install gcc libc6-dev)"

trap 'pcd_cleanup' EXIT
pcd_trap_errors core-vs-runc

pcd_shim_dir "$shim"
pcd_start core "$PCD_SHIM_DIR"
rootfs=$PCD_DIR/rootfs
pcd_build_rootfs "$rootfs"
# The C programs go into the rootfs (/bench inside the container); the host runs the same files.
mkdir -p "$rootfs/bench"
for prog in openclose stamp sigwin; do
  "$cc" -static -O2 -o "$rootfs/bench/$prog" "$here/core_bench/$prog.c" ||
    fail "could not build $here/core_bench/$prog.c statically (static glibc: apt-get install libc6-dev)"
done
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# 4: the Go workload, static (CGO_ENABLED=0), with its build cache in CACHE.
have_go=0
if command -v "$go_tool" >/dev/null; then
  if (cd "$here/../core/workloads/gofds" && CGO_ENABLED=0 GOCACHE=$cache/go-cache GOPATH=$cache/go-path GOFLAGS= \
      GOPROXY=off "$go_tool" build -trimpath -o "$rootfs/bench/gofds" .) >"$PCD_DIR/go-build.log" 2>&1; then
    have_go=1
  else
    echo "core-vs-runc: building gofds failed (no Go figures):" >&2
    tail -n 5 "$PCD_DIR/go-build.log" >&2
  fi
else
  echo "core-vs-runc: no $go_tool: no Go figures" >&2
fi
# 5: the Debian rootfs with python3 (shared with the core tests' script; built once).
have_python=0
debian=$cache/debian-rootfs
if bash "$here/../core/debian-rootfs.sh" "$debian" >"$PCD_DIR/debian-rootfs.log" 2>&1; then
  have_python=1
else
  echo "core-vs-runc: no Debian rootfs (no Python figures): $(tail -n 1 "$PCD_DIR/debian-rootfs.log")" >&2
fi

configs=(on off runc native)
containers=(on off runc)
declare -A runtime_of=([on]=io.containerd.litebox.v1 [off]=io.containerd.litebox.v1 [runc]=io.containerd.runc.v2)
declare -A annotation_of=([on]=org.litebox.core=on [off]=org.litebox.core=off [runc]=org.litebox.core=off)

# rotated N ITEMS...: the items, starting at item N mod count (round N's order).
rotated() {
  local n=$1
  shift
  local items=("$@") i
  for ((i = 0; i < ${#items[@]}; i++)); do echo "${items[(n + i) % ${#items[@]}]}"; done
}

# ctr run --rm for configuration CONFIG (on, off, runc): ctr_run CONFIG ID OUTPUT_FILE COMMAND...; on failure
# shows ctr's output and fails.
ctr_run() {
  local config=$1 id=$2-$1-$$ out=$3
  shift 3
  if ! PCD_CTR_TIMEOUT=${PCD_CTR_TIMEOUT:-$((loop_max_s + 120))} pcd_ctr run --rm --runtime "${runtime_of[$config]}" --annotation "${annotation_of[$config]}" \
    "${PCD_RUN_OPTS[@]}" --rootfs "$rootfs" "$id" "$@" </dev/null >"$out" 2>&1; then
    echo "core-vs-runc: ctr run --rm --runtime ${runtime_of[$config]} --annotation ${annotation_of[$config]} ... $id $* failed:" >&2
    cat -v "$out" >&2
    return 1
  fi
}

echo "core-vs-runc: containerd $(containerd --version | awk '{print $3}'), runc $(runc --version | awk 'NR == 1 {print $3}'), $(nproc) CPUs, kernel $(uname -r)"
echo "shim: $(readlink -f "$shim")"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"

# ---- 1 and 2: the pipe and the open+close loop, one container (or host shell) per configuration and rep ----
# Argument 1: the directory of the C programs (/bench inside, $rootfs/bench natively); 2: LOOP_N;
# 3: LOOP_MAX_S. busybox by absolute path, so that natively the same binary runs (not the host's coreutils).
# shellcheck disable=SC2016 # expanded by the container's shell
workload='
b=$1
s=$("$b"/stamp)
/bin/busybox dd if=/dev/zero bs=64k count=16384 2>/tmp/dd.err | /bin/busybox cat >/dev/null
e=$("$b"/stamp)
/bin/busybox grep -q "^16384+0 records out" /tmp/dd.err || { echo "dd did not copy 1 GiB:"; /bin/busybox cat /tmp/dd.err; exit 1; }
echo "pipe $s $e"
echo "loop $("$b"/openclose "$2" "$3")"
echo "sigwin $("$b"/sigwin "$4")"
echo "sigwin_open $("$b"/sigwin "$4" 50 open)"
if [ -x "$b"/gofds ]; then
  /bin/busybox mkdir -p /tmp/gofds
  s=$("$b"/stamp)
  "$b"/gofds /tmp/gofds >/tmp/gofds.out 2>&1 || { echo "gofds failed:"; /bin/busybox cat /tmp/gofds.out; exit 1; }
  e=$("$b"/stamp)
  echo "gofds $s $e"
fi
echo "seccomp $(/bin/busybox awk "/^Seccomp:/ {print \$2}" /proc/self/status)"
'
declare -A pipe_mibs=() loop_ns=() loop_iters=() loop_first=() loop_last=() eintr_per_k=() eintr_open_per_k=()
declare -A go_ms=() py_ms=() seccomp_of=()
out=$PCD_DIR/workload.out
native_tmp=$PCD_DIR/native-tmp
mkdir -p "$native_tmp"
echo
echo "pipe and open+close: $reps repetitions of [$(rotated 0 "${configs[@]}" | tr '\n' ' ' | sed 's/ $//')], rotating"
for rep in $(seq 1 "$reps"); do
  for config in $(rotated $((rep - 1)) "${configs[@]}"); do
    if [ "$config" = native ]; then
      # The same script on the host, its /tmp a directory of ours.
      /bin/busybox sh -c "${workload//\/tmp\//$native_tmp/}" sh "$rootfs/bench" "$loop_n" "$loop_max_s" "$sigwin_n" </dev/null >"$out" 2>&1 ||
        { cat -v "$out" >&2; fail "the workload failed on the host"; }
    else
      ctr_run "$config" "w$rep" "$out" /bin/sh -c "$workload" sh /bench "$loop_n" "$loop_max_s" "$sigwin_n"
    fi
    read -r s e < <(awk '$1 == "pipe" {print $2, $3}' "$out") || true
    read -r ns iters first last < <(awk '$1 == "loop" {print $2, $3, $4, $5}' "$out") || true
    mode=$(awk '$1 == "seccomp" {print $2}' "$out")
    eintr=$(awk '$1 == "sigwin" && $2 > 0 {printf "%.1f", 1000 * $3 / $2}' "$out")
    eintr_open=$(awk '$1 == "sigwin_open" && $2 > 0 {printf "%.1f", 1000 * $3 / $2}' "$out")
    go=$(awk '$1 == "gofds" {printf "%.2f", ($3 - $2) / 1e6}' "$out")
    if [ -z "${s:-}" ] || [ -z "${e:-}" ] || [ -z "${ns:-}" ] || [ -z "${iters:-}" ]; then cat -v "$out" >&2; fail "no figures from $config"; fi
    pipe_mibs[$config]+="$(awk -v s="$s" -v e="$e" 'BEGIN {printf "%.1f", 1024 / ((e - s) / 1e9)}') "
    loop_ns[$config]+="$ns "
    loop_iters[$config]+="$iters "
    loop_first[$config]+="$first "
    loop_last[$config]+="$last "
    eintr_per_k[$config]+="${eintr:-0} "
    eintr_open_per_k[$config]+="${eintr_open:-0} "
    go_ms[$config]+="${go:--} "
    seccomp_of[$config]=${mode:-?}
  done
  printf '  rep %d/%d done\n' "$rep" "$reps"
done

# ---- 5. python3 in the Debian rootfs: PY_N runs per container, each timed inside (ms) ----
# shellcheck disable=SC2016 # expanded by the container's shell
py_workload='
n=$1
for i in $(seq 1 "$n"); do
  s=$(date +%s%N)
  python3 -c "import json, subprocess, asyncio, email, http.client; subprocess.run([\"true\"])" || exit 1
  e=$(date +%s%N)
  echo "py $s $e"
done
'
if [ "$have_python" = 1 ]; then
  echo "python3 import workload: $reps repetitions of [${containers[*]}] x $py_n runs, rotating"
  for rep in $(seq 1 "$reps"); do
    for config in $(rotated $((rep - 1)) "${containers[@]}"); do
      if ! PCD_CTR_TIMEOUT=300 pcd_ctr run --rm --runtime "${runtime_of[$config]}" --annotation "${annotation_of[$config]}" "${PCD_RUN_OPTS[@]}" \
        --rootfs "$debian" "py$rep-$config-$$" /bin/sh -c "$py_workload" sh "$py_n" </dev/null >"$out" 2>&1; then
        cat -v "$out" >&2
        fail "the python workload failed under $config"
      fi
      py_ms[$config]+="$(awk '$1 == "py" {printf "%.2f ", ($3 - $2) / 1e6}' "$out")"
    done
  done
fi

# ---- 6. ctr run --rm /bin/true ----
declare -A run_us=()
for config in "${containers[@]}"; do
  for i in $(seq 1 "$warmup"); do ctr_run "$config" "warm$i" "$out" /bin/true; done
done
for round in $(seq 1 "$runs"); do
  for config in $(rotated $((round - 1)) "${containers[@]}"); do
    start=${EPOCHREALTIME/./}
    ctr_run "$config" "run$round" "$out" /bin/true
    end=${EPOCHREALTIME/./}
    run_us[$config]+="$((end - start)) "
  done
done

# ---- the table ----
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
fmt() { awk -v v="$1" -v f="$2" 'BEGIN {printf f, v}'; }
ratio() { if [ "$1" = - ] || [ "$2" = - ]; then echo -; else awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "-"; else printf "%.3f", a / b}'; fi; }

declare -A med_pipe=() med_loop=() med_iters=() med_first=() med_last=() med_eintr=() med_eintr_open=()
declare -A med_go=() med_py=([native]=-) med_run=([native]=-)
# median of a list that may hold "-" (not measured): "-" when nothing was measured
median_or_dash() { local v; v=$(tr ' ' '\n' | grep -v '^-$' | grep . | median); echo "${v:--}"; }
for config in "${configs[@]}"; do
  med_pipe[$config]=$(median <<<"${pipe_mibs[$config]}")
  med_loop[$config]=$(median <<<"${loop_ns[$config]}")
  med_iters[$config]=$(median <<<"${loop_iters[$config]}")
  med_first[$config]=$(median <<<"${loop_first[$config]}")
  med_last[$config]=$(median <<<"${loop_last[$config]}")
  med_eintr[$config]=$(median <<<"${eintr_per_k[$config]}")
  med_eintr_open[$config]=$(median <<<"${eintr_open_per_k[$config]}")
  med_go[$config]=$(median_or_dash <<<"${go_ms[$config]}")
done
for config in "${containers[@]}"; do med_py[$config]=$(median_or_dash <<<"${py_ms[$config]:-}"); done
for config in "${containers[@]}"; do med_run[$config]=$(awk -v us="$(median <<<"${run_us[$config]}")" 'BEGIN {printf "%.1f", us / 1000}'); done

row() {  # row METRIC FORMAT ARRAY_NAME
  local -n values=$3
  local cells=() config
  for config in "${configs[@]}"; do
    if [ "${values[$config]}" = - ]; then cells+=(-); else cells+=("$(fmt "${values[$config]}" "$2")"); fi
  done
  printf '  %-34s %10s %10s %10s %10s   %8s %8s %9s\n' "$1" "${cells[@]}" \
    "$(ratio "${values[on]}" "${values[off]}")" "$(ratio "${values[on]}" "${values[runc]}")" \
    "$(ratio "${values[on]}" "${values[native]}")"
}
echo
echo "medians; ratios are core on / the other column (MiB/s: higher is better; ns and ms: lower is better)"
printf '  %-34s %10s %10s %10s %10s   %8s %8s %9s\n' metric "core on" "core off" runc native on/off on/runc on/native
row "pipe 1 GiB, MiB/s (of $reps)" '%.0f' med_pipe
row "open+close, ns/iteration (of $reps)" '%.0f' med_loop
row "  iterations done (max $loop_n)" '%.0f' med_iters
row "  first 1% of them, ns/iteration" '%.0f' med_first
row "  last 1% of them, ns/iteration" '%.0f' med_last
row "EINTR/1000 signals, dup+F_GETFD+close" '%.1f' med_eintr
row "EINTR/1000 signals, open+close" '%.1f' med_eintr_open
row "Go (gofds), ms (of $reps)" '%.1f' med_go
row "python3 imports, ms (of $((reps * py_n)))" '%.1f' med_py
row "ctr run --rm /bin/true, ms (of $runs)" '%.1f' med_run
printf '  %-34s %10s %10s %10s %10s\n' "Seccomp mode inside (2: a filter)" \
  "${seccomp_of[on]}" "${seccomp_of[off]}" "${seccomp_of[runc]}" "${seccomp_of[native]}"

echo
pipe_r=$(ratio "${med_pipe[on]}" "${med_pipe[native]}")
awk -v r="$pipe_r" -v off="$(ratio "${med_pipe[on]}" "${med_pipe[off]}")" 'BEGIN {
  printf "pipe: core on at %.1f%% of native, %.1f%% of core off (goal: within 2%% of native: %s)\n",
    r * 100, off * 100, (r >= 0.98) ? "meets" : "misses" }'
awk -v on="${med_loop[on]}" -v off="${med_loop[off]}" -v n="${med_iters[on]}" -v max="$loop_n" 'BEGIN {
  d = (on - off) / 1000
  printf "open+close: the core adds %.2f us per iteration, %.2f us per system call (%.2fx of core off)\n", d, d / 2, on / off
  if (n < max) printf "  (core on stopped after %d of %d iterations: LOOP_MAX_S)\n", n, max }'
awk -v on="${med_eintr[on]}" -v native="${med_eintr[native]}" -v open="${med_eintr_open[on]}" 'BEGIN {
  printf "signals: with the core, %.1f of 1000 signals made a dup, F_GETFD or close fail with EINTR (native: %.1f; goal 0);\n", on, native
  printf "  %.1f of 1000 made a path open fail so (the core stops opens: the pre-receipt window)\n", open }'
if [ "${med_go[on]}" != - ] && [ "${med_go[off]}" != - ]; then
  awk -v on="${med_go[on]}" -v off="${med_go[off]}" 'BEGIN {
    printf "Go: gofds takes %.2fx its time with the core off (goal: at most 1.5x: %s)\n", on / off, (on / off <= 1.5) ? "meets" : "misses" }'
fi
if [ "${med_py[on]}" != - ] && [ "${med_py[off]}" != - ]; then
  awk -v on="${med_py[on]}" -v off="${med_py[off]}" 'BEGIN {
    printf "python3: the import workload takes %+.1f%% over core off (goal: at most 3%%: %s)\n", (on / off - 1) * 100, (on / off <= 1.03) ? "meets" : "misses" }'
fi
awk -v on="${med_run[on]}" -v off="${med_run[off]}" -v runc="${med_run[runc]}" 'BEGIN {
  printf "ctr run --rm /bin/true: the core adds %.1f ms (core on %.2fx of runc, core off %.2fx of runc)\n",
    on - off, on / runc, off / runc }'
awk -v f="${med_first[on]}" -v l="${med_last[on]}" 'BEGIN {
  if (f > 0 && l > 1.5 * f) printf "  the core'"'"'s cost grows with the descriptors opened so far: %.1f us per iteration at first, %.1f us at the end\n", f / 1000, l / 1000 }'
if [ "${seccomp_of[on]}" = "${seccomp_of[off]}" ]; then
  echo "note: Seccomp mode ${seccomp_of[on]} both with the core on and off: the core did not put the container under a filter (not served yet?)"
fi
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: $invocation"
