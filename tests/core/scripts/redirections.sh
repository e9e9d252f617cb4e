# busybox sh: redirections, exec'd descriptors, here-documents, /dev/fd/N. Usage: sh redirections.sh WORKDIR.
# shellcheck shell=sh disable=SC2012,SC2216,SC2018,SC2019,SC2030,SC2031 # ls of /proc/self/fd, a-z, subshell variables: the point
set -u
w=$(mktemp -d "${1:-/tmp}/redir.XXXXXX") || exit 1
cd "$w" || exit 1
echo "== > >> < 2>&1"
echo first > f
echo second >> f
cat < f
ls /nonexistent-litebox > out 2>&1; echo "status $?"
sed 's/:.*//' out
( echo to-stdout; echo to-stderr >&2 ) 2>&1 >/dev/null | cat
( echo to-stdout; echo to-stderr >&2 ) > both 2>&1; sort both | tr '\n' ' '; echo
echo noclobber-free > f; cat f
: > empty; wc -c < empty
echo "== exec 3>file"
exec 3>fd3
echo "x via 3" >&3
echo "y via 3" >&3
ls /proc/self/fd | tr '\n' ' '; echo
exec 3>&-
cat fd3
ls /proc/self/fd | tr '\n' ' '; echo
exec 4<fd3
read -r line <&4; echo "read from 4: $line"
read -r line <&4; echo "read from 4: $line"
exec 4<&-
exec 5<>rw
echo "read-write" >&5
exec 5>&-
cat rw
exec 6>&1
echo "via a copy of stdout" >&6
exec 6>&-
echo "== /dev/fd/N"
exec 7>devfd
echo "written to /dev/fd/7" > /dev/fd/7
exec 7>&-
cat devfd
exec 8<devfd
cat /dev/fd/8
exec 8<&-
echo "stdin as /dev/fd/0" | cat /dev/fd/0
( echo "/dev/stdout works" > /dev/stdout ) | cat
( echo "/dev/stderr works" > /dev/stderr ) 2>&1 | cat
echo "== here-documents"
cat <<END
here-doc line 1
  indented $((1 + 2))
END
cat <<'END'
quoted $HOME is not expanded
END
tr a-z A-Z <<END | cat
upper case through a pipe
END
while read -r a b; do echo "loop: $b $a"; done <<END
1 one
2 two
END
echo "== subshells"
x=outer
( x=inner; echo "in subshell: $x"; exec 3>sub; echo "sub fd3" >&3 )
echo "after subshell: $x"
ls /proc/self/fd | tr '\n' ' '; echo
cat sub
v=$(echo "command substitution"; echo err >&2 2>/dev/null); echo "$v"
( ( ( echo nested ) ) )
sh -c 'echo "child sh: $0 $1"' zero one
sh -c 'exec 3>&1; echo "child sh writes to 3" >&3'
echo "== descriptors of a fresh child"
ls /proc/self/fd | tr '\n' ' '; echo
sh -c 'ls /proc/self/fd' | tr '\n' ' '; echo
exec 9>keep
sh -c 'ls /proc/self/fd' | tr '\n' ' '; echo
exec 9>&-
cd / && rm -rf "$w"
echo "== done"
