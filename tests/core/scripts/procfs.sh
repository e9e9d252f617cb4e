# busybox sh: paths through procfs's links to the caller (self, thread-self, and the top-level net and mounts,
# which are links to self/net and self/mounts), absolute and relative to /proc. procfs resolves them for the
# opener: under the core the opener is the shim, which must make them name the caller. Usage: sh procfs.sh WORKDIR.
# shellcheck shell=sh
set -u
echo "== absolute"
head -n 2 /proc/net/dev
test -s /proc/mounts && echo "mounts readable"
grep -c . /proc/self/mounts > /dev/null && echo "self/mounts readable"
head -c 0 /proc/thread-self/stat && echo "thread-self readable"
read -r pid rest < /proc/self/stat; [ "$pid" = "$$" ] && echo "self/stat is ours"
echo "== relative to /proc"
cd /proc || exit 1
head -n 2 net/dev
test -s mounts && echo "mounts readable"
read -r pid rest < self/stat; [ "$pid" = "$$" ] && echo "self/stat is ours"
cd net && head -n 1 dev
