#!/usr/bin/env bash
# Builds the Go programs the consumer tests drive — containerd 2.x (containerd, ctr, and its runc shim: Debian's
# 1.6 runc shim cannot start under 2.3+, which writes BootstrapParams on its stdin), nerdctl, cri-tools
# (crictl, critest) — at pinned versions, from the Go module proxy, into a cache under the build tree:
#
#   build/peers/<name>-<version>/bin/...     (LITEBOX_PEERS_DIR overrides build/peers)
#
# A peer whose binaries are present is not rebuilt, so a second run costs nothing. They are test peers, never
# part of the product. Each is built in its own module's folder (fetched with `go mod download`, so its own
# go.mod and go.sum pin every dependency): `go install pkg@version` refuses containerd v2 (its go.mod has an
# exclude block) and nerdctl v2 (a replace to a test-only module in its repository, which we drop), and
# critest is a test binary (`go test -c`).
#
# Usage: build-peers.sh [containerd|containerd17|nerdctl|cri-tools]...   (none: all)
# Prints, for each peer built or found, `NAME=DIR` on stdout (DIR holds bin/).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../scripts/go-env.sh
source "$repo/tests/scripts/go-env.sh"

# shellcheck source=peers.env
source "$repo/tests/consumers/peers.env"

peers_dir=${LITEBOX_PEERS_DIR:-$repo/build/peers}
mkdir -p "$peers_dir"
peers_dir=$(cd "$peers_dir" && pwd)

go_bin=$(litebox_go 1.26) || exit 1
export GOMODCACHE=$peers_dir/gomod GOCACHE=$peers_dir/gocache GOFLAGS=-modcacherw GOTOOLCHAIN=local
export GOPROXY=${GOPROXY:-https://proxy.golang.org} GONOSUMDB= GOSUMDB=${GOSUMDB:-sum.golang.org}

log() { echo "build-peers: $*" >&2; }

# module_folder MODULE VERSION DEST: a writable copy of the module's folder at that version.
module_folder() {
  local module=$1 version=$2 dest=$3 dir
  dir=$(cd "$peers_dir" && "$go_bin" mod download -json "$module@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || { log "go mod download $module@$version gave no folder"; return 1; }
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  cp -r "$dir" "$dest"
  chmod -R u+w "$dest"
}

build_containerd() {
  local out=$peers_dir/containerd-$CONTAINERD_VERSION
  if [ ! -x "$out/bin/containerd" ] || [ ! -x "$out/bin/ctr" ] || [ ! -x "$out/bin/containerd-shim-runc-v2" ]; then
    log "containerd $CONTAINERD_VERSION (containerd, ctr, containerd-shim-runc-v2)"
    module_folder github.com/containerd/containerd/v2 "$CONTAINERD_VERSION" "$out/src"
    # CGO off: the btrfs snapshotter (cgo, libbtrfs) is left out, as `no_btrfs` would; overlayfs and native
    # remain, which is what the tests use.
    (cd "$out/src" && CGO_ENABLED=0 "$go_bin" build -trimpath -tags "no_btrfs no_devmapper no_zfs" \
        -ldflags "-X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
        -o "$out/bin/" ./cmd/containerd ./cmd/ctr ./cmd/containerd-shim-runc-v2)
    rm -rf "$out/src"
  fi
  echo "containerd=$out"
}

build_containerd17() {
  local out=$peers_dir/containerd-$CONTAINERD17_VERSION
  if [ ! -x "$out/bin/containerd" ] || [ ! -x "$out/bin/ctr" ]; then
    log "containerd $CONTAINERD17_VERSION (containerd, ctr)"
    module_folder github.com/containerd/containerd "$CONTAINERD17_VERSION" "$out/src"
    (cd "$out/src" && CGO_ENABLED=0 "$go_bin" build -trimpath -tags "no_btrfs no_devmapper no_zfs no_aufs" \
        -ldflags "-X github.com/containerd/containerd/version.Version=$CONTAINERD17_VERSION" \
        -o "$out/bin/" ./cmd/containerd ./cmd/ctr)
    rm -rf "$out/src"
  fi
  echo "containerd17=$out"
}

build_nerdctl() {
  local out=$peers_dir/nerdctl-$NERDCTL_VERSION
  if [ ! -x "$out/bin/nerdctl" ]; then
    log "nerdctl $NERDCTL_VERSION"
    module_folder github.com/containerd/nerdctl/v2 "$NERDCTL_VERSION" "$out/src"
    # tigron is nerdctl's test framework, required through a replace to ./mod/tigron, which the module's zip
    # does not carry (and the proxy does not serve). Only test helpers import it: the integration tests' compose
    # and cosign helpers in cmd/nerdctl/helpers/testing_linux.go, a non-test file that nothing in the binary
    # calls. Both go from the scratch copy.
    (cd "$out/src" && rm cmd/nerdctl/helpers/testing_linux.go &&
      "$go_bin" mod edit -droprequire github.com/containerd/nerdctl/mod/tigron \
        -dropreplace github.com/containerd/nerdctl/mod/tigron@v0.0.0 &&
      CGO_ENABLED=0 "$go_bin" build -trimpath \
        -ldflags "-X github.com/containerd/nerdctl/v2/pkg/version.Version=$NERDCTL_VERSION" \
        -o "$out/bin/nerdctl" ./cmd/nerdctl)
    rm -rf "$out/src"
  fi
  echo "nerdctl=$out"
}

build_cri_tools() {
  local out=$peers_dir/cri-tools-$CRI_TOOLS_VERSION
  if [ ! -x "$out/bin/crictl" ] || [ ! -x "$out/bin/critest" ]; then
    log "cri-tools $CRI_TOOLS_VERSION (crictl, critest)"
    module_folder sigs.k8s.io/cri-tools "$CRI_TOOLS_VERSION" "$out/src"
    (cd "$out/src" &&
      CGO_ENABLED=0 "$go_bin" build -trimpath -ldflags "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRI_TOOLS_VERSION" \
        -o "$out/bin/crictl" ./cmd/crictl &&
      CGO_ENABLED=0 "$go_bin" test -c -trimpath -o "$out/bin/critest" ./cmd/critest)
    rm -rf "$out/src"
  fi
  echo "cri-tools=$out"
}

(($#)) || set -- containerd containerd17 nerdctl cri-tools
for peer in "$@"; do
  case $peer in
    containerd) build_containerd ;;
    containerd17) build_containerd17 ;;
    nerdctl) build_nerdctl ;;
    cri-tools) build_cri_tools ;;
    *) log "unknown peer $peer (containerd, containerd17, nerdctl, cri-tools)"; exit 2 ;;
  esac
done
