#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2317,SC2034 # the checks are called, and their results read, through run_test
# Kubernetes RuntimeClass through CRI: a private containerd with its CRI plugin and the runtime handler
# snippet we ship (packaging/containerd/config-v2.toml for containerd 1.x, config-v3.toml for 2.x) appended to
# its config.toml, driven with crictl as a kubelet would: a host-network pod through `--runtime litebox` (its
# pause container runs through our shim too), a busybox container in it (create, start, logs, exec sync,
# piped and on a terminal, stats, stop, rm), a container our shim refuses (a localhost seccomp profile with
# SCMP_ACT_NOTIFY while the LiteBox core is on), and nothing of either left after stopp and rmp.
# No registry is reachable: the pause and busybox images are built from busybox-static and imported.
# Usage: cri_test.sh SHIM_BINARY SCRATCH_DIR
# Environment: CRI_TEST_CONTAINERD_DIR  containerd and ctr of a containerd 2.x (build/peers/containerd-v2.4.2/bin);
#                                       unset: Debian's containerd 1.6 on PATH
#              CRI_TEST_CRI_TOOLS       crictl (and critest); default build/peers/cri-tools-v1.37.0/bin
#              CRI_TEST_KEEP=1          keep the scratch work dir (containerd.log is copied there)
#              CRI_TEST_SKIP=REGEX      leave out the checks whose function name matches (e.g. 'tty|shared')
# Output: TAP-like `ok N - name` / `not ok N - name` (details on `#` lines) and a summary.
# Exit: 0 all passed, 1 a check failed, 2 bad usage, 77 skipped.
set -uo pipefail

usage() { echo "usage: $0 SHIM_BINARY SCRATCH_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
shim=$1
scratch=$2

# shellcheck source=cri-common.sh
. "$(dirname "$0")/cri-common.sh"

skip() { echo "1..0 # SKIP $*"; exit 77; }
cri_init "$shim" "$scratch"
case $? in 0) ;; 1) skip "$CRI_SKIP" ;; *) exit 2 ;; esac
started_at=$(date +%s)
work=$CRI_WORK
CRI_CGROUP_PARENT=/litebox-cri-test-$$

# ---------------------------------------------------------------------------------------------- harness
n=0
failed=0
failed_names=()
tfail=0
diag() { printf '%s\n' "$@" | sed 's/^/#   /'; }
bad() { diag "$@"; tfail=1; }
show() {  # show LABEL FILE: the first lines of a file in the diagnostics
  [ -s "$2" ] || return 0
  diag "$1:"; head -c 3000 "$2" | head -n 20 | sed 's/^/#     /'
}
expect_eq() {  # expect_eq WHAT EXPECTED ACTUAL
  [ "$2" == "$3" ] && return 0
  bad "$1: expected [$2], got [$3]"
  return 1
}
log_mark=0
run_test() {  # run_test NAME FUNCTION [NEEDS...]: NEEDS are variables that must be set (an earlier test's result)
  local name=$1 fn=$2 need t0=$SECONDS
  shift 2
  if [ -n "${CRI_TEST_SKIP:-}" ] && [[ $fn =~ $CRI_TEST_SKIP ]]; then return; fi
  n=$((n + 1))
  for need in "$@"; do
    if [ -z "${!need:-}" ]; then
      echo "not ok $n - $name # not run: needs $need from an earlier check"
      failed=$((failed + 1)); failed_names+=("$name (not run)")
      return
    fi
  done
  tfail=0
  log_mark=0
  [ -z "${PCD_LOG:-}" ] || [ ! -f "$PCD_LOG" ] || log_mark=$(wc -l <"$PCD_LOG")
  "$fn" || tfail=1
  if [ "$tfail" -eq 0 ]; then
    echo "ok $n - $name ($((SECONDS - t0)) s)"
  else
    echo "not ok $n - $name ($((SECONDS - t0)) s)"
    if [ -f "$PCD_LOG" ] && tail -n +"$((log_mark + 1))" "$PCD_LOG" | grep -E 'level=(error|warning)' | grep -q .; then
      diag "containerd.log (errors and warnings during this check):"
      tail -n +"$((log_mark + 1))" "$PCD_LOG" | grep -E 'level=(error|warning)' | tail -n 8 | cut -c1-400 | sed 's/^/#     /'
    fi
    failed=$((failed + 1)); failed_names+=("$name")
  fi
}
C() { cri_crictl "$@"; }       # crictl against our containerd (90 s deadline per call)
# A crictl for `script` (a terminal for exec -t): the same endpoints, as one command line. --foreground keeps
# crictl in the terminal's foreground process group: in a group of timeout's own, its tcsetattr (raw mode)
# would stop it with SIGTTOU.
crictl_cmd() {
  printf '%q ' timeout --foreground -k 5 60 "$CRI_CRICTL" --config "$work/crictl.yaml" --runtime-endpoint "unix://$PCD_ADDRESS" \
    --image-endpoint "unix://$PCD_ADDRESS" --timeout 60s "$@"
}
state_of() { C inspect "$1" 2>/dev/null | jq -r '.status.state'; }
state_is() { [ "$(state_of "$1")" = "$2" ]; }  # state_is ID STATE (for wait_for: read at every try)
no_shim_for() { [ -z "$(pcd_shim_pids "$1")" ]; }
nothing_left_of() { [ -z "$(cri_leftovers "$1" | grep -v '^netns')" ]; }
wait_for() {  # wait_for SECONDS COMMAND...: until COMMAND succeeds
  local end=$((SECONDS + $1)); shift
  until "$@"; do [ "$SECONDS" -lt "$end" ] || return 1; sleep 0.2; done
}
ancestor_is() {  # ancestor_is PID ANCESTOR
  local p=$1
  while [ -n "$p" ] && [ "$p" -gt 1 ]; do
    [ "$p" = "$2" ] && return 0
    p=$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null)
  done
  return 1
}
ctl() { "$CRI_CTL" --namespace k8s.io --root "$CRI_RUNTIME_ROOT" "$@"; }

finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${PCD_LOG:-}" ] && [ -f "$PCD_LOG" ]; then cp "$PCD_LOG" "$work/containerd.log" 2>/dev/null; fi
  cri_cleanup >/dev/null 2>&1
  if [ "${CRI_TEST_KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "# kept $work"; fi
  exit "$rc"
}
trap finish EXIT
trap 'echo "# interrupted"; exit 130' INT
trap 'echo "# terminated"; exit 143' TERM

# ---------------------------------------------------------------------------------------------- the checks
mkdir -p "$work/logs"
pod_id='' ctr_id='' bad_id='' shim_pid='' images_ok='' stopped='' exec_start_failed='' shim_hung=''

test_start() {
  cri_start cri >"$work/start.log" 2>&1 || { show "start" "$work/start.log"; bad "containerd with CRI did not start"; return 1; }
  diag "$("$PCD_CONTAINERD" --version), config $PCD_DIR/config.toml"
  local info
  info=$(C info 2>"$work/err") || { show "crictl info" "$work/err"; bad "crictl info failed"; return 1; }
  expect_eq "the litebox handler's runtime_type (crictl info)" io.containerd.litebox.v1 \
    "$(jq -r '.config.containerd.runtimes.litebox.runtimeType' <<<"$info")"
  expect_eq "the litebox handler's options (crictl info)" "$CRI_SHIM_JSON" \
    "$(jq -r '.config.containerd.runtimes.litebox.options.ConfigPath' <<<"$info")"
}
test_images() {
  cri_build_image pause "$CRI_PAUSE_IMAGE" >"$work/err" 2>&1 || { show "pause image" "$work/err"; bad "pause image"; return 1; }
  cri_build_image busybox "$CRI_BUSYBOX_IMAGE" >"$work/err" 2>&1 || { show "busybox image" "$work/err"; bad "busybox image"; return 1; }
  local list
  list=$(C images -o json 2>"$work/err") || { show "crictl images" "$work/err"; bad "crictl images failed"; return 1; }
  local name
  for name in "$CRI_PAUSE_IMAGE" "$CRI_BUSYBOX_IMAGE"; do
    jq -e --arg n "$name" '[.images[].repoTags[]] | index($n)' <<<"$list" >/dev/null || bad "crictl images lacks $name"
  done
  [ "$tfail" = 0 ] && images_ok=1
}

test_runp() {
  cat >"$work/pod.json" <<JSON
{"metadata": {"name": "litebox-cri-test", "namespace": "default", "uid": "litebox-cri-test-$$", "attempt": 0},
 "log_directory": "$work/logs",
 "linux": {"cgroup_parent": "$CRI_CGROUP_PARENT",
           "security_context": {"namespace_options": {"network": 2, "pid": 1}}}}
JSON
  pod_id=$(C runp --runtime litebox "$work/pod.json" 2>"$work/err") || { show "crictl runp" "$work/err"; bad "crictl runp failed"; pod_id=; return 1; }
  cri_remember_ids
  local inspect
  inspect=$(C inspectp "$pod_id" 2>/dev/null)
  expect_eq "pod state" SANDBOX_READY "$(jq -r '.status.state' <<<"$inspect")"
  expect_eq "pod runtime handler" litebox "$(jq -r '.status.runtimeHandler // .info.runtimeHandler' <<<"$inspect")"
}
test_pause_shim() {
  local pids
  pids=$(pcd_shim_pids "$pod_id")
  [ "$(wc -w <<<"$pids")" = 1 ] || { bad "expected one shim process with -id $pod_id, found [${pids//$'\n'/ }]"; return 1; }
  shim_pid=$pids
  local argv0 exe
  argv0=$(tr '\0' '\n' <"/proc/$shim_pid/cmdline" | head -n 1)
  exe=$(readlink -f "/proc/$shim_pid/exe")
  expect_eq "shim argv[0]" containerd-shim-litebox-v1 "$(basename "$argv0")"
  expect_eq "shim executable" "$CRI_SHIM" "$exe"
  diag "shim pid $shim_pid: $(tr '\0' ' ' <"/proc/$shim_pid/cmdline" | cut -c1-200)"
  local pause_pid
  pause_pid=$(C inspectp "$pod_id" | jq -r '.info.pid')
  ancestor_is "$pause_pid" "$shim_pid" || bad "the pause process $pause_pid is not the shim's descendant"
  ctl fds "$pod_id" >"$work/fds-pause" 2>&1 || { show "litebox-ctl fds $pod_id" "$work/fds-pause"; bad "litebox-ctl fds of the pause container failed"; return 1; }
  grep -q '(pid 1 in the container) pause' "$work/fds-pause" || { show "litebox-ctl fds" "$work/fds-pause"; bad "litebox-ctl fds lists no pause process"; }
}

test_create_start() {
  cat >"$work/ctr.json" <<JSON
{"metadata": {"name": "app"},
 "image": {"image": "$CRI_BUSYBOX_IMAGE"},
 "command": ["sh", "-c", "trap 'echo got-term; exit 0' TERM; echo hello-stdout; echo hello-stderr >&2; sleep 3600 & wait"],
 "log_path": "app.log",
 "linux": {"security_context": {"namespace_options": {"pid": 1}}}}
JSON
  ctr_id=$(C create "$pod_id" "$work/ctr.json" "$work/pod.json" 2>"$work/err") || { show "crictl create" "$work/err"; bad "crictl create failed"; ctr_id=; return 1; }
  cri_remember_ids
  expect_eq "state after create" CONTAINER_CREATED "$(state_of "$ctr_id")"
  C start "$ctr_id" >/dev/null 2>"$work/err" || { show "crictl start" "$work/err"; bad "crictl start failed"; return 1; }
  expect_eq "state after start" CONTAINER_RUNNING "$(state_of "$ctr_id")"
}
test_app_shim() {
  local pids app_pid
  pids=$(pcd_shim_pids "$ctr_id")
  [ -z "$pids" ] || bad "a shim process of its own serves the container ($pids): the pod's shim should"
  [ "$(pcd_shim_pids "$pod_id")" = "$shim_pid" ] || bad "the pod's shim is no longer $shim_pid"
  app_pid=$(C inspect "$ctr_id" | jq -r '.info.pid')
  ancestor_is "$app_pid" "$shim_pid" || bad "the container's process $app_pid is not a descendant of the pod's shim $shim_pid"
  ctl fds "$ctr_id" >"$work/fds-app" 2>&1 || { show "litebox-ctl fds $ctr_id" "$work/fds-app"; bad "litebox-ctl fds of the app container failed"; return 1; }
  grep -q '(pid 1 in the container) sh' "$work/fds-app" || { show "litebox-ctl fds" "$work/fds-app"; bad "litebox-ctl fds lists no sh as pid 1"; }
  grep -q ' sleep$' "$work/fds-app" || { show "litebox-ctl fds" "$work/fds-app"; bad "litebox-ctl fds lists no sleep"; }
}
test_logs() {
  wait_for 10 grep -q hello-stderr "$work/logs/app.log" 2>/dev/null
  C logs "$ctr_id" >"$work/out" 2>"$work/err" || { show "crictl logs" "$work/err"; bad "crictl logs failed"; return 1; }
  grep -qx hello-stdout "$work/out" || { show "stdout" "$work/out"; bad "crictl logs: no hello-stdout on stdout"; }
  grep -qx hello-stderr "$work/err" || { show "stderr" "$work/err"; bad "crictl logs: no hello-stderr on stderr"; }
}
test_exec_sync() {
  local rc out
  out=$(C exec -s "$ctr_id" echo sync-ok 2>"$work/err") || { show "crictl exec -s" "$work/err"; bad "crictl exec -s echo failed"; }
  expect_eq "exec -s echo output" sync-ok "$out"
  # crictl exec -s exits 1 for any non-zero exit code; the code is in its message.
  C exec -s "$ctr_id" sh -c 'echo out-3; exit 3' >/dev/null 2>"$work/err"; rc=$?
  if [ "$rc" -eq 0 ] || ! grep -q 'exited with 3' "$work/err"; then
    show "stderr" "$work/err"; bad "exec -s exit 3: rc $rc, no 'exited with 3'"
  fi
  out=$(C exec -s "$ctr_id" /no/such/binary 2>&1); rc=$?
  [ "$rc" -ne 0 ] || bad "exec -s of a missing binary succeeded"
  grep -q 'no such file or directory' <<<"$out" || { bad "exec -s of a missing binary: no 'no such file or directory' in:"; diag "$out"; }
  exec_start_failed=1
}
test_exec_stdin() {
  local out rc
  out=$(printf 'line1\nline2\n' | C exec -i "$ctr_id" sh -c 'cat; echo eof-seen' 2>"$work/err"); rc=$?
  expect_eq "exec -i exit code" 0 "$rc"
  expect_eq "exec -i output" $'line1\nline2\neof-seen' "$out" || show "stderr" "$work/err"
  C exec -i "$ctr_id" sh -c 'exit 5' </dev/null >/dev/null 2>"$work/err"; rc=$?
  if [ "$rc" -eq 0 ] || ! grep -q 'exit code 5' "$work/err"; then
    show "stderr" "$work/err"; bad "exec -i exit 5: rc $rc, no 'exit code 5'"
  fi
}
test_exec_tty() {
  local rc
  # script(1) gives crictl a terminal: crictl exec -it then asks for a TTY in the container.
  SHELL=/bin/sh script -qefc "$(crictl_cmd exec -it "$ctr_id" sh -c 'tty; [ -t 0 ] && echo stdin-is-tty; exit 4')" /dev/null \
    </dev/null >"$work/tty-out" 2>&1; rc=$?
  if [ "$rc" -eq 0 ] || ! grep -q 'exit code 4' "$work/tty-out"; then bad "exec -it exit 4: rc $rc, no 'exit code 4'"; fi
  # script(1), at the end of its stdin (/dev/null), sends the client's terminal its EOF; what crictl forwards
  # of it can reach the container's terminal before the process reads, which echoes it as "^@".
  sed 's/^\^@//' "$work/tty-out" | grep -q '^/dev/pts/[0-9]' || { show "output" "$work/tty-out"; bad "exec -it: tty printed no /dev/pts/N"; }
  grep -q stdin-is-tty "$work/tty-out" || { show "output" "$work/tty-out"; bad "exec -it: stdin is no terminal"; }
}
test_stats() {
  local out
  out=$(C stats -o json "$ctr_id" 2>"$work/err") || { show "crictl stats" "$work/err"; bad "crictl stats failed"; return 1; }
  expect_eq "stats container id" "$ctr_id" "$(jq -r '.stats[0].attributes.id' <<<"$out")"
  local mem cpu
  mem=$(jq -r '.stats[0].memory.workingSetBytes.value // 0' <<<"$out")
  cpu=$(jq -r '.stats[0].cpu.usageCoreNanoSeconds.value // 0' <<<"$out")
  diag "stats: working set $mem bytes, cpu $cpu ns"
  [ "$mem" -gt 0 ] 2>/dev/null || bad "stats: no memory working set ($mem)"
  [ "$cpu" -gt 0 ] 2>/dev/null || bad "stats: no cpu usage ($cpu)"
}
test_stop() {
  local t0=$SECONDS
  C stop --timeout 20 "$ctr_id" >/dev/null 2>"$work/err" || { show "crictl stop" "$work/err"; bad "crictl stop failed"; return 1; }
  expect_eq "state after stop" CONTAINER_EXITED "$(state_of "$ctr_id")"
  expect_eq "exit code after SIGTERM (the trap's exit 0)" 0 "$(C inspect "$ctr_id" | jq -r '.status.exitCode')"
  [ $((SECONDS - t0)) -lt 15 ] || bad "stop took $((SECONDS - t0)) s: SIGTERM did not end it"
  grep -q got-term "$work/logs/app.log" || bad "the container's log has no got-term: SIGTERM did not reach its trap"
  stopped=1
}
test_rm() {
  C rm "$ctr_id" >/dev/null 2>"$work/err" || { show "crictl rm" "$work/err"; bad "crictl rm failed"; return 1; }
  [ -z "$(C ps -a -q --id "$ctr_id" 2>/dev/null)" ] || bad "crictl ps -a still lists $ctr_id"
  local left
  left=$(cri_leftovers "$ctr_id" | grep -v '^netns')
  [ -z "$left" ] || { bad "left of the removed container:"; diag "$left"; }
}

# A container in the pod's pid namespace (CRI's default when the container config names none, and
# shareProcessNamespace in Kubernetes) whose init exits while a child of it runs: runc's shim kills what is
# left in the container when its init exits (ShouldKillAllOnExit: the container has no pid namespace of its
# own), and runc delete would too; the container must end whole, then rm leaves nothing.
test_shared_pidns() {
  cat >"$work/shared.json" <<JSON
{"metadata": {"name": "shared-pidns"},
 "image": {"image": "$CRI_BUSYBOX_IMAGE"},
 "command": ["sh", "-c", "sleep 3600 & echo started; sleep 0.5"],
 "log_path": "shared.log",
 "linux": {"security_context": {"namespace_options": {"pid": 0}}}}
JSON
  local id left
  id=$(C create "$pod_id" "$work/shared.json" "$work/pod.json" 2>"$work/err") || { show "crictl create" "$work/err"; bad "crictl create failed"; return 1; }
  cri_remember_ids
  C start "$id" >/dev/null 2>"$work/err" || { show "crictl start" "$work/err"; bad "crictl start failed"; }
  wait_for 15 state_is "$id" CONTAINER_EXITED || bad "not exited 15 s after its init ended: $(state_of "$id")"
  sleep 1
  left=$(cri_leftovers "$id" | grep '^process')
  if [ -n "$left" ]; then
    bad "processes left in the container after its init exited:" "$left"
    # Ours to end, so that the rest of this run is not disturbed by them.
    local cg procs
    while read -r cg; do
      procs=$(cat "$cg/cgroup.procs" 2>/dev/null)
      # shellcheck disable=SC2086 # a list of pids
      [ -z "$procs" ] || kill -KILL $procs 2>/dev/null
    done < <(find /sys/fs/cgroup/pids -maxdepth 3 -type d -name "$id")
    sleep 1
  fi
  C rm "$id" >/dev/null 2>"$work/err" || { show "crictl rm" "$work/err"; bad "crictl rm failed"; }
  wait_for 10 nothing_left_of "$id" ||
    { bad "left of the container after rm:"; diag "$(cri_leftovers "$id" | grep -v '^netns')"; }
}

test_refused() {
  cat >"$work/notify-profile.json" <<JSON
{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "$work/notify.sock",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}
JSON
  cat >"$work/bad.json" <<JSON
{"metadata": {"name": "notify"},
 "image": {"image": "$CRI_BUSYBOX_IMAGE"},
 "command": ["sleep", "3600"],
 "log_path": "notify.log",
 "linux": {"security_context": {"seccomp": {"profile_type": 2, "localhost_ref": "$work/notify-profile.json"}}}}
JSON
  local rc msg=''
  bad_id=$(C create "$pod_id" "$work/bad.json" "$work/pod.json" 2>"$work/err"); rc=$?
  if [ "$rc" -eq 0 ]; then
    cri_remember_ids
    # containerd's CRI creates the task (our shim's Create) in StartContainer.
    C start "$bad_id" >/dev/null 2>"$work/err"; rc=$?
    [ "$rc" -ne 0 ] || { bad "crictl start of a container with SCMP_ACT_NOTIFY succeeded"; return 1; }
  fi
  msg=$(cat "$work/err")
  diag "crictl said: $(grep -o 'desc = .*' <<<"$msg" | head -n 1 | cut -c1-300)"
  if ! grep -q "SCMP_ACT_NOTIFY" <<<"$msg" || ! grep -q "cannot stack with the LiteBox core" <<<"$msg"; then
    show "crictl's error" "$work/err"; bad "crictl's error does not carry our shim's message"
  fi
  [ -n "$bad_id" ] || return 0
  local left
  left=$(cri_leftovers "$bad_id" | grep -v '^netns')
  [ -z "$left" ] || { bad "left of the refused container:"; diag "$left"; }
  [ ! -e "$work/notify.sock" ] || bad "a listener socket $work/notify.sock was created"
  [ "$(pcd_shim_pids "$pod_id")" = "$shim_pid" ] || bad "the pod's shim $shim_pid did not survive the refusal"
  C rm "$bad_id" >/dev/null 2>"$work/err" || { show "crictl rm" "$work/err"; bad "crictl rm of the refused container failed"; }
  [ -z "$(C ps -a -q --id "$bad_id" 2>/dev/null)" ] || bad "crictl ps -a still lists $bad_id"
}

test_stopp_rmp() {
  C stopp "$pod_id" >/dev/null 2>"$work/err" || { show "crictl stopp" "$work/err"; bad "crictl stopp failed"; return 1; }
  expect_eq "pod state after stopp" SANDBOX_NOTREADY "$(C inspectp "$pod_id" | jq -r '.status.state')"
  C rmp "$pod_id" >/dev/null 2>"$work/err" || { show "crictl rmp" "$work/err"; bad "crictl rmp failed"; return 1; }
  [ -z "$(C pods -q --id "$pod_id" 2>/dev/null)" ] || bad "crictl pods still lists $pod_id"
  if ! wait_for 10 no_shim_for "$pod_id"; then
    local p
    p=$(pcd_shim_pids "$pod_id")
    bad "the pod's shim $p is still running 10 s after rmp; its threads and children:"
    diag "$(ps -L -o pid=,tid=,stat=,wchan:30=,comm= -p "${p//$'\n'/,}" 2>&1)" "$(ps -o pid=,stat=,args= --ppid "${p//$'\n'/,}" 2>&1)"
  fi
  local left
  left=$(cri_leftovers "$pod_id" ${ctr_id:+"$ctr_id"} ${bad_id:+"$bad_id"})
  [ -z "$left" ] || { bad "left of the pod:"; diag "$left"; }
  [ -z "$(C ps -a -q 2>/dev/null)$(C pods -q 2>/dev/null)" ] || bad "crictl still lists containers or pods"
}
test_nothing_left() {
  cri_remember_ids
  local dir=$PCD_DIR left
  # Shims of our containerd (anything with its address in argv) before it stops: there should be none.
  left=$(pcd_address_pids)
  [ -z "$left" ] || { bad "processes with our containerd's address in argv before it stopped:"; diag "$(ps -o pid=,args= -p "${left//$'\n'/,}" | cut -c1-200)"; }
  cp "$PCD_LOG" "$work/containerd.log" 2>/dev/null
  cri_cleanup >"$work/cleanup.log" 2>&1
  if grep -q 'killing leftover' "$work/cleanup.log"; then
    bad "the cleanup had to kill shims:"; show "cleanup" "$work/cleanup.log"
  fi
  [ ! -e "$dir" ] || bad "$dir remains"
  awk -v d="$dir/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | grep -q . && bad "mounts under $dir remain"
  left=$(cri_leftovers)
  [ -z "$left" ] || { bad "left after containerd stopped:"; diag "$left"; }
}

run_test "containerd with CRI and the shipped litebox handler snippet" test_start
run_test "pause and busybox images built from busybox-static, imported into k8s.io" test_images PCD_PID
run_test "crictl runp --runtime litebox (host network): pod ready" test_runp images_ok
run_test "the pause container runs in our shim (-id <pod>), litebox-ctl fds lists it" test_pause_shim pod_id
run_test "crictl create + start: container running" test_create_start pod_id
run_test "the pod's shim serves the container too, litebox-ctl fds lists it" test_app_shim ctr_id shim_pid
run_test "crictl logs: stdout and stderr" test_logs ctr_id
run_test "crictl exec -s: output and exit codes" test_exec_sync ctr_id
run_test "crictl exec -i: stdin piped through, EOF, exit code" test_exec_stdin ctr_id
run_test "crictl exec -it: a terminal, exit code" test_exec_tty ctr_id
run_test "crictl stats: cpu and memory" test_stats ctr_id
run_test "crictl stop: SIGTERM reaches the container, exited 0" test_stop ctr_id
run_test "crictl rm: container gone, nothing of it left" test_rm stopped
run_test "a container in the pod's pid namespace: its init exits, nothing of it lives on" test_shared_pidns pod_id
run_test "a container our shim refuses (seccomp SCMP_ACT_NOTIFY): crictl shows our message, nothing left" test_refused pod_id
run_test "crictl stopp + rmp: pod gone, its shim exited, nothing of it left" test_stopp_rmp pod_id
run_test "containerd stopped: no shim, mount, cgroup, state or netns of this run left" test_nothing_left PCD_PID

echo "1..$n"
echo "# containerd $("${PCD_CONTAINERD:-containerd}" --version 2>/dev/null | awk '{print $3}'): $((n - failed)) of $n passed, $failed failed in $(($(date +%s) - started_at)) s"
for name in "${failed_names[@]}"; do echo "#   failed: $name"; done
[ "$failed" -eq 0 ] || exit 1
exit 0
