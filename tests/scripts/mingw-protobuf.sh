#!/usr/bin/env bash
# mingw-protobuf.sh PREFIX: builds a static libprotobuf-lite for x86_64-w64-mingw32 (the -posix compilers) from
# Debian's own protobuf source package, at the version of the installed libprotobuf-dev, so that Debian's native
# protoc (same version) generates code that compiles against it. Installs the headers and lib/libprotobuf-lite.a
# into PREFIX. Debian 12 ships no mingw build of protobuf.
#
# - The source package comes from the machine's own Debian repositories: a deb-src twin of every `deb` entry of
#   /etc/apt/sources.list.d/debian.sources (same URIs, Suites, Components, Signed-By) is written to
#   /etc/apt/sources.list.d/litebox-deb-src.sources; only when that file is new (or changed) are the source
#   indexes fetched (`apt-get update` of that file alone: the binary package lists are not touched).
# - Cached: the source package and the build tree live in PREFIX/../protobuf-src; once PREFIX has the library
#   and a stamp with the version (and this script's recipe), the script exits at once. One run at a time.
# - `dpkg-source -x` applies Debian's patches (debian/patches), as Debian's own build does. The library is built
#   from that source as it is; only two installed textual headers get mingw macro guards (see below).
# Needs dpkg-dev (dpkg-source; `apt-get source` itself is in apt), cmake, ninja-build, g++-mingw-w64-x86-64.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 PREFIX" >&2
  exit 2
fi
prefix=$(realpath -m "$1")
here=$(cd "$(dirname "$0")" && pwd)
toolchain=$(realpath "$here/../../cmake/mingw-w64.cmake")

# The source version (no binNMU suffix) of the installed libprotobuf-dev, e.g. 3.21.12-3+deb12u1.
if ! version=$(dpkg-query -W -f='${source:Version}' libprotobuf-dev 2>/dev/null) || [ -z "$version" ]; then
  echo "mingw-protobuf: libprotobuf-dev is not installed (tests/scripts/setup-deps.sh)" >&2
  exit 1
fi
# The stamp: the version and this script's recipe (bumped when what it installs changes).
stamp=$prefix/litebox-protobuf.version
recipe="$version (recipe 2: mingw macro guards in port_def.inc)"
if [ -f "$prefix/lib/libprotobuf-lite.a" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$recipe" ]; then
  echo "mingw-protobuf: protobuf-lite $version is in $prefix"
  exit 0
fi
start=$SECONDS
# One build at a time per cache (two build trees may share it), and then maybe nothing left to do.
mkdir -p "$(dirname "$prefix")"
exec 9>"$(dirname "$prefix")/protobuf-src.lock"
flock 9
if [ -f "$prefix/lib/libprotobuf-lite.a" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$recipe" ]; then
  echo "mingw-protobuf: protobuf-lite $version is in $prefix (built meanwhile)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if ! command -v dpkg-source >/dev/null; then
  echo "mingw-protobuf: installing dpkg-dev (dpkg-source)"
  $SUDO apt-get install -y -qq --no-install-recommends dpkg-dev
fi

# deb-src entries: the `deb` stanzas of debian.sources with Types: deb-src (stanzas that already list deb-src,
# or are disabled, are left out; multi-line fields such as an inline Signed-By key are kept whole).
debian_sources=/etc/apt/sources.list.d/debian.sources
src_list=/etc/apt/sources.list.d/litebox-deb-src.sources
entries=$(awk '
  function flush() {
    if (n && types ~ /(^|[ \t])deb([ \t]|$)/ && types !~ /deb-src/ && tolower(enabled) !~ /no/) {
      if (out++) print ""
      print "Types: deb-src"
      for (i = 1; i <= n; i++) print keep[i]
    }
    n = 0; types = ""; enabled = ""; field = ""
  }
  /^#/ { next }
  /^[ \t]*$/ { flush(); next }
  /^[ \t]/ { if (field != "") keep[++n] = $0; next }
  {
    name = tolower(substr($0, 1, index($0, ":") - 1)); value = substr($0, index($0, ":") + 1); field = ""
    if (name == "types") types = value
    else if (name == "enabled") enabled = value
    else if (name == "uris" || name == "suites" || name == "components" || name == "signed-by") { field = name; keep[++n] = $0 }
  }
  END { flush() }' "$debian_sources")
if [ -z "$entries" ]; then
  echo "mingw-protobuf: no deb entries in $debian_sources to derive deb-src entries from" >&2
  exit 1
fi
entries="# Written by litebox's tests/scripts/mingw-protobuf.sh: deb-src twins of $debian_sources.
$entries"
# Only that file's indexes; List-Cleanup=0 keeps the other sources' lists.
update_sources() {
  $SUDO apt-get update -qq -o Dir::Etc::SourceList="$src_list" -o Dir::Etc::SourceParts=/nonexistent \
    -o APT::Get::List-Cleanup=0
}
if [ "$(cat "$src_list" 2>/dev/null)" != "$entries" ]; then
  echo "mingw-protobuf: writing $src_list"
  printf '%s\n' "$entries" | $SUDO tee "$src_list" >/dev/null
  if ! update_sources; then
    $SUDO rm -f "$src_list"  # so that the next run fetches the indexes again
    echo "mingw-protobuf: apt-get update of $src_list failed" >&2
    exit 1
  fi
fi

cache=$(dirname "$prefix")/protobuf-src
src=$cache/protobuf-$version
mkdir -p "$cache"
if [ ! -d "$src" ]; then
  dsc=$cache/protobuf_${version#*:}.dsc
  if [ ! -f "$dsc" ]; then
    # As root, apt's _apt sandbox user could not write into the cache: download as root without the warning.
    sandbox=()
    if [ "$(id -u)" -eq 0 ]; then sandbox=(-o APT::Sandbox::User=root); fi
    # Source indexes gone or older than the installed package: fetch them once more and retry.
    if ! (cd "$cache" && apt-get source -qq --download-only "${sandbox[@]}" "protobuf=$version"); then
      update_sources
      (cd "$cache" && apt-get source -qq --download-only "${sandbox[@]}" "protobuf=$version")
    fi
  fi
  # apt checked the files against the signed Sources index; dpkg-source verifies their checksums against the
  # .dsc (the .dsc's own signature cannot be checked without debian-keyring, which is not needed for that).
  rm -rf "$src.tmp"
  dpkg-source -x "$dsc" "$src.tmp" >/dev/null
  mv "$src.tmp" "$src"
fi

# protobuf 3.21 has its CMakeLists.txt at the top (cmake/ holds only the included parts). The project's
# toolchain file is used as is: its definitions (UNICODE, WIN32_LEAN_AND_MEAN, NOMINMAX, _WIN32_WINNT) suit
# protobuf's Windows code, and its wine emulator is used only by tests and protoc, which are not built.
# C++17 as Debian's own build (GCC 12's default); protobuf would pick C++11.
build=$cache/build-$version
cmake -S "$src" -B "$build" -G Ninja --toolchain "$toolchain" -Wno-dev \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_STANDARD=17 -DCMAKE_INSTALL_PREFIX="$prefix" \
  -Dprotobuf_BUILD_TESTS=OFF -Dprotobuf_BUILD_PROTOC_BINARIES=OFF -Dprotobuf_BUILD_SHARED_LIBS=OFF \
  -Dprotobuf_WITH_ZLIB=OFF >/dev/null
cmake --build "$build" --target libprotobuf-lite -j2
rm -rf "$prefix/include/google/protobuf" "$prefix/lib/libprotobuf-lite.a" "$stamp"
cmake --install "$build" --component protobuf-headers >/dev/null
cmake --install "$build" --component libprotobuf-lite >/dev/null

# The installed port_def.inc/port_undef.inc (which generated code and protobuf's headers wrap themselves in)
# #undef Windows' inconvenient macros (GetMessage, DELETE, ERROR, ...) and restore them afterwards, but only
# under MSVC: extend that to mingw-w64, and add stdin, stdout and stderr, which Windows' stdio.h defines as
# (__acrt_iob_func(n)) and which are field names in containerd's task.proto (protobuf issue #12774). Only
# these two textual headers change, after the build: the library itself is Debian's source as it is (its
# own stubs/common.cc writes to stderr inside port_def.inc).
inc=$prefix/include/google/protobuf
sed -i '/^#ifdef _MSC_VER$/{N;s/^#ifdef _MSC_VER\n\(#pragma push_macro("CREATE_NEW")\)/#if defined(_MSC_VER) || defined(__MINGW32__)  \/\/ litebox: also mingw-w64, and stdin, stdout, stderr\n#pragma push_macro("stdin")\n#undef stdin\n#pragma push_macro("stdout")\n#undef stdout\n#pragma push_macro("stderr")\n#undef stderr\n\1/}' "$inc/port_def.inc"
sed -i '/^#ifdef _MSC_VER$/{N;s/^#ifdef _MSC_VER\n\(#pragma pop_macro("CREATE_NEW")\)/#if defined(_MSC_VER) || defined(__MINGW32__)  \/\/ litebox: also mingw-w64, and stdin, stdout, stderr\n#pragma pop_macro("stdin")\n#pragma pop_macro("stdout")\n#pragma pop_macro("stderr")\n\1/}' "$inc/port_undef.inc"
if ! grep -q 'push_macro("stderr")' "$inc/port_def.inc" || ! grep -q 'pop_macro("stderr")' "$inc/port_undef.inc"; then
  echo "mingw-protobuf: could not add the mingw macro guards to $inc/port_def.inc and port_undef.inc" >&2
  exit 1
fi
echo "$recipe" >"$stamp"
echo "mingw-protobuf: protobuf-lite $version for x86_64-w64-mingw32 in $prefix ($((SECONDS - start)) s)"
