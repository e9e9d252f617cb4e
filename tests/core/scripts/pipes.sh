# busybox sh: pipes and what flows through them. Usage: sh pipes.sh WORKDIR. Deterministic transcript.
# shellcheck shell=sh disable=SC2012,SC2216 # ls of /proc/self/fd is the point
set -u
w=$(mktemp -d "${1:-/tmp}/pipes.XXXXXX") || exit 1
cd "$w" || exit 1
echo "== pipes"
echo "one two three" | tr ' ' '\n' | sort -r | tr '\n' ' '; echo
printf 'a\nb\nc\n' | wc -l
echo "piped into cat /dev/stdin" | cat /dev/stdin
echo "piped into cat -" | cat -
seq 1 2000 | tail -n 1
seq 1 100000 | md5sum | cut -d' ' -f1
head -c 300000 /dev/zero | wc -c
echo "exit status of a pipe: $(false | true; echo $?) $(true | false; echo $?)"
echo "== pipes and descriptors"
echo x | ls /proc/self/fd | tr '\n' ' '; echo
ls /proc/self/fd | cat | tr '\n' ' '; echo
echo "== pipelines of subshells"
( echo left; echo left2 ) | ( read -r a; read -r b; echo "right got $a $b" )
{ echo brace1; echo brace2; } | sed 's/^/sed: /'
echo "== a FIFO"
mkfifo fifo
( echo "through the fifo" > fifo ) &
cat fifo
wait
echo "== a long pipeline"
p="echo 1"
for i in 2 3 4 5 6 7 8; do p="$p | sed 's/\$/+$i/'"; done
eval "$p"
echo "== xargs and command substitution"
printf 'x\ny\nz\n' | xargs echo args:
n=$(printf '%s\n' 1 2 3 | while read -r l; do echo "$l"; done | wc -l); echo "lines $n"
cd / && rm -rf "$w"
echo "== done"
