# shellcheck shell=bash
# litebox_go MIN: prints the newest Go toolchain on this machine (the preinstalled one under /usr/local/go,
# or whatever `go` is on PATH, e.g. Debian's older golang-go) if it is at least MIN (e.g. 1.26); else returns 1
# with a message. Debian's golang-go must not shadow a newer preinstalled Go.
litebox_go() {
  local min=${1:-1.0} best= best_version= candidate version
  for candidate in /usr/local/go/bin/go "$(command -v go 2>/dev/null)" /usr/lib/go/bin/go; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    version=$("$candidate" env GOVERSION 2>/dev/null) || continue
    version=${version#go}
    if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best_version" "$version" | sort -V | tail -1)" = "$version" ]; then
      best=$candidate best_version=$version
    fi
  done
  if [ -z "$best" ]; then echo "no Go toolchain found (the machine's /usr/local/go, or golang-go)" >&2; return 1; fi
  if [ "$(printf '%s\n%s\n' "$min" "$best_version" | sort -V | head -1)" != "$min" ]; then
    echo "Go $best_version ($best) is older than $min, which this needs" >&2
    return 1
  fi
  echo "$best"
}
