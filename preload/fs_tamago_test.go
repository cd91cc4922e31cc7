//go:build tamago

package preload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"
)

// The in-memory file system of GOOS=tamago (syscall/fs_tamago.go), run in
// the guest by make std-test / qemu/stdtest.TestQuick.

func TestMemFSErrors(t *testing.T) {
	dir := t.TempDir()
	if !filepath.IsAbs(dir) || filepath.Dir(filepath.Dir(dir)) != "/tmp" && filepath.Dir(dir) != "/tmp" {
		t.Errorf("TempDir %q is not under /tmp", dir)
	}
	p := filepath.Join(dir, "f")
	check := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", what, err, want)
		}
	}
	_, err := os.Open(filepath.Join(dir, "missing"))
	check("open missing", err, fs.ErrNotExist)
	check("open missing (errno)", err, syscall.ENOENT)
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	check("O_EXCL on existing", err, fs.ErrExist)
	_, err = os.Open(filepath.Join(p, "x"))
	check("path through a file", err, syscall.ENOTDIR)
	_, err = os.OpenFile(dir, os.O_WRONLY, 0)
	check("write-open a directory", err, syscall.EISDIR)
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	check("mkdir existing", os.Mkdir(filepath.Join(dir, "d"), 0o755), fs.ErrExist)
	if err := os.WriteFile(filepath.Join(dir, "d", "g"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	check("rmdir non-empty", syscall.Rmdir(filepath.Join(dir, "d")), syscall.ENOTEMPTY)
	check("unlink a directory", syscall.Unlink(filepath.Join(dir, "d")), syscall.EISDIR)
	_, err = syscall.Read(99, make([]byte, 1))
	check("read bad fd", err, syscall.EBADF)
	ro := filepath.Join(dir, "ro")
	if err := os.WriteFile(ro, []byte("x"), 0o444); err != nil {
		t.Fatal(err)
	}
	_, err = os.OpenFile(ro, os.O_WRONLY, 0)
	check("write-open a read-only file", err, fs.ErrPermission)
	check("write-open a read-only file (errno)", err, syscall.EACCES)
	if err := os.RemoveAll(filepath.Join(dir, "d")); err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(dir, "d"))
	check("stat removed", err, fs.ErrNotExist)
}

func TestMemFSFileOps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("ab"), 12); err != nil { // a hole of zeros
		t.Fatal(err)
	}
	b := make([]byte, 4)
	if _, err := f.ReadAt(b, 8); err != nil || string(b) != "89\x00\x00" {
		t.Errorf("ReadAt = %q, %v", b, err)
	}
	if off, err := f.Seek(-2, io.SeekEnd); err != nil || off != 12 {
		t.Errorf("Seek = %d, %v", off, err)
	}
	if err := f.Truncate(5); err != nil {
		t.Fatal(err)
	}
	// No umask: os.Create's 0666 is the file's mode.
	st, err := f.Stat()
	if err != nil || st.Size() != 5 || st.Mode() != 0o666 {
		t.Errorf("Stat = %v %v, %v", st.Size(), st.Mode(), err)
	}
	f.Close()
	a, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("XY"))
	a.Close()
	if got, _ := os.ReadFile(p); string(got) != "01234XY" {
		t.Errorf("after append: %q", got)
	}
	if err := os.WriteFile(p, []byte("new"), 0o600); err != nil { // O_TRUNC
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != "new" {
		t.Errorf("after truncate-write: %q", got)
	}
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode() != 0o640 {
		t.Errorf("mode after chmod %v", st.Mode())
	}
	q := filepath.Join(dir, "sub", "g")
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	if err := os.Rename(p, q); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old name after rename: %v", err)
	}
	if err := os.Chdir(filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir("/")
	if wd, _ := os.Getwd(); wd != filepath.Join(dir, "sub") {
		t.Errorf("Getwd = %q", wd)
	}
	if got, _ := os.ReadFile("g"); string(got) != "new" {
		t.Errorf("relative read after rename: %q", got)
	}
	td, err := os.MkdirTemp("", "x-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(td)
	tf, err := os.CreateTemp(td, "y-*.txt")
	if err != nil {
		t.Fatal(err)
	}
	tf.Close()
	es, err := os.ReadDir(td)
	if err != nil || len(es) != 1 || es[0].Name() != filepath.Base(tf.Name()) {
		t.Errorf("ReadDir = %v, %v", es, err)
	}
}

// TestMemFSTestFS runs testing/fstest's checks over a preloaded tree.
// Symbolic links resolve as on Unix: Lstat sees the link, Stat its
// target, ".." after a link is the target's parent, a cycle is ELOOP.
func TestMemFSSymlinks(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "f"), []byte("in a"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "l")
	if err := os.Symlink("a/b", link); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(link); err != nil || got != "a/b" {
		t.Errorf("Readlink = %q, %v; want a/b", got, err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 || fi.Size() != 3 {
		t.Errorf("Lstat = %v, %v; want a symbolic link of size 3", fi, err)
	}
	if fi, err := os.Stat(link); err != nil || !fi.IsDir() {
		t.Errorf("Stat = %v, %v; want the directory a/b", fi, err)
	}
	// l/../f is a/b/../f = a/f, not (lexically) f.
	if b, err := os.ReadFile(link + "/../f"); err != nil || string(b) != "in a" {
		t.Errorf("ReadFile(l/../f) = %q, %v; want \"in a\"", b, err)
	}
	if _, err := os.Readlink(filepath.Join(dir, "a")); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Readlink(directory) = %v, want EINVAL", err)
	}
	if err := os.Symlink("x", link); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Symlink over an existing name = %v, want EEXIST", err)
	}
	cyc := filepath.Join(dir, "c")
	if err := os.Symlink("c", cyc); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cyc); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("Stat(cycle) = %v, want ELOOP", err)
	}
	// A missing directory before "..": ENOENT, not a lexical shortcut.
	if _, err := os.Stat(filepath.Join(dir, "missing") + "/../a"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(missing/../a) = %v, want ENOENT", err)
	}
	// Removing a link removes the link, not its target.
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "b")); err != nil {
		t.Errorf("target after removing the link: %v", err)
	}
}

// /dev/null: a character device, empty to read, discarding writes.
func TestMemFSDevNull(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_RDWR|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n, err := f.Write([]byte("gone")); n != 4 || err != nil {
		t.Errorf("Write = %d, %v; want 4, nil", n, err)
	}
	if n, err := f.Read(make([]byte, 4)); n != 0 || err != io.EOF {
		t.Errorf("Read = %d, %v; want 0, EOF", n, err)
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&fs.ModeCharDevice == 0 || fi.Size() != 0 {
		t.Errorf("Stat = %v, %v; want an empty character device", fi, err)
	}
}

// os.Pipe: a read waits for a write, EOF once the write end is closed,
// EPIPE once the read end is, no seeking; a read blocked when its end is
// closed returns ErrClosed.
func TestMemFSPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	go func() {
		b, err := io.ReadAll(r)
		if err != nil {
			t.Error(err)
		}
		got <- string(b)
	}()
	time.Sleep(10 * time.Millisecond)                       // the reader blocks first
	big := bytes.Repeat([]byte("0123456789abcdef"), 10<<10) // 160 KiB: more than the buffer
	if _, err := w.Write(big); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Seek(0, io.SeekStart); !errors.Is(err, syscall.ESPIPE) {
		t.Errorf("Seek on a pipe = %v, want ESPIPE", err)
	}
	w.Close()
	if s := <-got; s != string(big) {
		t.Errorf("read %d bytes, want the %d written", len(s), len(big))
	}
	r.Close()

	r, w, err = os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := w.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("Write with no reader = %v, want EPIPE", err)
	}
	w.Close()

	r, w, err = os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := r.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if err := r.Close(); err != nil {
		t.Error(err)
	}
	if err := <-done; !errors.Is(err, os.ErrClosed) {
		t.Errorf("Read blocked across Close = %v, want ErrClosed", err)
	}
	w.Close()
}

// Chtimes with a zero time leaves that time unchanged (UTIME_OMIT).
func TestMemFSChtimesOmit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mt := time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)
	if err := os.Chtimes(p, time.Time{}, mt); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2002, 2, 3, 4, 5, 6, 7, time.UTC)
	if err := os.Chtimes(p, at, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || !fi.ModTime().Equal(mt) {
		t.Errorf("ModTime = %v, %v; want %v", fi.ModTime(), err, mt)
	}
}

func TestMemFSTestFS(t *testing.T) {
	dir := t.TempDir()
	src := fstest.MapFS{
		"a.txt":         {Data: []byte("a")},
		"d/b.txt":       {Data: []byte("bb")},
		"d/e/c.txt":     {Data: bytes.Repeat([]byte("c"), 100000)},
		"d/empty/.keep": {Data: nil},
		"many/f000":     {Data: []byte("0")},
		"many/f001":     {Data: []byte("1")},
	}
	if err := os.CopyFS(dir, src); err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(os.DirFS(dir), "a.txt", "d/b.txt", "d/e/c.txt", "many/f000", "many/f001"); err != nil {
		t.Fatal(err)
	}
}

// TestMemFSConcurrent writes and reads files from many goroutines.
func TestMemFSConcurrent(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := filepath.Join(dir, fmt.Sprint(i))
			want := bytes.Repeat([]byte{byte(i)}, 10000+i)
			for j := 0; j < 20; j++ {
				if err := os.WriteFile(p, want, 0o644); err != nil {
					errs <- err
					return
				}
				got, err := os.ReadFile(p)
				if err != nil || !bytes.Equal(got, want) {
					errs <- fmt.Errorf("file %d round %d: %d bytes, %v", i, j, len(got), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	es, _ := os.ReadDir(dir)
	if len(es) != 16 {
		t.Errorf("%d files, want 16", len(es))
	}
}

// loopback is a network stack for net.SocketFunc: listeners by address,
// connections as in-memory pipes.
type loopback struct {
	mu        sync.Mutex
	listeners map[string]*pipeListener
}

type pipeListener struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}
func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *pipeListener) Addr() net.Addr { return l.addr }

func (s *loopback) socket(ctx context.Context, network string, family, sotype int, laddr, raddr net.Addr) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if raddr == nil {
		l := &pipeListener{addr: laddr, conns: make(chan net.Conn, 4), closed: make(chan struct{})}
		s.listeners[laddr.String()] = l
		return l, nil
	}
	l := s.listeners[raddr.String()]
	if l == nil {
		return nil, syscall.ECONNREFUSED
	}
	// net's TCP code reads the connection's addresses as *net.TCPAddr
	// (a real stack's are): the pipe ends get the listener's address and
	// a client address.
	client := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 40000 + len(l.conns)}
	a, b := net.Pipe()
	l.conns <- tcpConn{b, raddr, client}
	return tcpConn{a, client, raddr}, nil
}

// tcpConn is a pipe end with TCP addresses.
type tcpConn struct {
	net.Conn
	local, remote net.Addr
}

func (c tcpConn) LocalAddr() net.Addr  { return c.local }
func (c tcpConn) RemoteAddr() net.Addr { return c.remote }

func TestSocketFunc(t *testing.T) {
	s := &loopback{listeners: map[string]*pipeListener{}}
	net.SocketFunc = s.socket
	defer func() { net.SocketFunc = nil }()
	ln, err := net.Listen("tcp", "10.0.0.1:80")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got := ln.Addr().String(); got != "10.0.0.1:80" {
		t.Errorf("listener address %s", got)
	}
	accepted := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		accepted <- c.RemoteAddr().String()
		b := make([]byte, 5)
		if _, err := io.ReadFull(c, b); err != nil {
			done <- err
			return
		}
		_, err = c.Write(append([]byte("echo "), b...))
		done <- err
	}()
	c, err := net.DialTimeout("tcp", "10.0.0.1:80", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 10)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "echo hello" {
		t.Fatalf("read %q, %v", b, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, want := <-accepted, c.LocalAddr().String(); got != want || got != "10.0.0.2:40000" {
		t.Errorf("accepted connection from %s, dialer's address %s, want 10.0.0.2:40000", got, want)
	}
	if _, err := net.Dial("tcp", "10.0.0.2:80"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial without listener: %v, want ECONNREFUSED", err)
	}
}

// A nil dereference in Go code is a recoverable run-time panic (amd64:
// kernel.GoFaultPanic; arm64: the board's FaultPanic).
// A signal the program sends itself reaches os/signal (syscall.Kill on
// GOOS=tamago); other pids do not exist.
func TestSelfSignal(t *testing.T) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	defer signal.Stop(c)
	for i := 0; i < 3; i++ {
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatalf("Kill(self, SIGTERM) = %v, want nil", err)
		}
		select {
		case s := <-c:
			if s != syscall.SIGTERM {
				t.Fatalf("received %v, want %v", s, syscall.SIGTERM)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("signal %d not received", i)
		}
	}
	if err := syscall.Kill(os.Getpid()+1, syscall.SIGTERM); err != syscall.ESRCH {
		t.Errorf("Kill(other pid) = %v, want ESRCH", err)
	}
	if err := syscall.Kill(os.Getpid(), 65); err != syscall.EINVAL {
		t.Errorf("Kill(self, 65) = %v, want EINVAL", err)
	}
	if err := syscall.Kill(os.Getpid(), 0); err != nil {
		t.Errorf("Kill(self, 0) = %v, want nil", err)
	}
	select {
	case s := <-c:
		t.Errorf("spurious %v", s)
	default:
	}
}

func TestNilDereferencePanics(t *testing.T) {
	var p *int
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || err.Error() != "runtime error: invalid memory address or nil pointer dereference" {
			t.Errorf("recovered %v, want the nil dereference run-time error", r)
		}
	}()
	_ = *p
	t.Error("nil dereference did not panic")
}

func ExampleTar() {
	os.MkdirAll("/tmp/example", 0o755)
	os.WriteFile("/tmp/example/x.txt", []byte("preloaded\n"), 0o644)
	var b bytes.Buffer
	TarDirs(&b, Dir{Root: "/tmp/example", Prefix: "copy"})
	Tar(&b, "/tmp/example-out")
	s, _ := os.ReadFile("/tmp/example-out/copy/x.txt")
	fmt.Print(string(s))
	// Output: preloaded
}
