# shellcheck shell=bash source-path=SCRIPTDIR
# shellcheck disable=SC2034 # the CRI_ variables are read by the scripts that source this file
# What tests/consumers/cri_test.sh and critest.sh share: a private containerd with its CRI plugin (through
# tests/scripts/private-containerd.sh) whose config.toml gets the runtime handler snippet we ship
# (packaging/containerd/config-v2.toml for containerd 1.x, config-v3.toml for 2.x) appended as a user adds
# it, local images built from busybox-static (no registry is reachable), crictl against it, and a cleanup
# that leaves nothing behind. Source it, then:
#
#   cri_init SHIM_BINARY SCRATCH_DIR   checks what is needed (sets CRI_SKIP to a reason and returns 1 when
#                                      something is missing); sets CRI_WORK (a fresh dir under SCRATCH_DIR)
#   cri_build_image KIND NAME          builds and imports (into k8s.io) a busybox image named NAME; KIND is
#                                      pause | busybox | httpd PORT | predefined-group
#   cri_start PURPOSE                  starts containerd (PCD_NAMESPACE=k8s.io, PCD_CRI=1, the shipped snippet)
#   cri_crictl ARGS...                 crictl against it (every call has a deadline)
#   cri_ids                            every container id (sandboxes too) containerd holds in k8s.io
#   cri_cleanup                        removes every pod, stops containerd (pcd_cleanup), then removes what
#                                      it cannot know of: runtime state, cgroups and netns of our ids
#   cri_leftovers                      prints what of ours remains (processes, mounts, cgroups, state, netns)
#
# Environment: CRI_TEST_CONTAINERD_DIR (containerd and ctr of a containerd 2.x; default Debian's 1.6 on PATH),
# CRI_TEST_CRI_TOOLS (crictl and critest; default build/peers/cri-tools-v1.37.0/bin).
# The CRI namespace is k8s.io: PCD_NAMESPACE=k8s.io, which the library does not own, so pcd_cleanup kills and
# deletes its tasks and containers (our private containerd holds only ours) but leaves cgroups and the
# shims' state dirs outside PCD_DIR alone; cri_cleanup removes those by container id.

CRI_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../scripts/private-containerd.sh
. "$CRI_REPO/tests/scripts/private-containerd.sh"
# shellcheck source=../scripts/oci-image.sh
. "$CRI_REPO/tests/scripts/oci-image.sh"

CRI_SKIP=
CRI_WORK=
CRI_SHIM=
CRI_CTL=
CRI_CRICTL=
CRI_CRITEST=
CRI_SHIM_JSON=
CRI_RUNTIME_ROOT=
CRI_CONTAINERD_DIR=
CRI_CGROUP_PARENT=   # a pod cgroup parent the caller uses; cri_cleanup removes it (every hierarchy)
CRI_CNI_CONF_DIR=    # set by cri_cni_ptp
CRI_NETNS_BEFORE=
CRI_TEST_SLICE_EXISTED=
declare -A CRI_SEEN_IDS=()
CRI_PAUSE_IMAGE=localhost/litebox-test/pause:3.10
CRI_BUSYBOX_IMAGE=localhost/litebox-test/busybox:1.37

cri_init() {
  local shim=${1:?cri_init SHIM SCRATCH} scratch=${2:?cri_init SHIM SCRATCH} tools tool
  if [ "$(id -u)" -ne 0 ]; then CRI_SKIP="needs root (containerd, namespaces, mounts and cgroups)"; return 1; fi
  [ -x /bin/busybox ] || { CRI_SKIP="needs busybox-static (/bin/busybox)"; return 1; }
  for tool in jq timeout script; do
    command -v "$tool" >/dev/null || { CRI_SKIP="needs $tool"; return 1; }
  done
  if [ ! -x "$shim" ]; then echo "shim binary not found or not executable: $shim" >&2; return 2; fi
  CRI_SHIM=$(readlink -f "$shim")
  CRI_CTL=$(dirname "$CRI_SHIM")/litebox-ctl
  [ -x "$CRI_CTL" ] || { CRI_SKIP="no litebox-ctl next to the shim ($CRI_CTL)"; return 1; }
  CRI_CONTAINERD_DIR=${CRI_TEST_CONTAINERD_DIR:-}
  if [ -n "$CRI_CONTAINERD_DIR" ]; then
    CRI_CONTAINERD_DIR=$(cd "$CRI_CONTAINERD_DIR" && pwd) || return 2
    if [ ! -x "$CRI_CONTAINERD_DIR/containerd" ] || [ ! -x "$CRI_CONTAINERD_DIR/ctr" ]; then
      echo "no containerd and ctr in CRI_TEST_CONTAINERD_DIR=$CRI_CONTAINERD_DIR" >&2; return 2
    fi
  else
    if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
      CRI_SKIP="needs Debian's containerd (containerd, ctr)"; return 1
    fi
  fi
  tools=${CRI_TEST_CRI_TOOLS:-$CRI_REPO/build/peers/cri-tools-v1.37.0/bin}
  CRI_CRICTL=$tools/crictl CRI_CRITEST=$tools/critest
  [ -x "$CRI_CRICTL" ] || { CRI_SKIP="no crictl in $tools (tests/consumers/build-peers.sh cri-tools builds it)"; return 1; }
  mkdir -p "$scratch" && scratch=$(cd "$scratch" && pwd) || return 2
  CRI_WORK=$(mktemp -d "$scratch/cri-XXXXXX") || return 2
  printf 'timeout: 60\n' >"$CRI_WORK/crictl.yaml"   # so that crictl does not look for /etc/crictl.yaml
  # The shipped options file, as is; the handler's ConfigPath points at this copy (we do not write to /etc).
  CRI_SHIM_JSON=$CRI_WORK/litebox-shim.json
  cp "$CRI_REPO/packaging/containerd/litebox-shim.json" "$CRI_SHIM_JSON"
  CRI_RUNTIME_ROOT=$(jq -r '.runtime_root // "/run/containerd/litebox"' "$CRI_SHIM_JSON")
  CRI_NETNS_BEFORE=$(find /run/netns -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort)
  [ -d /sys/fs/cgroup/pids/test.slice ] || [ -d /sys/fs/cgroup/test.slice ] && CRI_TEST_SLICE_EXISTED=1
  return 0
}

# The snippet we ship for this containerd, with its one substitution: ConfigPath -> our copy.
cri_handler_snippet() {
  local file=config-v2.toml
  if [ "${1:?major}" = 2 ]; then file='config-v3.toml'; fi
  sed "s|/etc/containerd/litebox-shim.json|$CRI_SHIM_JSON|" "$CRI_REPO/packaging/containerd/$file"
}

# What the library's CRI config lacks, added around it (the library itself is not ours to edit):
#  - runc, the CRI plugin's default_runtime_name, as a runtime: containerd 1.6 drops its built-in runtimes
#    map as soon as a config defines any runtime (our snippet's), and the CRI plugin then fails to load ("no
#    corresponding runtime configured in `containerd.runtimes` for `containerd` `default_runtime_name =
#    \"runc\"`"). Debian's own /etc/containerd/config.toml defines no runtime either.
#  - restrict_oom_score_adj = true: CRI gives a sandbox oom_score_adj -998, and lowering it needs
#    CAP_SYS_RESOURCE, which root may not have (this VM's bounding set lacks it): runc and our shim alike then
#    fail every RunPodSandbox. With it, containerd raises the score to its own (0).
# The snippet we ship (PCD_CONFIG_APPEND) still comes last, as is.
eval "$(declare -f pcd_write_config | sed '1s/^pcd_write_config/cri_library_write_config/')"
pcd_write_config() {
  local cri_table=io.containerd.grpc.v1.cri
  [ "$PCD_CONTAINERD_MAJOR" = 2 ] && cri_table=io.containerd.cri.v1.runtime
  PCD_CONFIG_APPEND='' cri_library_write_config |
    sed '/^\[plugins\."'"${cri_table//./\\.}"'"\]$/a\  restrict_oom_score_adj = true'
  printf '[plugins."%s".containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n' "$cri_table"
  if [ -n "${PCD_CONFIG_APPEND:-}" ]; then
    printf '%s\n' "$PCD_CONFIG_APPEND" | grep -v '^version *='
  fi
}

# A CNI network for pods that do not use the host's (critest's do): ptp (a veth pair per pod, the host end
# with a /32 route to the pod, no masquerading, no iptables), host-local addresses from a /24 picked from
# our pid in 10.213.0.0/16, its state under CRI_WORK. Packets stay between the host and the pods' netns.
cri_cni_ptp() {
  local bin=${1:-/usr/lib/cni} subnet=10.213.$(($$ % 250)).0/24
  if [ ! -x "$bin/ptp" ] || [ ! -x "$bin/host-local" ] || [ ! -x "$bin/loopback" ]; then
    CRI_SKIP="needs the CNI plugins ptp, host-local and loopback in $bin (apt-get install containernetworking-plugins)"
    return 1
  fi
  CRI_CNI_CONF_DIR=$CRI_WORK/net.d
  mkdir -p "$CRI_CNI_CONF_DIR" "$CRI_WORK/cni-ipam"
  cat >"$CRI_CNI_CONF_DIR/10-litebox-test.conflist" <<JSON
{"cniVersion": "0.4.0", "name": "litebox-test-$$", "plugins": [
  {"type": "ptp", "ipMasq": false, "mtu": 1500,
   "ipam": {"type": "host-local", "subnet": "$subnet", "dataDir": "$CRI_WORK/cni-ipam", "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "loopback"}]}
JSON
  export PCD_CNI_BIN_DIR=$bin PCD_CNI_CONF_DIR=$CRI_CNI_CONF_DIR
}

# cri_build_image KIND NAME [ARG]: a busybox-static image, imported into k8s.io (after cri_start).
#   pause             /pause: sleeps until SIGTERM or SIGINT, then exits 0 (the sandbox image)
#   busybox           sh and every applet, Cmd ["sh"]
#   httpd PORT        busybox httpd serving an index.html on PORT (prints "httpd" first, to its log)
#   predefined-group  critest's test-image-predefined-group: default-user (uid 1000) is in group 50000
cri_build_image() {
  local kind=${1:?cri_build_image KIND NAME} name=${2:?} arg=${3:-} rootfs config
  rootfs=$CRI_WORK/rootfs-$kind${arg:+-$arg}
  local path_env='"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'
  if [ ! -d "$rootfs" ]; then
    pcd_build_rootfs "$rootfs" || return 1
    case $kind in
      pause)
        # As init of its pid namespace only handled signals reach it: a trap for each, and the sleep killed
        # too (with a host pid namespace it would outlive us).
        cat >"$rootfs/pause" <<'SH'
#!/bin/sh
child=
stop() { [ -z "$child" ] || kill "$child" 2>/dev/null; exit 0; }
trap stop TERM INT
while :; do
  sleep 3600 &
  child=$!
  wait "$child"
done
SH
        chmod 0755 "$rootfs/pause" ;;
      httpd)
        mkdir -p "$rootfs/www"
        echo '<html><body>litebox test httpd</body></html>' >"$rootfs/www/index.html" ;;
      predefined-group)
        printf 'root:x:0:0:root:/root:/bin/sh\ndefault-user:x:1000:1000::/home/default-user:/bin/sh\n' >"$rootfs/etc/passwd"
        printf 'root:x:0:\ndefault-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n' >"$rootfs/etc/group"
        mkdir -p "$rootfs/home/default-user" && chown 1000:1000 "$rootfs/home/default-user" ;;
      busybox) ;;
      *) pcd_die "unknown image kind $kind"; return 1 ;;
    esac
  fi
  case $kind in
    pause) config='{'$path_env',"Entrypoint":["/pause"]}' ;;
    httpd) config='{'$path_env',"Cmd":["sh","-c","echo httpd listening on '"$arg"'; exec httpd -f -v -p '"$arg"' -h /www"],"ExposedPorts":{"'"$arg"'/tcp":{}}}' ;;
    predefined-group) config='{'$path_env',"User":"1000","Cmd":["sh"]}' ;;
    *) config='{'$path_env',"Cmd":["sh"]}' ;;
  esac
  local tar=$CRI_WORK/image-$kind-$RANDOM.tar
  oci_image_archive "$rootfs" "$tar" "$name" "$config" || return 1
  pcd_ctr image import "$tar" >"$CRI_WORK/import.log" 2>&1 || { cat "$CRI_WORK/import.log" >&2; return 1; }
  rm -f "$tar"
}

cri_start() {
  local purpose=${1:?cri_start PURPOSE} path_dir
  PCD_NAMESPACE=k8s.io
  PCD_CRI=1
  PCD_SANDBOX_IMAGE=$CRI_PAUSE_IMAGE
  PCD_CONTAINERD_DIR=$CRI_CONTAINERD_DIR
  export PCD_NAMESPACE PCD_CRI PCD_SANDBOX_IMAGE PCD_CONTAINERD_DIR
  local major=1
  if [ -n "$CRI_CONTAINERD_DIR" ]; then major=$(pcd_containerd_major "$CRI_CONTAINERD_DIR/containerd") || return 1
  else major=$(pcd_containerd_major "$(command -v containerd)") || return 1; fi
  PCD_CONFIG_APPEND=$(cri_handler_snippet "$major")
  export PCD_CONFIG_APPEND
  pcd_shim_dir "$CRI_SHIM" || return 1
  path_dir=$PCD_SHIM_DIR
  pcd_start "$purpose" "$path_dir" || return 1
  # The CRI plugin answers a little after ctr does.
  local _
  for _ in $(seq 1 100); do
    cri_crictl info >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  pcd_die "the CRI plugin does not answer on $PCD_ADDRESS"
  pcd_dump_log 40
  return 1
}

cri_crictl() {
  timeout -k 5 "${CRI_CRICTL_TIMEOUT:-90}" "$CRI_CRICTL" --config "$CRI_WORK/crictl.yaml" --runtime-endpoint "unix://$PCD_ADDRESS" \
    --image-endpoint "unix://$PCD_ADDRESS" --timeout "${CRI_CRICTL_RPC_TIMEOUT:-60s}" "$@"
}

# Every container id containerd holds in k8s.io (sandboxes and apps); remembered for cri_cleanup.
cri_ids() {
  [ -n "$PCD_PID" ] || return 0
  local id
  for id in $(PCD_CTR_TIMEOUT=15 pcd_ctr containers ls -q 2>/dev/null); do
    CRI_SEEN_IDS[$id]=1
    echo "$id"
  done
}

cri_remember_ids() { cri_ids >/dev/null; }

# Leftovers of the given ids (default: every id seen): processes in their cgroups, cgroup dirs, mounts naming
# them, runtime state dirs, shim processes serving them; and netns created since cri_init that still exist.
cri_leftovers() {
  local ids=("$@") id f p
  [ ${#ids[@]} -gt 0 ] || ids=("${!CRI_SEEN_IDS[@]}")
  for id in "${ids[@]}"; do
    while read -r f; do
      p=${f#/proc/}; p=${p%/cgroup}
      [ -e "/proc/$p" ] && echo "process $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)) in a cgroup of $id"
    done < <(grep -lsF -e "$id" /proc/[0-9]*/cgroup 2>/dev/null)
    # cgroupfs paths end in /ID, or in cri-containerd-ID.scope under a parent named *.slice (critest's).
    find /sys/fs/cgroup -maxdepth 6 -type d -name "*$id*" 2>/dev/null | sed 's/^/cgroup /'
    awk -v id="$id" 'index($5, id) {print "mount " $5}' /proc/self/mountinfo
    for f in "$CRI_RUNTIME_ROOT/k8s.io/$id" "/run/containerd/runc/k8s.io/$id"; do
      [ -e "$f" ] && echo "state dir $f"
    done
    # Sockets: unix sockets bound to a path naming the id.
    awk -v id="$id" 'NR > 1 && index($8, id) {print "socket " $8}' /proc/net/unix
    pcd_shim_pids "$id" | sed 's/^/shim process /'
  done
  if [ $# -eq 0 ] && [ -n "$CRI_CGROUP_PARENT" ]; then  # the parent outlives the pods (the kubelet's)
    find /sys/fs/cgroup -maxdepth 3 -type d -path "*$CRI_CGROUP_PARENT" 2>/dev/null | sed 's/^/cgroup parent /'
  fi
  local now
  now=$(find /run/netns -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort)
  comm -13 <(printf '%s\n' "$CRI_NETNS_BEFORE") <(printf '%s\n' "$now") | grep . | sed 's|^|netns /run/netns/|'
  return 0
}

cri_cleanup() {
  local rc=$? id cg procs
  local -
  set +eE
  if [ -n "$PCD_PID" ] && kill -0 "$PCD_PID" 2>/dev/null; then
    cri_remember_ids
    # Through CRI first: it stops and removes the pods' containers, their netns and CNI addresses.
    CRI_CRICTL_TIMEOUT=60 cri_crictl rmp -a -f >/dev/null 2>&1
    cri_remember_ids
  fi
  local dir=$PCD_DIR state
  pcd_cleanup
  # Containers CRI removed whose shim never cleaned up after them (a shim killed above): their state names our
  # directory.
  if [ -n "$dir" ] && [ -d "$CRI_RUNTIME_ROOT/k8s.io" ]; then
    while read -r state; do
      id=$(basename "$(dirname "$state")")
      CRI_SEEN_IDS[$id]=1
    done < <(grep -lsF -- "$dir/" "$CRI_RUNTIME_ROOT"/k8s.io/*/state.json 2>/dev/null)
  fi
  for id in "${!CRI_SEEN_IDS[@]}"; do
    # Processes left in our containers' cgroups, then the cgroups, then the runtimes' state of them.
    while read -r cg; do
      procs=$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
      # shellcheck disable=SC2086 # a list of pids
      [ -z "$procs" ] || kill -KILL $procs 2>/dev/null
    done < <(find /sys/fs/cgroup -maxdepth 6 -type d -name "*$id*" 2>/dev/null)
    if [ -d "/run/containerd/runc/k8s.io/$id" ] && command -v runc >/dev/null; then
      timeout 10 runc --root /run/containerd/runc/k8s.io delete --force "$id" >/dev/null 2>&1
    fi
    find /sys/fs/cgroup -maxdepth 6 -depth -type d -name "*$id*" -exec rmdir {} + 2>/dev/null
    rm -rf "${CRI_RUNTIME_ROOT:?}/k8s.io/$id"
  done
  if [ -n "$CRI_CGROUP_PARENT" ]; then
    for cg in /sys/fs/cgroup/*"$CRI_CGROUP_PARENT" /sys/fs/cgroup/*/"${CRI_CGROUP_PARENT#/}"; do
      [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    done
  fi
  # critest's pods default to cgroup parent /test.slice where containerd has no RuntimeConfig (1.6).
  if [ -z "$CRI_TEST_SLICE_EXISTED" ]; then
    for cg in /sys/fs/cgroup/*/test.slice /sys/fs/cgroup/test.slice; do
      [ -d "$cg" ] && rmdir "$cg" 2>/dev/null
    done
  fi
  return "$rc"
}
