#!/usr/bin/env bash
# The LiteBox .msi, for real under wine: what the package holds (msiinfo, msiextract), then in a wine prefix
# of the test's own `msiexec /i ... /qn` (the files under C:\Program Files\LiteBox, the folder on the system
# PATH, the product registered, the installed shim answering -v with the version, found by path and through
# PATH), a major upgrade to a package of the next version and the refused downgrade, and `msiexec /x ... /qn`
# (no folder, no files, no PATH entry, no product left). TAP output; exit 1 on any failure, 77 (ctest's
# SKIP_RETURN_CODE) when a tool is missing. Whatever wine cannot do is a skip naming the gap.
#
#   msi_install_test.sh --msi litebox-0.1.0-x64.msi --version 0.1.0 --prefix <wine prefix dir> \
#       --build-script packaging/windows/build-msi.sh [--strip <strip tool>] --file <installed name>=<source file> ...
# With --strip, the package's .exe files are the sources as that tool strips them (build-msi.sh --strip).
set -uo pipefail

msi="" version="" prefix="" build_script="" strip=""
declare -A sources=()
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --msi) msi=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --build-script) build_script=$2; shift 2 ;;
    --strip) strip=$2; shift 2 ;;
    --file) names+=("${2%%=*}"); sources["${2%%=*}"]=$(realpath -- "${2#*=}"); shift 2 ;;
    *) echo "msi_install_test.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [ -z "$msi" ] || [ -z "$version" ] || [ -z "$prefix" ] || [ -z "$build_script" ] || [ ${#names[@]} -eq 0 ]; then
  echo "msi_install_test.sh: --msi, --version, --prefix, --build-script and --file are required" >&2
  exit 2
fi

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
note() { echo "# $*"; }
check() { # check <description> <command...>: ok when the command succeeds
  local what=$1; shift
  if "$@"; then ok "$what"; else not_ok "$what" "failed: $*"; fi
}
finish() {
  echo "1..$n"
  if [ "$failed" -gt 0 ]; then echo "# $failed of $n failed"; exit 1; fi
  exit 0
}

for tool in wine wineserver wineboot msiinfo msiextract cmp; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP $tool not found (apt-get install wine wine64 msitools)"
    exit 77
  fi
done
if [ ! -f "$msi" ]; then
  not_ok "the package exists" "no $msi: build the litebox-msi target (cmake --build --preset mingw)"
  finish
fi
msi=$(cd "$(dirname "$msi")" && pwd)/$(basename "$msi")
work=$(mktemp -d "${TMPDIR:-/tmp}/litebox-msi-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
# What each installed file must be: the source, or for an .exe with --strip the source stripped.
declare -A wanted=()
mkdir -p "$work/wanted"
for name in "${names[@]}"; do
  wanted[$name]=${sources[$name]}
  if [ -n "$strip" ] && [[ "$name" == *.exe ]]; then
    wanted[$name]="$work/wanted/$name"
    pe=$(od -An -tu4 -j60 -N4 "${sources[$name]}" | tr -d ' ')   # as build-msi.sh: keep the linker's time stamp
    SOURCE_DATE_EPOCH=$(od -An -tu4 -j$((pe + 8)) -N4 "${sources[$name]}" | tr -d ' ') \
      "$strip" -o "${wanted[$name]}" "${sources[$name]}" || { echo "msi_install_test.sh: $strip failed on ${sources[$name]}" >&2; exit 1; }
  fi
done

# ---- the package ----
prop() { msiinfo export "$msi" Property | tr -d '\r' | awk -F'\t' -v k="$1" '$1 == k { print $2 }'; }
product_code=$(prop ProductCode)
upgrade_code=$(prop UpgradeCode)
check "ProductVersion is $version" [ "$(prop ProductVersion)" = "$version" ]
check "UpgradeCode is LiteBox's ({2AAD626A-BD2A-4094-B697-1763F663B958})" \
  [ "$upgrade_code" = "{2AAD626A-BD2A-4094-B697-1763F663B958}" ]
template=$(msiinfo suminfo "$msi" | sed -n 's/^Template: //p')
check "the package is for x64 (Template '$template')" [ "${template%%;*}" = x64 ]
tables=$(msiinfo tables "$msi")
check "msiinfo lists the Environment table" grep -qx Environment <<<"$tables"

file_table=$(msiinfo export "$msi" File | tr -d '\r' | awk -F'\t' 'NR > 3 { print $3 }' | sort)
expected=$(printf '%s\n' "${names[@]}" | sort)
if [ "$file_table" = "$expected" ]; then
  ok "the File table holds exactly: $(echo $expected)"
else
  not_ok "the File table holds exactly the expected files" "expected: $(echo $expected)" "package:  $(echo $file_table)"
fi
components=$(msiinfo export "$msi" Component | tr -d '\r' | awk -F'\t' 'NR > 3')
check "every component is 64-bit and in INSTALLFOLDER" \
  awk -F'\t' '$3 != "INSTALLFOLDER" || int($4 / 256) % 2 != 1 { bad = 1 } END { exit bad }' <<<"$components"
check "INSTALLFOLDER is LiteBox in ProgramFiles64Folder" \
  grep -qP '^INSTALLFOLDER\tProgramFiles64Folder\tLiteBox\r?$' <(msiinfo export "$msi" Directory)
env_row=$(msiinfo export "$msi" Environment | tr -d '\r' | awk -F'\t' 'NR > 3')
check "the Environment row appends [INSTALLFOLDER] to the system PATH, removed on uninstall" \
  grep -qP '^LiteBoxPath\t=-\*PATH\t\[~\];\[INSTALLFOLDER\]\tShimComponent$' <<<"$env_row"
sequence=$(msiinfo export "$msi" InstallExecuteSequence | tr -d '\r')
check "InstallExecuteSequence runs WriteEnvironmentStrings and RemoveEnvironmentStrings" \
  bash -c 'grep -qP "^WriteEnvironmentStrings\t" <<<"$1" && grep -qP "^RemoveEnvironmentStrings\t" <<<"$1"' _ "$sequence"
check "MajorUpgrade: FindRelatedProducts and RemoveExistingProducts are scheduled" \
  bash -c 'grep -qP "^FindRelatedProducts\t" <<<"$1" && grep -qP "^RemoveExistingProducts\t" <<<"$1"' _ "$sequence"

extracted="$work/extracted"
mkdir -p "$extracted"
if (cd "$extracted" && msiextract "$msi" >"$work/msiextract.log" 2>&1); then
  ok "msiextract unpacks the package"
else
  not_ok "msiextract unpacks the package" "$(cat "$work/msiextract.log")"
fi
# msiextract names ProgramFiles64Folder "." and lists what it wrote.
listed=$(tr -d '\r' <"$work/msiextract.log" | sort)
expected_listed=$(printf 'LiteBox/%s\n' "${names[@]}" | sort)
if [ "$listed" = "$expected_listed" ]; then
  ok "msiextract writes exactly: $(echo $listed)"
else
  not_ok "msiextract writes exactly the expected files" "expected: $(echo $expected_listed)" "wrote:    $(echo $listed)"
fi
for name in "${names[@]}"; do
  check "msiextract: $name is the built file" cmp -s "$extracted/LiteBox/$name" "${wanted[$name]}"
done

# ---- wine: a prefix of the test's own ----
export WINEPREFIX="$prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY
trap 'wineserver -k 2>/dev/null; rm -rf "$work"' EXIT   # this prefix's wineserver only
w() { (cd "$work" && wine "$@" </dev/null); }   # run from a folder that holds no .exe
env_key='HKLM\System\CurrentControlSet\Control\Session Manager\Environment'
uninstall_key='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall'
system_path() { w reg query "$env_key" /v PATH 2>/dev/null | tr -d '\r' | sed -n 's/^ *PATH *REG_[A-Z_]* *//p'; }
folder="$prefix/drive_c/Program Files/LiteBox"
win_folder='C:\Program Files\LiteBox\'
baseline_file="$prefix/litebox-test-path-baseline"

ours_installed() { # any LiteBox product registered, or its folder
  [ -e "$folder" ] || w reg query "$uninstall_key" /s 2>/dev/null | grep -q 'LiteBox containerd shim'
}
new_prefix() {
  wineserver -k 2>/dev/null
  rm -rf "$prefix"
  mkdir -p "$prefix"
  local t0=$SECONDS
  if ! wineboot -i </dev/null >"$work/wineboot.log" 2>&1; then
    not_ok "wineboot -i creates the prefix $prefix" "$(tail -5 "$work/wineboot.log")"
    finish
  fi
  wineserver -w
  system_path >"$baseline_file"
  note "created the wine prefix $prefix in $((SECONDS - t0)) s"
}
if [ ! -f "$prefix/system.reg" ] || [ ! -s "$baseline_file" ]; then
  new_prefix
elif ours_installed; then
  note "an earlier run left LiteBox installed in $prefix: starting from a new prefix"
  new_prefix
elif [ "$(system_path)" != "$(cat "$baseline_file")" ]; then
  # wine's RemoveEnvironmentStrings leaves the ';' separator behind, and wine's cmd stops its PATH search
  # at an empty entry: each run starts from the PATH the prefix was created with.
  note "resetting the prefix's PATH to its first value (was: $(system_path))"
  w reg add "$env_key" /v PATH /t REG_EXPAND_SZ /d "$(cat "$baseline_file")" /f >/dev/null
fi
path_before=$(system_path)

install() { # install <msi> <description>
  local t0=$SECONDS
  if w msiexec /i "$1" /qn >"$work/msiexec.log" 2>&1; then
    ok "$2 ($((SECONDS - t0)) s)"
  else
    local rc=$?
    not_ok "$2" "msiexec /i exited $rc" "$(cat "$work/msiexec.log")"
  fi
}
uninstall() { # uninstall <msi> <description>
  local t0=$SECONDS
  if w msiexec /x "$1" /qn >"$work/msiexec.log" 2>&1; then
    ok "$2 ($((SECONDS - t0)) s)"
  else
    local rc=$?
    not_ok "$2" "msiexec /x exited $rc" "$(cat "$work/msiexec.log")"
  fi
}
registered() { w reg query "$uninstall_key\\$1" >/dev/null 2>&1; }
display_version() { w reg query "$uninstall_key\\$1" /v DisplayVersion 2>/dev/null | tr -d '\r' | sed -n 's/^ *DisplayVersion *REG_SZ *//p'; }
path_has_folder() { tr ';' '\n' <<<"$(system_path)" | grep -qixF -e "$win_folder" -e "${win_folder%\\}"; }
check_installed() { # check_installed <version>
  local name
  check "C:\\Program Files\\LiteBox exists" [ -d "$folder" ]
  for name in "${names[@]}"; do
    check "installed: $name is the built file" cmp -s "$folder/$name" "${wanted[$name]}"
  done
  local extra
  extra=$(comm -13 <(printf '%s\n' "${names[@]}" | sort) <(ls -A "$folder" 2>/dev/null | sort) | tr '\n' ' ')
  check "no other file in the folder${extra:+ (found: $extra)}" [ -z "$extra" ]
  check "nothing went to C:\\Program Files (x86)\\LiteBox" [ ! -e "$prefix/drive_c/Program Files (x86)/LiteBox" ]
  if path_has_folder; then ok "the system PATH holds $win_folder"
  else not_ok "the system PATH holds $win_folder" "PATH: $(system_path)"; fi
  check "the system PATH holds it once" [ "$(tr ';' '\n' <<<"$(system_path)" | grep -ciF 'LiteBox')" = 1 ]
}
check_removed() {
  check "C:\\Program Files\\LiteBox is gone" [ ! -e "$folder" ]
  local name
  for name in "${names[@]}"; do check "$name is gone" [ ! -e "$folder/$name" ]; done
  local path_now
  path_now=$(system_path)
  if path_has_folder || grep -qi litebox <<<"$path_now"; then
    not_ok "the PATH entry is gone" "PATH: $path_now"
  else
    ok "the PATH entry is gone"
  fi
  local trimmed=$path_now
  while [ "${trimmed%;}" != "$trimmed" ]; do trimmed=${trimmed%;}; done
  if [ "$path_now" = "$path_before" ]; then
    ok "the system PATH is back to its value before the install"
  elif [ "$trimmed" = "$path_before" ]; then
    ok "the system PATH is back to its value before the install, but for trailing ';' # wine's RemoveEnvironmentStrings leaves the separator behind, one per uninstall"
  else
    not_ok "the system PATH is back to its value before the install" "before: $path_before" "after:  $path_now"
  fi
}

shim_v() { # shim_v <how> <wine arguments...>: the shim's -v names it and the version
  local how=$1; shift
  local out rc
  out=$(w "$@" 2>&1 | tr -d '\r'); rc=$?
  if [ $rc -eq 0 ] && grep -qx 'containerd-shim-litebox-v1:' <<<"$out" && grep -qE "^ +Version: +$version\$" <<<"$out"; then
    ok "the installed shim answers -v with version $version ($how)"
  else
    not_ok "the installed shim answers -v with version $version ($how)" "exit $rc, output:" "$out"
  fi
}

# ---- install, use, uninstall ----
install "$msi" "wine msiexec /i $(basename "$msi") /qn"
check_installed "$version"
if registered "$product_code"; then ok "product $product_code is registered"
else not_ok "product $product_code is registered" "no $uninstall_key\\$product_code"; fi
check "its DisplayVersion is $version" [ "$(display_version "$product_code")" = "$version" ]
shim_v 'C:\Program Files\LiteBox\containerd-shim-litebox-v1.exe' 'C:\Program Files\LiteBox\containerd-shim-litebox-v1.exe' -v
# A new process reads the system PATH from the registry: found through PATH, as containerd finds shims.
shim_v 'found on PATH by cmd' cmd /c containerd-shim-litebox-v1.exe -v

uninstall "$msi" "wine msiexec /x $(basename "$msi") /qn"
check_removed
if registered "$product_code"; then not_ok "product $product_code is no longer registered" "$uninstall_key\\$product_code is still there"
else ok "product $product_code is no longer registered"; fi

# ---- major upgrade: the same files as the next version ----
IFS=. read -r major minor build <<<"$version"
next="$major.$minor.$((build + 1))"
next_msi="$work/litebox-$next-x64.msi"
args=(--version "$next" --out "$next_msi" ${strip:+--strip "$strip"})
for name in "${names[@]}"; do
  case "$name" in
    containerd-shim-litebox-v1.exe) args+=(--shim "${sources[$name]}") ;;
    litebox-ctl.exe) args+=(--ctl "${sources[$name]}") ;;
    containerd-litebox.toml) args+=(--toml "${sources[$name]}") ;;
    README.md) args+=(--readme "${sources[$name]}") ;;
  esac
done
if "$build_script" "${args[@]}" >"$work/build-next.log" 2>&1; then
  ok "build-msi.sh builds a package of version $next"
  next_code=$(msiinfo export "$next_msi" Property | tr -d '\r' | awk -F'\t' '$1 == "ProductCode" { print $2 }')
  check "version $next is another product ($next_code)" [ -n "$next_code" -a "$next_code" != "$product_code" ]
  install "$msi" "install $version again"
  install "$next_msi" "install $next over it (MajorUpgrade)"
  if registered "$product_code"; then not_ok "$version was removed by the upgrade" "$uninstall_key\\$product_code is still there"
  else ok "$version was removed by the upgrade"; fi
  check "$next is registered" registered "$next_code"
  check "its DisplayVersion is $next" [ "$(display_version "$next_code")" = "$next" ]
  check_installed "$next"
  if w msiexec /i "$msi" /qn >"$work/msiexec.log" 2>&1; then
    not_ok "installing $version over $next is refused (downgrade)" "msiexec /i exited 0"
  else
    ok "installing $version over $next is refused (downgrade; msiexec exit $?)"
  fi
  check "$next is still registered after the refused downgrade" registered "$next_code"
  uninstall "$next_msi" "wine msiexec /x litebox-$next-x64.msi /qn"
  check_removed
  if registered "$next_code"; then not_ok "no LiteBox product is registered" "$uninstall_key\\$next_code is still there"
  else ok "no LiteBox product is registered"; fi
else
  not_ok "build-msi.sh builds a package of version $next" "$(cat "$work/build-next.log")"
fi

finish
