#!/usr/bin/env bash
# Builds the LiteBox .msi with msitools (Debian's wixl and msibuild; CPack's WIX generator does not exist in
# Linux builds of CMake): the files go into a staging folder under their installed names, wixl builds the
# package from litebox.wxs, and msibuild adds the system PATH entry afterwards (wixl 0.101 aborts on
# <Environment>): an Environment table plus WriteEnvironmentStrings / RemoveEnvironmentStrings.
#
#   build-msi.sh --version 0.1.0 --shim containerd-shim-litebox-v1.exe --toml containerd-litebox.toml \
#                [--ctl litebox-ctl.exe] [--readme README.md] [--wxs litebox.wxs] [--strip x86_64-w64-mingw32-strip] \
#                --out litebox-0.1.0-x64.msi
#
# --strip: the .exe files go in without their debug information (the RelWithDebInfo shim is ~100 MB with it,
# ~3 MB without; the package ~28 MB and ~1.4 MB).
#
# The ProductCode is derived from the UpgradeCode and the version (a name-based UUID), so every build of one
# version is the same product: `msiexec /x` of any build of it removes an installed one, and installing a
# rebuild over the same version is refused (uninstall first); a new version is a new product, which
# MajorUpgrade installs in place of the old one.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version="" shim="" ctl="" toml="" readme="" wxs="$here/litebox.wxs" out="" strip=""
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version=$2; shift 2 ;;
    --shim) shim=$2; shift 2 ;;
    --ctl) ctl=$2; shift 2 ;;
    --toml) toml=$2; shift 2 ;;
    --readme) readme=$2; shift 2 ;;
    --wxs) wxs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --strip) strip=$2; shift 2 ;;
    *) echo "build-msi.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
die() { echo "build-msi.sh: $*" >&2; exit 1; }
[ -n "$version" ] && [ -n "$shim" ] && [ -n "$toml" ] && [ -n "$out" ] ||
  die "--version, --shim, --toml and --out are required"
# ProductVersion: major.minor.build, each a number (major, minor < 256, build < 65536).
[[ "$version" =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,5}$ ]] || die "version '$version' is not major.minor.build"
for tool in wixl msibuild msiinfo sha1sum; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install wixl msitools)"
done
[ -z "$strip" ] || command -v "$strip" >/dev/null || die "$strip not found"
for f in "$shim" "$toml" "$wxs" ${ctl:+"$ctl"} ${readme:+"$readme"}; do
  [ -f "$f" ] || die "no such file: $f"
done

upgrade_code=2AAD626A-BD2A-4094-B697-1763F663B958   # the same as in litebox.wxs
grep -q "UpgradeCode=\"$upgrade_code\"" "$wxs" || die "$wxs does not carry UpgradeCode $upgrade_code"
# A version-5-style UUID from SHA-1 of "<UpgradeCode>/<version>/x64".
h=$(printf '%s/%s/x64' "$upgrade_code" "$version" | sha1sum | cut -c1-32 | tr a-f A-F)
variant=$(printf '%X' $(( (0x${h:16:1} & 0x3) | 0x8 )))
product_code="${h:0:8}-${h:8:4}-5${h:13:3}-${variant}${h:17:3}-${h:20:12}"

out_dir=$(dirname "$out")
mkdir -p "$out_dir"
out=$(cd "$out_dir" && pwd)/$(basename "$out")
stage="$out.stage"
rm -rf "$stage" "$out.tmp"
mkdir -p "$stage"
cp "$shim" "$stage/containerd-shim-litebox-v1.exe"
cp "$toml" "$stage/containerd-litebox.toml"
defines=(-D "Version=$version" -D "ProductCode=$product_code")
if [ -n "$ctl" ]; then cp "$ctl" "$stage/litebox-ctl.exe"; defines+=(-D WithCtl=1); fi
if [ -n "$readme" ]; then cp "$readme" "$stage/README.md"; defines+=(-D WithReadme=1); fi
if [ -n "$strip" ]; then
  # strip stamps the PE header with the time unless SOURCE_DATE_EPOCH is set: keep the linker's stamp, so
  # that the same .exe always gives the same bytes (msi_install_test.sh strips its sources the same way).
  for exe in "$stage"/*.exe; do
    pe=$(od -An -tu4 -j60 -N4 "$exe" | tr -d ' ')
    SOURCE_DATE_EPOCH=$(od -An -tu4 -j$((pe + 8)) -N4 "$exe" | tr -d ' ') "$strip" "$exe"
  done
fi

# wixl resolves File/@Source against the current folder and reports GLib criticals for nothing worse than
# an attribute it ignores: its output is shown only when it fails.
if ! log=$(cd "$stage" && wixl --arch x64 "${defines[@]}" -o "$out.tmp" "$wxs" 2>&1); then
  echo "$log" >&2
  die "wixl failed"
fi

# The system PATH: "=-*PATH" is set on install (=), removed on uninstall (-), system-wide (*); "[~];" appends
# the folder to the existing value. Sequences as WiX schedules them.
printf 'Environment\tName\tValue\tComponent_\ns72\tl255\tL255\ts72\nEnvironment\tEnvironment\n%s\t%s\t%s\t%s\n' \
  LiteBoxPath '=-*PATH' '[~];[INSTALLFOLDER]' ShimComponent >"$stage/Environment.idt"
(cd "$stage" && msibuild "$out.tmp" -i Environment.idt \
  -q "INSERT INTO InstallExecuteSequence (Action, Sequence) VALUES ('RemoveEnvironmentStrings', 3300)" \
  -q "INSERT INTO InstallExecuteSequence (Action, Sequence) VALUES ('WriteEnvironmentStrings', 5200)")

# What went in, read back from the package.
msiinfo export "$out.tmp" Environment | grep -q "^LiteBoxPath" || die "the Environment table is missing"
files=$(msiinfo export "$out.tmp" File | awk -F'\t' 'NR > 3 { print $3 }' | sort | tr '\n' ' ')
mv "$out.tmp" "$out"
rm -rf "$stage"
echo "build-msi.sh: $out ($(stat -c %s "$out") bytes, ProductVersion $version, ProductCode {$product_code}): $files"
