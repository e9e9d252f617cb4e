#!/usr/bin/env bash
# Builds containerd-shim-litebox_<version>_<arch>.deb from a configured and built CMake tree, without
# compiling anything itself (unless no tree is given):
#
#   packaging/debian/build-deb.sh [BUILD_DIR] [OUT_DIR]
#
# BUILD_DIR: a built tree configured with CMAKE_INSTALL_PREFIX=/usr (the ci preset is; the shim finds its gRPC
# module relative to itself at the libdir it was configured with, lib/<multiarch> for /usr on Debian).
# Without it: configures the release preset for /usr and builds it (build/release). OUT_DIR: default
# build/deb. Prints the .deb's path as the last line of stdout; everything else goes to stderr.
#
# What it does, as debhelper would for a source package: `cmake --install BUILD_DIR --prefix /usr` into a
# staging root, strip (dh_strip's options), the man pages (packaging/debian/man, groff), copyright,
# changelog.Debian, NEWS.Debian and README.Debian, the containerd drop-ins and the RuntimeClass, the conffile,
# md5sums, postinst/postrm, DEBIAN/control with Depends (and the gRPC module's libraries as Suggests) from
# dpkg-shlibdeps, then `dpkg-deb --build --root-owner-group`.
#
# Environment:
#   LITEBOX_DEB_VERSION     the package version (default: from `git describe --tags --always --dirty`:
#                           <tag>[+git<date>.<n>.<sha>]-1 after a tag v<tag>, else
#                           <project version>~git<date>.<sha>-1, with +dirty for a modified tree)
#   LITEBOX_DEB_MAINTAINER  "Name <email>" (default: git config user.name/user.email, else HEAD's author)
#   SOURCE_DATE_EPOCH       the changelog's date and the files' mtimes (default: HEAD's commit time)
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
pkg=containerd-shim-litebox
log() { echo "build-deb: $*" >&2; }
die() { echo "build-deb: $*" >&2; exit 1; }

for tool in cmake git dpkg-deb dpkg-shlibdeps dpkg-architecture strip gzip md5sum; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install cmake git dpkg-dev binutils)"
done

build=${1:-}
out=${2:-$repo/build/deb}
if [ -z "$build" ]; then
  log "configuring and building the release preset for prefix /usr (build/release)"
  (cd "$repo" && cmake --preset release -DCMAKE_INSTALL_PREFIX=/usr >&2 && cmake --build --preset release >&2)
  build=$repo/build/release
fi
[ -f "$build/CMakeCache.txt" ] || die "$build is not a configured CMake build tree"
build=$(cd "$build" && pwd)
cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=$(cache CMAKE_INSTALL_LIBDIR)
[ "$libdir" = "lib/$multiarch" ] ||
  die "$build has CMAKE_INSTALL_LIBDIR=$libdir, the package needs lib/$multiarch: configure it with -DCMAKE_INSTALL_PREFIX=/usr (the shim looks for its gRPC module at the libdir it was built with)"
[ -z "$(cache LITEBOX_SANITIZER)" ] || die "$build is a sanitizer build (LITEBOX_SANITIZER=$(cache LITEBOX_SANITIZER))"
for f in runtime_shim/containerd-shim-litebox-v1 runtime_shim/litebox-ctl platforms/linux/litebox-runtime \
         runtime_shim/litebox-shim-grpc.so; do
  [ -f "$build/$f" ] || die "$build/$f is missing: build the tree first (cmake --build $build)"
done

# ---- version
git_() { git -C "$repo" "$@"; }
epoch=${SOURCE_DATE_EPOCH:-$(git_ log -1 --format=%ct)}
export SOURCE_DATE_EPOCH=$epoch
sha=$(git_ rev-parse --short=12 HEAD)
describe=$(git_ describe --tags --always --dirty)
date_ymd=$(date -u -d "@$epoch" +%Y%m%d)
project_version=$(sed -n 's/^project([a-z_]* VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
[ -n "$project_version" ] || die "no project(... VERSION x.y.z) in CMakeLists.txt"
if [[ $describe =~ ^v?([0-9][0-9.]*)(-([0-9]+)-g[0-9a-f]+)?(-dirty)?$ ]]; then
  upstream=${BASH_REMATCH[1]}
  [ -z "${BASH_REMATCH[3]}" ] || upstream+="+git$date_ymd.${BASH_REMATCH[3]}.$sha"
else
  upstream="$project_version~git$date_ymd.$sha"
fi
[[ $describe != *-dirty ]] || upstream+="+dirty"
version=${LITEBOX_DEB_VERSION:-$upstream-1}
dpkg --validate-version "$version" >/dev/null 2>&1 || die "'$version' is not a valid Debian version"
maintainer=${LITEBOX_DEB_MAINTAINER:-}
if [ -z "$maintainer" ]; then
  if [ -n "$(git_ config user.name || true)" ] && [ -n "$(git_ config user.email || true)" ]; then
    maintainer="$(git_ config user.name) <$(git_ config user.email)>"
  else
    maintainer=$(git_ log -1 --format='%an <%ae>')
  fi
fi
log "$pkg $version ($arch, git $describe) from $build"

# ---- staging root, laid out as dpkg-shlibdeps expects (debian/<package>/ beside debian/control)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "$out/.build-deb-XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/debian/$pkg
mkdir -p "$root"
DESTDIR=$root cmake --install "$build" --prefix /usr >/dev/null
moddir=usr/lib/$multiarch/containerd-shim-litebox-v1
expected=$(printf '%s\n' usr/bin/containerd-shim-litebox-v1 usr/bin/litebox-ctl usr/bin/litebox-runtime \
  "$moddir/litebox-shim-grpc.so" | sort)
installed=$(cd "$root" && find . ! -type d | sed 's|^\./||' | sort)
[ "$installed" = "$expected" ] ||
  die "cmake --install gave other files than the package expects:"$'\n'"$(diff <(echo "$expected") <(echo "$installed") || true)"

# The shim says which commit it was built from (-v: Revision, taken when the tree was configured): it must be
# the commit the version names.
revision=$("$root/usr/bin/containerd-shim-litebox-v1" -v | awk '$1 == "Revision:" {print $2}')
[ "$revision" = "$sha" ] ||
  die "$build's shim was configured at commit $revision, HEAD is $sha: reconfigure and rebuild it (cmake $build && cmake --build $build) so that the package's version and the shim's -v name the same commit"

# dh_strip: executables lose their symbols, .comment and .note; shared objects keep their dynamic symbols.
for f in usr/bin/containerd-shim-litebox-v1 usr/bin/litebox-ctl usr/bin/litebox-runtime; do
  strip --remove-section=.comment --remove-section=.note "$root/$f"
  chmod 0755 "$root/$f"
done
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/$moddir/litebox-shim-grpc.so"
chmod 0644 "$root/$moddir/litebox-shim-grpc.so"

install -D -m 0644 "$repo/packaging/containerd/litebox-shim.json" "$root/etc/containerd/litebox-shim.json"
install -D -m 0644 "$repo/packaging/containerd/import-v2.toml" "$root/usr/share/litebox/containerd/config-v2.d/litebox.toml"
install -D -m 0644 "$repo/packaging/containerd/import-v3.toml" "$root/usr/share/litebox/containerd/config-v3.d/litebox.toml"
install -D -m 0644 "$repo/packaging/kubernetes/runtimeclass.yaml" "$root/usr/share/litebox/kubernetes/runtimeclass.yaml"
install -D -m 0644 "$repo/packaging/kubernetes/example-pod.yaml" "$root/usr/share/litebox/kubernetes/example-pod.yaml"

man_date=$(date -u -d "@$epoch" +%Y-%m-%d)
for page in containerd-shim-litebox-v1.8 litebox-runtime.8 litebox-ctl.1; do
  dir=$root/usr/share/man/man${page##*.}
  mkdir -p "$dir"
  sed -e "s/@VERSION@/$version/g" -e "s/@DATE@/$man_date/g" "$here/man/$page" | gzip -9n >"$dir/$page.gz"
done

doc=$root/usr/share/doc/$pkg
mkdir -p "$doc"
install -m 0644 "$here/copyright" "$doc/copyright"
install -m 0644 "$here/README.Debian" "$doc/README.Debian"
changelog_date=$(date -u -R -d "@$epoch")
{
  echo "$pkg ($version) unstable; urgency=medium"
  echo
  echo "  * Built from git $describe (commit $sha)"
  echo "    by packaging/debian/build-deb.sh."
  echo
  echo " -- $maintainer  $changelog_date"
} | gzip -9n >"$doc/changelog.Debian.gz"
{
  echo "$pkg ($version) unstable; urgency=medium"
  echo
  cat <<'NEWS'
  This package never changes containerd's configuration. ctr and nerdctl
  run containers with --runtime io.containerd.litebox.v1 as they are. For
  Kubernetes (containerd's CRI plugin), add the line for your containerd
  above the first table of /etc/containerd/config.toml, then restart it:

   1.6/1.7: imports = ["/usr/share/litebox/containerd/config-v2.d/*.toml"]
   2.x:     imports = ["/usr/share/litebox/containerd/config-v3.d/*.toml"]

  containerd 1.x replaces config.toml's own CRI tables with an imported
  file's: README.Debian says when to copy the runtime's tables instead.
NEWS
  echo
  echo " -- $maintainer  $changelog_date"
} | gzip -9n >"$doc/NEWS.Debian.gz"

# ---- DEBIAN/
mkdir -p "$root/DEBIAN"
install -m 0755 "$here/postinst" "$root/DEBIAN/postinst"
install -m 0755 "$here/postrm" "$root/DEBIAN/postrm"
echo /etc/containerd/litebox-shim.json >"$root/DEBIAN/conffiles"

printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" >"$work/debian/control"
# The gRPC module's libraries (grpc++, ~30 MB with what it pulls) only matter for transport=grpc (containerd
# 1.7, chosen in litebox-shim.json): Suggests, not Depends.
shlibs=$(cd "$work" && dpkg-shlibdeps -O -e"$root/usr/bin/containerd-shim-litebox-v1" -e"$root/usr/bin/litebox-ctl" \
  -e"$root/usr/bin/litebox-runtime" -dSuggests -e"$root/$moddir/litebox-shim-grpc.so" 2>"$work/shlibdeps.err") ||
  die "dpkg-shlibdeps failed: $(cat "$work/shlibdeps.err")"
[ ! -s "$work/shlibdeps.err" ] || sed 's/^/build-deb: /' "$work/shlibdeps.err" >&2
depends=$(sed -n 's/^shlibs:Depends=//p' <<<"$shlibs")
suggests=$(sed -n 's/^shlibs:Suggests=//p' <<<"$shlibs")

# Code of other packages the executables carry (LITEBOX_STATIC_SHIM links libstdc++, libgcc, protobuf-lite,
# Boost.JSON and libseccomp in, spdlog and fmt header-only): the static archives and flags on their link lines
# in build.ninja, the header-only fmt by FMT_HEADER_ONLY in their compile flags. Built-Using names their source
# packages with the versions used (Debian Policy 7.8; libseccomp's LGPL is why it must). dpkg 1.21.3's finer
# Static-Built-Using would do for the others, but Debian 12's lintian reports it as an unknown field.
static_files=()
if [ -f "$build/build.ninja" ]; then
  cxx=$(cache CMAKE_CXX_COMPILER)
  for t in runtime_shim/containerd-shim-litebox-v1 runtime_shim/litebox-ctl platforms/linux/litebox-runtime; do
    awk -v t="build $t:" 'index($0, t) == 1 {f = 1; next} f && /^  / {print; next} f {exit}' "$build/build.ninja"
  done >"$work/link-lines"
  for word in $(awk '$1 == "LINK_FLAGS" || $1 == "LINK_LIBRARIES" {$1 = $2 = ""; print}' "$work/link-lines"); do
    case $word in
      /*.a) [[ $word == "$build"/* ]] || static_files+=("$word") ;;
      -static-libstdc++) static_files+=("$("$cxx" -print-file-name=libstdc++.a)") ;;
      -static-libgcc) static_files+=("$("$cxx" -print-libgcc-file-name)") ;;
    esac
  done
  if grep -A3 '^build runtime_shim/CMakeFiles/containerd-shim-litebox-v1.dir/src/main.cpp.o:' "$build/build.ninja" |
     grep -q -- '-DFMT_HEADER_ONLY'; then
    for header in fmt/format.h spdlog/spdlog.h; do
      [ ! -f "/usr/include/$header" ] || static_files+=("/usr/include/$header")
    done
  fi
else
  log "no build.ninja in $build: Built-Using not computed"
fi
built_using=$(for f in "${static_files[@]}"; do
  owner=$(dpkg -S "$f" 2>/dev/null || dpkg -S "$(readlink -f "$f")" 2>/dev/null) || { log "no package owns $f (linked in statically)"; continue; }
  dpkg-query -W -f='${source:Package} (= ${source:Version})\n' "${owner%%: *}"
done | sort -u | paste -sd, - | sed 's/,/, /g')

# Installed-Size as dpkg-gencontrol counts it: KiB per file, rounded up, and 1 per directory or link.
installed_size=$(cd "$root" && find . -path ./DEBIAN -prune -o ! -name . -printf '%y %s\n' |
  awk '$1 == "f" {kib += int(($2 + 1023) / 1024); next} {kib += 1} END {print kib}')
{
  echo "Package: $pkg"
  echo "Version: $version"
  echo "Architecture: $arch"
  echo "Maintainer: $maintainer"
  echo "Installed-Size: $installed_size"
  [ -z "$depends" ] || echo "Depends: $depends"
  echo "Recommends: containerd"
  [ -z "$suggests" ] || echo "Suggests: $suggests"
  [ -z "$built_using" ] || echo "Built-Using: $built_using"
  echo "Section: admin"
  echo "Priority: optional"
  cat <<'DESC'
Description: containerd shim running OCI containers through the LiteBox core
 containerd-shim-litebox-v1 is the containerd task shim of the runtime
 io.containerd.litebox.v1 (ctr, nerdctl, Kubernetes through a RuntimeClass).
 It runs containers with runc-style isolation while its LiteBox core serves
 each container process's path opens through seccomp user notification and
 keeps a descriptor table per process that mirrors the kernel's.
 .
 The package also contains litebox-ctl, which lists those tables for a
 running container; litebox-runtime, a runc-compatible command line over the
 same runtime library; the shim's gRPC transport module (for containerd 1.7);
 the shim's options (/etc/containerd/litebox-shim.json); files for
 containerd's CRI plugin to import; and a Kubernetes RuntimeClass.
DESC
} >"$root/DEBIAN/control"

(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control" "$root/DEBIAN/conffiles"
find "$root" -type d -exec chmod 0755 {} +
find "$root" -exec touch -h -d "@$epoch" {} +

deb=$out/${pkg}_${version}_$arch.deb
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
log "$(basename "$deb"): $(stat -c %s "$deb") bytes, Installed-Size $installed_size KiB"
log "Depends: $depends"
[ -z "$suggests" ] || log "Suggests: $suggests"
[ -z "$built_using" ] || log "Built-Using: $built_using"
echo "$deb"
