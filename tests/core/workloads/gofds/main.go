// gofds: a Go workload for the LiteBox core tests (standard library only, built with CGO_ENABLED=0, so a
// static binary that runs unchanged in a busybox rootfs). Go makes its own system calls (no C library), keeps
// every descriptor close-on-exec, drives pipes and sockets through its epoll netpoller, forks with
// clone(CLONE_VM|CLONE_VFORK) and rearranges the child's descriptors with dup3, and preempts goroutines with
// SIGURG, so the core's calls are interrupted by signals all the time.
//
// Usage: gofds [DIR]   (DIR: where it makes its own files, default /tmp; a fresh subdirectory is made in it
//
//	and removed at the end, and its name is never printed)
//
// The transcript on stdout holds only what is the same natively and in a container: descriptor numbers,
// FD_CLOEXEC, errno names, data read back, counts. The number of SIGURG signals seen goes to stderr. It must
// start with exactly 0, 1 and 2 open. Exit 0, or 1 after a failure (also in the transcript).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

var failed bool

func say(format string, args ...interface{}) {
	// one write per line (os.Stdout is unbuffered)
	os.Stdout.WriteString(fmt.Sprintf(format, args...) + "\n")
}

func fail(format string, args ...interface{}) {
	failed = true
	say("FAIL "+format, args...)
}

var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.ENOENT: "ENOENT", syscall.EINTR: "EINTR", syscall.EBADF: "EBADF",
	syscall.EAGAIN: "EAGAIN", syscall.EACCES: "EACCES", syscall.EEXIST: "EEXIST", syscall.ENOTDIR: "ENOTDIR",
	syscall.EISDIR: "EISDIR", syscall.EINVAL: "EINVAL", syscall.EMFILE: "EMFILE", syscall.ENFILE: "ENFILE",
	syscall.EPIPE: "EPIPE", syscall.ELOOP: "ELOOP", syscall.ENOTSOCK: "ENOTSOCK", syscall.ECONNREFUSED: "ECONNREFUSED",
	syscall.EADDRINUSE: "EADDRINUSE", syscall.ENOSYS: "ENOSYS", syscall.ENXIO: "ENXIO",
}

// errname: the errno's name (or Go's own error text for errors that are not an errno, e.g. os.ErrClosed).
func errname(err error) string {
	if err == nil {
		return "ok"
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		if n, ok := errnoNames[e]; ok {
			return n
		}
		return "errno" + strconv.Itoa(int(e))
	}
	if errors.Is(err, os.ErrClosed) {
		return "ErrClosed"
	}
	if errors.Is(err, io.EOF) {
		return "EOF"
	}
	return "error: " + err.Error()
}

// fdOf: the descriptor behind f, without f.Fd() (which would put a pollable file into blocking mode).
func fdOf(f *os.File) int {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	rc.Control(func(u uintptr) { fd = int(u) })
	return fd
}

func fcntl(fd, cmd, arg int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), uintptr(cmd), uintptr(arg))
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// cloexec: F_GETFD of fd, or the errno's name.
func cloexec(fd int) string {
	r, err := fcntl(fd, syscall.F_GETFD, 0)
	if err != nil {
		return "-1 " + errname(err)
	}
	return strconv.Itoa(r)
}

// openFds: the sorted open descriptors, without the one listing /proc/self/fd.
func openFds() string {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return "open(/proc/self/fd) " + errname(err)
	}
	me := fdOf(d)
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return "readdir(/proc/self/fd) " + errname(err)
	}
	var fds []int
	for _, n := range names {
		if fd, err := strconv.Atoi(n); err == nil && fd != me {
			fds = append(fds, fd)
		}
	}
	sort.Ints(fds)
	parts := make([]string, len(fds))
	for i, fd := range fds {
		parts[i] = strconv.Itoa(fd)
	}
	return strings.Join(parts, " ")
}

// ------------------------------------------------------------------ files
func stepFiles(dir string) {
	say("## os.Create, os.Open, Close, dup")
	name := filepath.Join(dir, "created")
	f, err := os.Create(name)
	if err != nil {
		fail("os.Create: %s", errname(err))
		return
	}
	fd := fdOf(f)
	say("os.Create(created) fd %d cloexec=%s", fd, cloexec(fd))
	n, err := f.WriteString("hello from go\n")
	say("WriteString %d %s", n, errname(err))
	say("Close %s", errname(f.Close()))
	say("Close again %s", errname(f.Close()))
	say("fcntl(%d,F_GETFD) after Close = %s", fd, cloexec(fd))

	f, err = os.Open(name)
	if err != nil {
		fail("os.Open: %s", errname(err))
		return
	}
	fd = fdOf(f)
	data, err := io.ReadAll(f)
	say("os.Open(created) fd %d reads %q %s", fd, string(data), errname(err))

	_, err = os.Open(filepath.Join(dir, "missing"))
	say("os.Open(missing) %s", errname(err))
	_, err = os.OpenFile(name, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	say("os.OpenFile(created,O_DIRECTORY) %s", errname(err))
	_, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0600)
	say("os.OpenFile(created,O_CREATE|O_EXCL) %s", errname(err))

	d, err := syscall.Dup(fd)
	say("syscall.Dup(%d) = %d %s cloexec=%s", fd, d, errname(err), cloexec(d))
	err = syscall.Dup3(fd, 20, 0)
	say("syscall.Dup3(%d,20,0) %s cloexec=%s", fd, errname(err), cloexec(20))
	err = syscall.Dup3(fd, 21, syscall.O_CLOEXEC)
	say("syscall.Dup3(%d,21,O_CLOEXEC) %s cloexec=%s", fd, errname(err), cloexec(21))
	err = syscall.Dup3(fd, fd, 0)
	say("syscall.Dup3(%d,%d,0) %s", fd, fd, errname(err))
	err = syscall.Dup3(99, 22, 0)
	say("syscall.Dup3(99,22,0) %s", errname(err))
	c, err := fcntl(fd, syscall.F_DUPFD_CLOEXEC, 30)
	say("fcntl(%d,F_DUPFD_CLOEXEC,30) = %d %s cloexec=%s", fd, c, errname(err), cloexec(c))
	_, err = fcntl(c, syscall.F_SETFD, 0)
	say("fcntl(%d,F_SETFD,0) %s cloexec=%s", c, errname(err), cloexec(c))
	buf := make([]byte, 5)
	rn, err := syscall.Pread(20, buf, 0)
	say("pread(20) %d %s %q", rn, errname(err), string(buf[:rn]))
	for _, x := range []int{d, 20, 21, c} {
		if err := syscall.Close(x); err != nil {
			fail("close(%d) %s", x, errname(err))
		}
	}
	say("close(99) %s", errname(syscall.Close(99)))
	say("Close %s", errname(f.Close()))

	// the directory: os.ReadDir opens, reads and closes it
	os.WriteFile(filepath.Join(dir, "second"), []byte("2"), 0600)
	entries, err := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	say("os.ReadDir(DIR) %s %v", errname(err), names)
	say("open now: %s", openFds())
}

// ------------------------------------------------------------------ pipes
func stepPipes() {
	say("## os.Pipe with goroutines")
	r, w, err := os.Pipe()
	if err != nil {
		fail("os.Pipe: %s", errname(err))
		return
	}
	say("os.Pipe() = %d %d cloexec=%s,%s", fdOf(r), fdOf(w), cloexec(fdOf(r)), cloexec(fdOf(w)))
	// 4 writers into one pipe (lines shorter than PIPE_BUF: never torn), the main goroutine reads to EOF
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if _, err := fmt.Fprintf(w, "writer %d line %d\n", g, i); err != nil {
					fail("writer %d: %s", g, errname(err))
					return
				}
			}
		}(g)
	}
	go func() { wg.Wait(); w.Close() }()
	counts := map[string]int{}
	sc := bufio.NewScanner(r)
	lines := 0
	for sc.Scan() {
		lines++
		counts[strings.Fields(sc.Text())[1]]++
	}
	say("read %d lines to EOF (%s), per writer %d %d %d %d", lines, errname(sc.Err()), counts["0"], counts["1"],
		counts["2"], counts["3"])
	say("Close(read end) %s", errname(r.Close()))
	_, err = r.Read(make([]byte, 1))
	say("Read after Close %s", errname(err))

	// ping-pong between two goroutines over two pipes: each side blocks in the netpoller
	r1, w1, _ := os.Pipe()
	r2, w2, _ := os.Pipe()
	done := make(chan int)
	go func() {
		b := make([]byte, 1)
		n := 0
		for {
			if _, err := r1.Read(b); err != nil {
				break
			}
			b[0]++
			w2.Write(b)
			n++
		}
		w2.Close()
		done <- n
	}()
	b := []byte{0}
	for i := 0; i < 1000; i++ {
		w1.Write(b)
		if _, err := io.ReadFull(r2, b); err != nil {
			fail("ping-pong: %s", errname(err))
			break
		}
	}
	w1.Close()
	rounds := <-done
	say("ping-pong: %d rounds, last byte %d", rounds, b[0])
	r1.Close()
	r2.Close()

	// a write to a pipe whose read end is closed: EPIPE (Go ignores SIGPIPE for descriptors other than 1, 2)
	r3, w3, _ := os.Pipe()
	r3.Close()
	_, err = w3.Write([]byte("x"))
	say("Write with the read end closed %s", errname(err))
	w3.Close()
	say("open now: %s", openFds())
}

// ------------------------------------------------------------------ socketpair, SCM_RIGHTS
func stepSocketpair(dir string) {
	say("## syscall.Socketpair, net.FileConn, SCM_RIGHTS")
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		fail("socketpair: %s", errname(err))
		return
	}
	say("socketpair(AF_UNIX,SOCK_STREAM|SOCK_CLOEXEC) = %v cloexec=%s,%s", fds, cloexec(fds[0]), cloexec(fds[1]))
	f0 := os.NewFile(uintptr(fds[0]), "sp0")
	c0, err := net.FileConn(f0)
	say("net.FileConn(%d) %s", fds[0], errname(err))
	say("Close(%d) %s", fds[0], errname(f0.Close()))
	go func() {
		// the echo side: upper-case whatever comes, until EOF
		b := make([]byte, 64)
		for {
			n, err := c0.Read(b)
			if err != nil {
				break
			}
			c0.Write(bytes.ToUpper(b[:n]))
		}
		c0.Close()
	}()
	f1 := os.NewFile(uintptr(fds[1]), "sp1")
	got := make([]byte, 64)
	for _, m := range []string{"first", "second", "third"} {
		f1.Write([]byte(m))
		n, err := f1.Read(got)
		say("socketpair echo %q -> %q %s", m, string(got[:n]), errname(err))
	}
	syscall.Shutdown(fds[1], syscall.SHUT_WR)
	n, err := f1.Read(got)
	say("after shutdown(SHUT_WR): Read %d %s", n, errname(err))
	f1.Close()

	// SCM_RIGHTS over a datagram pair: the received number is the lowest free one
	dg, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		fail("socketpair(SOCK_DGRAM): %s", errname(err))
		return
	}
	say("socketpair(AF_UNIX,SOCK_DGRAM|SOCK_CLOEXEC) = %v", dg)
	name := filepath.Join(dir, "passed")
	os.WriteFile(name, []byte("passed over SCM_RIGHTS"), 0600)
	pf, _ := os.Open(name)
	err = syscall.Sendmsg(dg[0], []byte("fd"), syscall.UnixRights(fdOf(pf)), nil, 0)
	say("sendmsg(%d, SCM_RIGHTS [%d]) %s", dg[0], fdOf(pf), errname(err))
	pf.Close()
	oob := make([]byte, syscall.CmsgSpace(4))
	_, oobn, _, _, err := syscall.Recvmsg(dg[1], make([]byte, 8), oob, 0)
	say("recvmsg(%d) %s", dg[1], errname(err))
	if err == nil {
		msgs, _ := syscall.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			rights, _ := syscall.ParseUnixRights(&m)
			for _, rfd := range rights {
				b := make([]byte, 32)
				rn, _ := syscall.Pread(rfd, b, 0)
				say("received fd %d cloexec=%s reads %q", rfd, cloexec(rfd), string(b[:rn]))
				say("close(%d) %s", rfd, errname(syscall.Close(rfd)))
			}
		}
	}
	syscall.Close(dg[0])
	syscall.Close(dg[1])
	say("open now: %s", openFds())
}

// ------------------------------------------------------------------ os/exec
func stepExec(dir string) {
	say("## os/exec")
	out, err := exec.Command("/bin/sh", "-c", "echo child; ls /proc/self/fd").Output()
	say("sh -c 'echo child; ls /proc/self/fd': %s [%s]", errname(err), strings.Join(strings.Fields(string(out)), " "))

	// ExtraFiles: the child gets the file at 3 (Go's child rearranges its descriptors with dup3)
	name := filepath.Join(dir, "extra")
	os.WriteFile(name, []byte("extra file"), 0600)
	ef, _ := os.Open(name)
	cmd := exec.Command("/bin/sh", "-c", "echo child; cat <&3; echo; ls /proc/self/fd")
	cmd.ExtraFiles = []*os.File{ef}
	out, err = cmd.Output()
	say("with ExtraFiles: %s [%s]", errname(err), strings.Join(strings.Fields(string(out)), " "))
	ef.Close()

	// stdin from a pipe written by a goroutine, stdout through another pipe
	cmd = exec.Command("/bin/sh", "-c", "read a; read b; echo \"got $a $b\"; exit 3")
	in, _ := cmd.StdinPipe()
	go func() {
		io.WriteString(in, "one\ntwo\n")
		in.Close()
	}()
	out, err = cmd.Output()
	code := -1
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	say("stdin pipe: exit %d [%s]", code, strings.TrimSpace(string(out)))

	_, err = exec.Command(filepath.Join(dir, "nonexistent")).Output()
	say("exec of a missing program: %s", errname(err))
	say("open now: %s", openFds())
}

// ------------------------------------------------------------------ goroutines sharing the table
const maxFd = 4096

var owner [maxFd]int32
var failures int32

func gfail(format string, args ...interface{}) {
	if atomic.AddInt32(&failures, 1) <= 20 {
		say("FAIL "+format, args...)
	}
}

func claim(g, fd int, what string) bool {
	if fd < 0 || fd >= maxFd {
		gfail("goroutine %d: %s gave fd %d", g, what, fd)
		return false
	}
	if !atomic.CompareAndSwapInt32(&owner[fd], 0, int32(g+1)) {
		gfail("goroutine %d: %s gave fd %d, owned by goroutine %d", g, what, fd, atomic.LoadInt32(&owner[fd])-1)
		return false
	}
	return true
}

func release(fd int) { atomic.StoreInt32(&owner[fd], 0) }

var sink uint64

// spin: a loop without calls, so that only an asynchronous preemption (SIGURG) can stop it
func spin(n int) {
	x := uint64(n)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	atomic.AddUint64(&sink, x)
}

func stepGoroutines(dir string) {
	const workers, iterations = 16, 300
	say("## %d goroutines opening, duping, closing", workers)
	shared := filepath.Join(dir, "shared")
	os.WriteFile(shared, []byte("shared"), 0600)
	stop := make(chan struct{})
	gcDone := make(chan int)
	go func() {
		// collections stop the world and scan stacks: more preemption requests
		n := 0
		for {
			select {
			case <-stop:
				gcDone <- n
				return
			default:
				runtime.GC()
				n++
			}
		}
	}()
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			private := 300 + g
			for i := 0; i < iterations; i++ {
				name := shared
				if i%2 == 1 {
					name = os.DevNull
				}
				f, err := os.Open(name)
				if err != nil {
					gfail("goroutine %d: open %s", g, errname(err))
					continue
				}
				fd := fdOf(f)
				if !claim(g, fd, "os.Open") {
					f.Close()
					continue
				}
				if c := cloexec(fd); c != "1" {
					gfail("goroutine %d: F_GETFD of os.Open's fd %d = %s", g, fd, c)
				}
				if d, err := syscall.Dup(fd); err != nil {
					gfail("goroutine %d: dup %s", g, errname(err))
				} else if claim(g, d, "dup") {
					if c := cloexec(d); c != "0" {
						gfail("goroutine %d: F_GETFD of dup %d = %s", g, d, c)
					}
					release(d)
					if err := syscall.Close(d); err != nil {
						gfail("goroutine %d: close(dup %d) %s", g, d, errname(err))
					}
				}
				if err := syscall.Dup3(fd, private, syscall.O_CLOEXEC); err != nil {
					gfail("goroutine %d: dup3 onto %d %s", g, private, errname(err))
				} else {
					if c := cloexec(private); c != "1" {
						gfail("goroutine %d: F_GETFD of %d after dup3(O_CLOEXEC) = %s", g, private, c)
					}
					if err := syscall.Close(private); err != nil {
						gfail("goroutine %d: close(%d) %s", g, private, errname(err))
					}
				}
				if c, err := fcntl(fd, syscall.F_DUPFD_CLOEXEC, 3); err != nil {
					gfail("goroutine %d: F_DUPFD_CLOEXEC %s", g, errname(err))
				} else if claim(g, c, "F_DUPFD_CLOEXEC") {
					release(c)
					syscall.Close(c)
				}
				if i%10 == 0 {
					r, w, err := os.Pipe()
					if err != nil {
						gfail("goroutine %d: pipe %s", g, errname(err))
					} else {
						rfd, wfd := fdOf(r), fdOf(w)
						okr, okw := claim(g, rfd, "pipe"), claim(g, wfd, "pipe")
						w.Write([]byte{byte(g)})
						b := []byte{0xff}
						if _, err := r.Read(b); err != nil || b[0] != byte(g) {
							gfail("goroutine %d: pipe read %s %d", g, errname(err), b[0])
						}
						if okr {
							release(rfd)
						}
						if okw {
							release(wfd)
						}
						r.Close()
						w.Close()
					}
				}
				spin(20000)
				release(fd)
				if err := f.Close(); err != nil {
					gfail("goroutine %d: Close %s", g, errname(err))
				}
			}
		}(g)
	}
	wg.Wait()
	close(stop)
	gcs := <-gcDone
	fmt.Fprintf(os.Stderr, "gofds: %d collections during the goroutine step\n", gcs)
	if f := atomic.LoadInt32(&failures); f != 0 {
		failed = true
		say("goroutines: %d failure(s)", f)
	} else {
		say("goroutines: %d x %d iterations ok", workers, iterations)
	}
	say("open now: %s", openFds())
}

// ------------------------------------------------------------------ net (epoll)
func stepNet(dir string) {
	say("## net: unix listener and dialers in one process (epoll)")
	sock := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		fail("net.Listen(unix): %s", errname(err))
		return
	}
	var served sync.WaitGroup
	var accepted, closeErrors int32
	var firstCloseError atomic.Value
	served.Add(1)
	go func() {
		defer served.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			atomic.AddInt32(&accepted, 1)
			served.Add(1)
			go func() {
				defer served.Done()
				io.Copy(c, c)
				if err := c.Close(); err != nil {
					atomic.AddInt32(&closeErrors, 1)
					firstCloseError.CompareAndSwap(nil, errname(err))
				}
			}()
		}
	}()
	c, err := net.Dial("unix", sock)
	if err != nil {
		fail("net.Dial(unix): %s", errname(err))
	} else {
		io.WriteString(c, "hello over a unix socket\n")
		line, err := bufio.NewReader(c).ReadString('\n')
		say("echo: %q %s", line, errname(err))
		c.Close()
	}
	const clients, messages = 8, 50
	var wg sync.WaitGroup
	var okCount int32
	for k := 0; k < clients; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			c, err := net.Dial("unix", sock)
			if err != nil {
				gfail("client %d: dial %s", k, errname(err))
				return
			}
			defer c.Close()
			rd := bufio.NewReader(c)
			for m := 0; m < messages; m++ {
				msg := fmt.Sprintf("client %d message %d\n", k, m)
				io.WriteString(c, msg)
				got, err := rd.ReadString('\n')
				if err != nil || got != msg {
					gfail("client %d: sent %q, got %q %s", k, msg, got, errname(err))
					return
				}
				atomic.AddInt32(&okCount, 1)
			}
		}(k)
	}
	wg.Wait()
	say("%d clients x %d messages: %d echoed", clients, messages, atomic.LoadInt32(&okCount))
	say("listener Close %s", errname(ln.Close()))
	served.Wait()
	first := ""
	if e, ok := firstCloseError.Load().(string); ok {
		first = " (first: " + e + ")"
	}
	say("server side: %d connections accepted, %d Close errors%s", atomic.LoadInt32(&accepted),
		atomic.LoadInt32(&closeErrors), first)
	_, err = net.Dial("unix", sock)
	say("dial after Close %s", errname(err))
	say("open now: %s", openFds())
}

func main() {
	base := "/tmp"
	if len(os.Args) >= 2 {
		base = os.Args[1]
	}
	var urgs int64
	urg := make(chan os.Signal, 64)
	signal.Notify(urg, syscall.SIGURG)
	go func() {
		for range urg {
			atomic.AddInt64(&urgs, 1)
		}
	}()
	say("at start: %s", openFds())
	dir, err := os.MkdirTemp(base, "gofds.")
	if err != nil {
		say("MkdirTemp in %s: %s", base, errname(err))
		os.Exit(1)
	}
	stepFiles(dir)
	stepPipes()
	stepSocketpair(dir)
	stepExec(dir)
	stepGoroutines(dir)
	stepNet(dir)
	os.RemoveAll(dir)
	say("at end: %s", openFds())
	fmt.Fprintf(os.Stderr, "gofds: SIGURG delivered %d times\n", atomic.LoadInt64(&urgs))
	if failed {
		os.Exit(1)
	}
}
