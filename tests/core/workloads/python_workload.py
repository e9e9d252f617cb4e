#!/usr/bin/env python3
"""A dynamically linked workload for the LiteBox core tests: CPython and glibc doing descriptor work the way
real programs do (subprocess, threads, socketpair, pipes, multiprocessing, selectors/epoll, tempfile).

Usage: python3 -I -S python_workload.py [WORKDIR]      prints a deterministic transcript; exit 0
       python3 -I -S python_workload.py --child TAG     (internal: what a subprocess sees)
Only what is the same natively and in a container is printed: no pids, paths, inode or descriptor numbers
that depend on the interpreter's start-up.
"""
import os
import sys



def _fds():
    """open descriptors, without the one listing /proc/self/fd"""
    out = []
    for x in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink("/proc/self/fd/" + x)
        except OSError:
            continue  # the listing's own descriptor, closed by now
        if target.startswith("/proc/") and target.endswith("/fd"):
            continue
        out.append(int(x))
    return sorted(out)


def child(tag):
    std = [fd for fd in _fds() if fd <= 2]
    extra = [fd for fd in _fds() if fd > 2]
    print(f"child {tag}: std fds {std}, {len(extra)} other(s)")
    data = sys.stdin.read() if tag == "stdin" else ""
    if data:
        print(f"child {tag}: read {data.strip()!r}")
    return 0


def main():
    import selectors
    import socket
    import subprocess
    import tempfile
    import threading
    import multiprocessing as mp

    work = sys.argv[1] if len(sys.argv) > 1 else "/tmp"
    start = _fds()
    print(f"start: std fds {[fd for fd in start if fd <= 2]}, {len([fd for fd in start if fd > 2])} other(s)")
    me = [sys.executable, "-I", "-S", os.path.abspath(__file__)]

    print("== subprocess")
    r = subprocess.run(["/bin/true"])
    print(f"/bin/true: {r.returncode}")
    r = subprocess.run(["/bin/sh", "-c", "exit 7"])
    print(f"sh -c 'exit 7': {r.returncode}")
    r = subprocess.run(me + ["--child", "plain"], capture_output=True, text=True)
    print(r.stdout.strip(), f"(exit {r.returncode})")
    r = subprocess.run(me + ["--child", "stdin"], input="fed through a pipe\n", capture_output=True, text=True)
    print(r.stdout.strip().replace("\n", " | "), f"(exit {r.returncode})")
    rd, wr = os.pipe()
    r = subprocess.run(me + ["--child", "pass_fds"], pass_fds=(wr,), capture_output=True, text=True)
    os.close(wr)
    os.close(rd)
    print(r.stdout.strip(), f"(exit {r.returncode})")
    p = subprocess.Popen(["/bin/cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = p.communicate(b"x" * 200000)
    print(f"cat of 200000 bytes: {len(out)} bytes back, exit {p.returncode}")
    try:
        subprocess.run(["/nonexistent/litebox"])
    except FileNotFoundError as e:
        print(f"missing program: FileNotFoundError errno {e.errno}")

    print("== threads")
    results = [None] * 8
    lock = threading.Lock()
    opened = []

    def work_thread(i):
        n = 0
        for _ in range(200):
            a, b = os.pipe()
            os.write(b, b"t")
            n += len(os.read(a, 1))
            fd = os.dup(a)
            os.close(a)
            os.close(b)
            os.close(fd)
        with lock:
            opened.append(n)
        results[i] = n

    ts = [threading.Thread(target=work_thread, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(f"8 threads x 200 pipe/dup/close: {sum(results)} bytes, {len(opened)} finished")

    print("== socketpair and pipes")
    s1, s2 = socket.socketpair()
    s1.sendall(b"over a socketpair")
    print(s2.recv(100).decode())
    f = s2.makefile("rb")
    s1.sendall(b"line via makefile\n")
    print(f.readline().decode().strip())
    f.close()
    s1.close()
    print(f"recv after the peer closed: {s2.recv(10)!r}")
    s2.close()
    rd, wr = os.pipe2(os.O_CLOEXEC) if hasattr(os, "pipe2") else os.pipe()
    print(f"pipe inheritable: {os.get_inheritable(rd)} {os.get_inheritable(wr)}")
    os.set_inheritable(wr, True)
    print(f"after set_inheritable: {os.get_inheritable(wr)}")
    os.write(wr, b"pipe data")
    os.close(wr)
    print(os.read(rd, 100).decode(), repr(os.read(rd, 100)))
    os.close(rd)
    try:
        os.close(rd)
    except OSError as e:
        print(f"close twice: errno {e.errno} ({os.strerror(e.errno)})")
    try:
        os.dup2(999, 998)
    except OSError as e:
        print(f"dup2 of a closed fd: errno {e.errno}")

    print("== selectors / epoll")
    sel = selectors.DefaultSelector()
    print(f"selector: {type(sel).__name__}")
    pairs = [socket.socketpair() for _ in range(4)]
    for i, (a, b) in enumerate(pairs):
        sel.register(a, selectors.EVENT_READ, i)
    for i in (1, 3):
        pairs[i][1].send(b"!")
    ready = sorted(key.data for key, _ in sel.select(timeout=5))
    print(f"ready: {ready}")
    for a, b in pairs:
        sel.unregister(a)
        a.close()
        b.close()
    sel.close()
    if hasattr(__import__("select"), "epoll"):
        import select
        ep = select.epoll()
        a, b = socket.socketpair()
        ep.register(a.fileno(), select.EPOLLIN)
        b.send(b"e")
        ev = ep.poll(5)
        print(f"epoll events: {len(ev)} EPOLLIN={bool(ev and ev[0][1] & select.EPOLLIN)}")
        ep.close()
        a.close()
        b.close()

    print("== tempfile")
    with tempfile.TemporaryDirectory(dir=work) as d:
        with tempfile.NamedTemporaryFile(dir=d, mode="w+", delete=False) as t:
            t.write("temporary\n")
            name = t.name
        with open(name) as t:
            print(f"read back: {t.read().strip()}")
        with tempfile.TemporaryFile(dir=d) as t:
            t.write(b"anonymous")
            t.seek(0)
            print(f"TemporaryFile: {t.read().decode()}")
        with open(os.path.join(d, "append"), "a") as t:
            t.write("1\n")
        with open(os.path.join(d, "append"), "a") as t:
            t.write("2\n")
        with open(os.path.join(d, "append")) as t:
            print(f"appended: {t.read().split()}")
    print(f"temporary directory removed: {not os.path.exists(d)}")

    print("== multiprocessing")
    ctx = mp.get_context("fork")
    with ctx.Pool(3) as pool:
        print(f"Pool.map: {pool.map(abs, [-1, -2, -3, -4, -5, -6])}")
    q = ctx.Queue()
    procs = [ctx.Process(target=q.put, args=(i * i,)) for i in range(4)]
    for p in procs:
        p.start()
    got = sorted(q.get(timeout=30) for _ in procs)
    for p in procs:
        p.join()
    print(f"Process + Queue: {got}, exit codes {[p.exitcode for p in procs]}")
    q.close()
    q.join_thread()
    parent, kid = ctx.Pipe()
    p = ctx.Process(target=lambda c: (c.send(("from", "child")), c.close()), args=(kid,))
    p.start()
    print(f"Pipe: {parent.recv()}")
    p.join()
    parent.close()
    kid.close()

    import gc
    gc.collect()
    end = _fds()
    # (how many descriptors multiprocessing keeps, sentinels and pipes of finished workers, depends on timing:
    # not printed)
    print(f"end: std fds {[fd for fd in end if fd <= 2]}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2]))
    sys.exit(main())
