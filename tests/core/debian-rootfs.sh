#!/usr/bin/env bash
# A Debian bookworm root file system for the dynamically linked workload of the core tests (python3: its
# multiprocessing, _socket, select... live in libpython3.11-stdlib, which python3-minimal does not bring, so
# the python3 package is installed).
# Usage: debian-rootfs.sh DIR      (e.g. build/<preset>/test-scratch/debian-rootfs)
# Idempotent: DIR/.litebox-rootfs-stamp marks a finished rootfs (its content names what was asked for); a
# half-built DIR (no stamp) is removed and built again.
# Exit: 0 ready, 1 debootstrap failed, 77 cannot be built here (not root, no debootstrap, no network).
# Environment: LITEBOX_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

dir=${1:?usage: debian-rootfs.sh DIR}
mirror=${LITEBOX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
include=python3
stamp_content="debootstrap --variant=minbase --include=$include $suite $mirror"
stamp=$dir/.litebox-rootfs-stamp

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_content" ]; then
  echo "debian-rootfs: $dir is ready (stamp)"
  exit 0
fi

skip() { echo "debian-rootfs: SKIP: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap chroots and creates devices)"
command -v debootstrap >/dev/null || skip "needs debootstrap (apt-get install debootstrap)"
# Reachability of the mirror: one small request with a deadline.
probe=$mirror/dists/$suite/Release
if command -v curl >/dev/null; then
  curl -fsS -o /dev/null --max-time 20 "$probe" 2>/dev/null || skip "the mirror is unreachable ($probe)"
elif command -v wget >/dev/null; then
  wget -q -O /dev/null -T 20 "$probe" 2>/dev/null || skip "the mirror is unreachable ($probe)"
elif command -v busybox >/dev/null; then
  timeout 25 busybox wget -q -O /dev/null "$probe" 2>/dev/null || skip "the mirror is unreachable ($probe)"
fi

if [ -e "$dir" ]; then
  # A leftover of an interrupted run: nothing may be mounted in it before it goes.
  if awk -v d="$(readlink -f "$dir")/" 'index($5, d) == 1 {found = 1} END {exit !found}' /proc/self/mountinfo; then
    echo "debian-rootfs: $dir has mounts under it; unmount them first" >&2
    exit 1
  fi
  rm -rf --one-file-system "$dir"
fi
mkdir -p "$(dirname "$dir")"
tmp=$dir.partial
rm -rf --one-file-system "$tmp"
echo "debian-rootfs: debootstrap --variant=minbase --include=$include $suite into $dir (a few minutes the first time)"
if ! debootstrap --variant=minbase --include="$include" "$suite" "$tmp" "$mirror" >"$tmp.log" 2>&1; then
  echo "debian-rootfs: debootstrap failed; the end of its log ($tmp.log):" >&2
  tail -n 30 "$tmp.log" >&2
  # A network failure half-way (the probe above passed) still counts as "cannot be built here".
  if grep -qiE 'Failed getting release file|Couldn.t download|Temporary failure|unable to fetch|Could not resolve' "$tmp.log"; then
    exit 77
  fi
  exit 1
fi
# What apt downloaded is not needed to run anything: keep the cached tree small.
rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/* 2>/dev/null || true
mv "$tmp" "$dir"
mv "$tmp.log" "$dir/.litebox-debootstrap.log"
echo "$stamp_content" >"$stamp"
echo "debian-rootfs: $dir is ready"
