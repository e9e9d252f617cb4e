# busybox sh pipelines under a signal storm and two CPU hogs: sh SIGSTORM.SH PROGRAM_DIR.
# busybox sh's SIGCHLD handler lacks SA_RESTART: a pipe2, dup2, close, execve or wait4 that the core stopped and
# that a signal reached before the core received it would fail with EINTR ("can't create pipe: Interrupted
# system call"), and a close that failed so would leave a pipe's write end open and the pipeline waiting for
# EOF. Natively none of that happens; the transcript is the same in a container and on the host, and the
# driver's timeout catches a hang.
d=$1
"$d"/hog 20 &
h1=$!
"$d"/hog 20 &
h2=$!
"$d"/sigstorm $$ 17 20 20 &
storm=$!
i=0
while [ $i -lt 200 ]; do
  out=$(echo abc | cat | cat)
  [ "$out" = abc ] || { echo "pipeline $i: got [$out]"; break; }
  n=$(echo x | cat | wc -c)
  [ "$n" = 2 ] || { echo "pipeline $i: wc counted [$n]"; break; }
  i=$((i + 1))
done
kill $storm $h1 $h2 2>/dev/null
wait
echo "pipelines under the storm: $i of 200"
