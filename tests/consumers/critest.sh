#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2317 # finish runs from the EXIT trap
# cri-tools' validation suite (critest, not its benchmarks) against a private containerd with its CRI plugin
# and the litebox runtime handler snippet we ship, run twice in one containerd: with `--runtime-handler
# litebox` (our shim) and with the default handler (runc: Debian's containerd-shim-runc-v2 and runc). Prints
# passed / failed / skipped for each (from ginkgo's JUnit reports), how long each took, and the tests that
# pass with runc and fail with litebox.
# No registry is reachable, so every image a test uses is built from busybox-static and imported before the
# run (critest pulls only images that ImageStatus does not find); the tests that always pull are skipped.
# Pods get a CNI network of their own (ptp, host-local addresses in 10.213.N.0/24, no iptables): every
# packet stays between the host and the pods' network namespaces.
# Usage: critest.sh SHIM_BINARY SCRATCH_DIR [--focus REGEX] [--handlers "litebox runc"]
# Environment: CRI_TEST_CONTAINERD_DIR, CRI_TEST_CRI_TOOLS as for cri_test.sh; CRI_TEST_KEEP=1 keeps the work
#              dir (JUnit reports, critest's output, containerd.log).
# Exit: 0 no test fails with litebox that passes with runc, 1 some do (or a run did not complete), 2 bad
#       usage, 77 skipped.
set -uo pipefail

usage() { echo "usage: $0 SHIM_BINARY SCRATCH_DIR [--focus REGEX] [--handlers \"litebox runc\"]" >&2; exit 2; }
[ $# -ge 2 ] || usage
shim=$1 scratch=$2
shift 2
focus='' handlers='litebox runc'
while [ $# -gt 0 ]; do
  case $1 in
    --focus) [ $# -ge 2 ] || usage; focus=$2; shift 2 ;;
    --handlers) [ $# -ge 2 ] || usage; handlers=$2; shift 2 ;;
    *) usage ;;
  esac
done

# shellcheck source=cri-common.sh
. "$(dirname "$0")/cri-common.sh"

skip() { echo "1..0 # SKIP $*"; exit 77; }
cri_init "$shim" "$scratch"
case $? in 0) ;; 1) skip "$CRI_SKIP" ;; *) exit 2 ;; esac
[ -x "$CRI_CRITEST" ] || skip "no critest in $(dirname "$CRI_CRITEST") (tests/consumers/build-peers.sh cri-tools builds it)"
cri_cni_ptp /usr/lib/cni || skip "$CRI_SKIP"
work=$CRI_WORK

finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${PCD_LOG:-}" ] && [ -f "$PCD_LOG" ]; then cp "$PCD_LOG" "$work/containerd.log" 2>/dev/null; fi
  cri_cleanup >"$work/cleanup.log" 2>&1
  if [ "${CRI_TEST_KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "# kept $work"; fi
  exit "$rc"
}
trap finish EXIT
critest_pid=''
stop_critest() { [ -z "$critest_pid" ] || { kill -KILL "$critest_pid" 2>/dev/null; wait "$critest_pid" 2>/dev/null; }; }
trap 'echo "# interrupted"; stop_critest; exit 130' INT
trap 'echo "# terminated"; stop_critest; exit 143' TERM

# The tests left out, each with its reason (ginkgo -skip, one regex each).
skips=(
  'Image Manager|always pulls its images (gcr.io/k8s-staging-cri-tools/test-image-*, registry.k8s.io/pause:3.9, k8s.gcr.io): needs a registry'
  'Image Consistency|always pulls its image: needs a registry'
  'Image Identifier Consistency|always pulls its images (from two registries): needs a registry'
  'Image Volume|always pulls the images it mounts: needs a registry'
  'NoNewPrivs|needs registry.k8s.io/e2e-test-images/nonewprivs:1.3 (a setuid test binary), which is always pulled from the registry'
  'port mapping with host port and container port|needs the CNI portmap plugin: iptables DNAT rules on the shared host for the fixed host port 12000'
)
skip_regex=''
for s in "${skips[@]}"; do skip_regex+="${skip_regex:+|}${s%%|*}"; done
# Tests that fail with litebox for a documented limit (README, "the LiteBox core"): reported, not counted.
limits=(
  'should support seccomp unconfined|the LiteBox core serves a container through its own seccomp filter, so /proc/self/status shows Seccomp: 2 even unconfined (org.litebox.core=off runs it unconfined)'
  'should support nil profile|the same: the core'"'"'s filter is installed whatever the profile'
)

echo "# critest from $(dirname "$CRI_CRITEST")"
cri_start critest >"$work/start.log" 2>&1 || { cat "$work/start.log"; echo "# containerd did not start"; exit 1; }
echo "# $("$PCD_CONTAINERD" --version)"

# Images: critest's default busybox and web server images are named in the images file; the others are
# fixed names in its source, built under those names. (The port-forward test still asks for critest's
# default web server image, nginx:1.14-2, whatever the images file says: that name is built too.)
t0=$SECONDS
webserver=localhost/litebox-test/webserver:80
{
  cri_build_image pause "$CRI_PAUSE_IMAGE" &&
  cri_build_image busybox "$CRI_BUSYBOX_IMAGE" &&
  cri_build_image httpd "$webserver" 80 &&
  cri_build_image httpd registry.k8s.io/e2e-test-images/httpd:2.4.39-4 80 &&
  cri_build_image httpd registry.k8s.io/e2e-test-images/nginx:1.14-2 80 &&
  cri_build_image httpd gcr.io/k8s-staging-cri-tools/hostnet-nginx-amd64:latest 12003 &&
  cri_build_image predefined-group gcr.io/k8s-staging-cri-tools/test-image-predefined-group:latest
} >"$work/images.log" 2>&1 || { cat "$work/images.log"; echo "# building the images failed"; exit 1; }
cat >"$work/images.yaml" <<YAML
defaultTestContainerImage: $CRI_BUSYBOX_IMAGE
webServerTestImage: $webserver
YAML
echo "# images built and imported in $((SECONDS - t0)) s"
echo "# skipped by this script (-ginkgo.skip):"
for s in "${skips[@]}"; do echo "#   ${s%%|*}: ${s#*|}"; done
[ -z "$focus" ] || echo "# focus: $focus"

# junit_summary FILE: "total passed failed skipped"
junit_summary() {
  python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
cases = list(ET.parse(sys.argv[1]).getroot().iter("testcase"))
failed = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
skipped = sum(1 for c in cases if c.find("skipped") is not None)
print(len(cases), len(cases) - failed - skipped, failed, skipped)
PY
}
# junit_names FILE STATUS: the names of the test cases that passed | failed | skipped
junit_names() {
  python3 - "$1" "$2" <<'PY'
import sys, xml.etree.ElementTree as ET
for c in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    f = c.find("failure") is not None or c.find("error") is not None
    s = c.find("skipped") is not None
    status = "failed" if f else "skipped" if s else "passed"
    if status == sys.argv[2]:
        print(c.get("name"))
PY
}

rc=0
declare -A took=()
for handler in $handlers; do
  report=$work/junit-$handler.xml
  args=(--runtime-endpoint "unix://$PCD_ADDRESS" --image-endpoint "unix://$PCD_ADDRESS" --config "$work/crictl.yaml"
    -test-images-file "$work/images.yaml" -ginkgo.skip "$skip_regex" -ginkgo.junit-report "$report"
    -ginkgo.no-color -ginkgo.timeout 50m)
  [ "$handler" = runc ] || args+=(--runtime-handler "$handler")  # runc is the default handler
  [ -z "$focus" ] || args+=(-ginkgo.focus "$focus")
  t0=$SECONDS
  # critest writes temporary files (seccomp profiles, logs) to its working directory and TMPDIR.
  mkdir -p "$work/run-$handler"
  # In the background, so that a signal reaches our trap at once (and critest through it).
  (cd "$work/run-$handler" && TMPDIR=$work/run-$handler exec "$CRI_CRITEST" "${args[@]}") >"$work/critest-$handler.log" 2>&1 &
  critest_pid=$!
  wait "$critest_pid"
  critest_pid=''
  took[$handler]=$((SECONDS - t0))
  # Nothing of one run may stay for the next.
  CRI_CRICTL_TIMEOUT=120 cri_crictl rmp -a -f >/dev/null 2>&1
  cri_remember_ids
  if [ ! -s "$report" ]; then
    echo "# $handler: critest wrote no JUnit report (after ${took[$handler]} s); the end of its output:"
    tail -n 30 "$work/critest-$handler.log" | sed 's/^/#   /'
    rc=1
    continue
  fi
  read -r total passed failed skipped < <(junit_summary "$report")
  echo "# handler $handler: $passed passed, $failed failed, $skipped skipped of $total in ${took[$handler]} s"
  junit_names "$report" failed | sed "s/^/#   failed ($handler): /"
done

if [[ " $handlers " == *" litebox "* && " $handlers " == *" runc "* ]] &&
  [ -s "$work/junit-litebox.xml" ] && [ -s "$work/junit-runc.xml" ]; then
  only=$(comm -12 <(junit_names "$work/junit-litebox.xml" failed | sort) <(junit_names "$work/junit-runc.xml" passed | sort))
  if [ -n "$only" ]; then
    echo "# failed with litebox, passed with runc ($(wc -l <<<"$only")):"
    counted=0
    while read -r name; do
      limit=''
      for l in "${limits[@]}"; do
        if [[ $name == *"${l%%|*}"* ]]; then limit=${l#*|}; fi
      done
      if [ -n "$limit" ]; then
        echo "#   $name  [a documented limit: $limit]"
        continue
      fi
      counted=$((counted + 1))
      echo "#   $name"
      # The failure message, from the litebox report.
      python3 - "$work/junit-litebox.xml" "$name" <<'PY' | head -n 6 | cut -c1-300 | sed 's/^/#       /'
import sys, xml.etree.ElementTree as ET
for c in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    if c.get("name") == sys.argv[2]:
        f = c.find("failure")
        if f is None: f = c.find("error")
        text = (f.get("message") or "").strip() or (f.text or "").strip()[:600]
        print("\n".join(text.splitlines()[:6]))
PY
    done <<<"$only"
    [ "$counted" -eq 0 ] || rc=1
  else
    echo "# no test failed with litebox that passed with runc"
  fi
fi
left=$(cri_leftovers "${!CRI_SEEN_IDS[@]}")
[ -z "$left" ] || { echo "# left after the runs (cri_cleanup removes it):"; printf '%s\n' "$left" | head -n 20 | sed 's/^/#   /'; }
exit "$rc"
