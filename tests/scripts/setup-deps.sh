#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the benchmarks need. Idempotent: packages already
# present are not touched, and apt-get runs only when something is missing.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build pkg-config
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # platforms/linux: seccomp filters, logging; the tests' container root filesystems
  libseccomp-dev libspdlog-dev busybox-static
  # litebox-runtime's compatibility test: Debian's containerd (with its runc shim) and its ctr
  containerd
  # oci: Boost.JSON (and spdlog, listed above); fuzz targets: clang with its libFuzzer runtime
  libboost-json1.81-dev libspdlog-dev clang libclang-rt-14-dev
  # runtime_shim: protobuf-lite messages, the gRPC transport module (and the grpc++ client its tests use)
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  # the LiteBox core's tests: a minimal Debian root file system with python3 for the dynamic workload; musl
  # (fdcalls-musl, fdthreads-musl); Go for the gofds workload comes below
  debootstrap musl-tools
  # the consumer tests (nerdctl, crictl, critest): JSON from crictl, CNI plugins for nerdctl's bridge and
  # critest's pod network (with the iptables they drive), script(1) for terminals (bsdutils)
  jq containernetworking-plugins iptables bsdutils
  # sanitizers' runtimes (g++ links them)
  libasan8 libubsan1 libtsan2
  # the mingw build: the -posix cross compilers, wine for its tests, wixl/msitools for the .msi, dpkg-dev for
  # tests/scripts/mingw-protobuf.sh (dpkg-source unpacks Debian's protobuf source package)
  g++-mingw-w64-x86-64 mingw-w64-tools wine wine64 msitools wixl dpkg-dev
  # the .deb (packaging/debian/build-deb.sh: dpkg-dev above for dpkg-shlibdeps) and its checks
  lintian
)

# Go: the gofds workload and the consumer tests' Go peers (containerd 2.x, nerdctl, cri-tools, which need Go
# 1.26) build with the newest Go on the machine. A preinstalled one (/usr/local/go) that is newer than
# Debian's golang-go (1.19) is used as it is, and golang-go is then not installed (it would only shadow it).
# shellcheck source=go-env.sh
source "$(dirname "$0")/go-env.sh"
if ! litebox_go 1.19 >/dev/null 2>&1; then packages+=(golang-go); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
