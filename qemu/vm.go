package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/pagesnap/pagesnap/qemu/gdb"
)

// ErrExited is wrapped by errors from operations that need a running QEMU
// after the process has gone.
var ErrExited = errors.New("qemu: process exited")

// ExitStatus describes how QEMU ended.
type ExitStatus struct {
	// Code is the exit code, or -1 if QEMU died from a signal.
	Code int
	// Signal is the signal that killed QEMU, or 0.
	Signal syscall.Signal
	// Killed is true when the harness killed QEMU (Kill, a failed test or a
	// timeout).
	Killed bool
}

// DebugExit decodes an isa-debug-exit status: a guest write of V exits with
// (V<<1)|1. ok is false for other exits (even codes, signals, kills).
func (s ExitStatus) DebugExit() (v int, ok bool) {
	if s.Signal != 0 || s.Killed || s.Code&1 == 0 {
		return 0, false
	}
	return s.Code >> 1, true
}

// String describes the exit: "exit status N", "signal …" or "killed by
// harness".
func (s ExitStatus) String() string {
	switch {
	case s.Killed:
		return "killed by harness"
	case s.Signal != 0:
		return "signal " + s.Signal.String()
	}
	return fmt.Sprintf("exit status %d", s.Code)
}

// VM is a running QEMU process.
type VM struct {
	// Config is the configuration the VM was started with.
	Config Config
	// Console is the guest's first serial port.
	Console *Console
	// Dir holds the control sockets.
	Dir string

	cmd     *exec.Cmd
	stdin   *os.File
	stderr  *tailBuffer
	done    chan struct{} // closed when the process has been reaped
	status  ExitStatus
	tmpDir  bool
	mu      sync.Mutex
	killed  bool
	qmp     *QMP
	gdbConn *gdb.Client
}

// Start launches QEMU for cfg. The process is killed when ctx is cancelled;
// callers must call Kill or Wait so that no QEMU outlives them. The serial
// console is streamed into vm.Console from the first byte.
func Start(ctx context.Context, cfg Config) (*VM, error) {
	bin, err := cfg.binary()
	if err != nil {
		return nil, err
	}
	if cfg.Kernel != "" {
		if _, err := os.Stat(cfg.Kernel); err != nil {
			return nil, fmt.Errorf("qemu: kernel image: %w", err)
		}
	}
	dir, tmp := cfg.Dir, false
	if dir == "" {
		// Unix socket paths are limited to 108 bytes: keep the directory
		// short instead of using a test's long TempDir.
		if dir, err = os.MkdirTemp("", "psq"); err != nil {
			return nil, err
		}
		tmp = true
	}
	args, err := cfg.Args(dir)
	if err != nil {
		if tmp {
			os.RemoveAll(dir)
		}
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	// Own process group so that Kill reaches every helper QEMU forks, and
	// SIGKILL on parent death so a crashed test leaves no orphan.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Our own pipe rather than cmd.StdinPipe: an *os.File pipe supports
	// write deadlines, so typing into a guest that never reads its console
	// fails with a timeout instead of blocking once the pipe is full.
	stdinR, stdin, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdin = stdinR
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	vm := &VM{
		Config: cfg,
		Dir:    dir,
		cmd:    cmd,
		stdin:  stdin,
		stderr: &tailBuffer{max: 64 << 10},
		done:   make(chan struct{}),
		tmpDir: tmp,
	}
	cmd.Stderr = vm.stderr
	vm.Console = newConsole(stdout, stdin, vm.done, vm.exitError)
	vm.Console.log = cfg.ConsoleLog
	err = cmd.Start()
	stdinR.Close() // QEMU holds its own copy
	if err != nil {
		stdin.Close()
		if tmp {
			os.RemoveAll(dir)
		}
		return nil, fmt.Errorf("qemu: start %s: %w", bin, err)
	}
	go vm.Console.read()
	go vm.reap()
	go func() {
		select {
		case <-ctx.Done():
			vm.Kill()
		case <-vm.done:
		}
	}()
	return vm, nil
}

// CommandLine returns the argv QEMU was started with.
func (vm *VM) CommandLine() []string { return vm.cmd.Args }

// Pid returns QEMU's process id.
func (vm *VM) Pid() int { return vm.cmd.Process.Pid }

func (vm *VM) reap() {
	err := vm.cmd.Wait()
	vm.mu.Lock()
	st := ExitStatus{Killed: vm.killed}
	vm.mu.Unlock()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws, _ := ee.Sys().(syscall.WaitStatus)
		st.Code = ws.ExitStatus()
		if ws.Signaled() {
			st.Signal = ws.Signal()
		}
	default:
		st.Code = -1
	}
	vm.status = st
	// The console reader closes on EOF of stdout; wait for it so that every
	// byte QEMU wrote is visible after Wait returns.
	vm.Console.waitEOF(2 * time.Second)
	vm.closeControl()
	vm.stdin.Close()
	if vm.tmpDir {
		os.RemoveAll(vm.Dir)
	}
	close(vm.done)
}

func (vm *VM) closeControl() {
	vm.mu.Lock()
	q, g := vm.qmp, vm.gdbConn
	vm.mu.Unlock()
	if q != nil {
		q.close()
	}
	if g != nil {
		g.Close()
	}
}

// Done is closed once QEMU has exited and been reaped.
func (vm *VM) Done() <-chan struct{} { return vm.done }

// Exited reports whether QEMU has exited.
func (vm *VM) Exited() bool {
	select {
	case <-vm.done:
		return true
	default:
		return false
	}
}

// Status returns the exit status; valid once Done is closed.
func (vm *VM) Status() ExitStatus {
	<-vm.done
	return vm.status
}

// Stderr returns the last 64 KiB QEMU wrote to its standard error.
func (vm *VM) Stderr() string { return vm.stderr.String() }

func (vm *VM) exitError() error {
	return fmt.Errorf("%w (%s)%s", ErrExited, vm.status, stderrSuffix(vm.stderr.String()))
}

func stderrSuffix(s string) string {
	s = string(bytes.TrimSpace([]byte(s)))
	if s == "" {
		return ""
	}
	return ": qemu stderr: " + s
}

// Wait waits up to timeout for QEMU to exit by itself. On timeout QEMU is
// killed and an error is returned along with the kill status.
func (vm *VM) Wait(timeout time.Duration) (ExitStatus, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-vm.done:
		return vm.status, nil
	case <-t.C:
		st := vm.Kill()
		return st, fmt.Errorf("qemu: did not exit within %v; killed", timeout)
	}
}

// Kill kills QEMU (SIGKILL to its process group) and waits until it has been
// reaped. It is safe to call more than once and after exit.
func (vm *VM) Kill() ExitStatus {
	select {
	case <-vm.done:
		return vm.status
	default:
	}
	vm.mu.Lock()
	vm.killed = true
	vm.mu.Unlock()
	pid := vm.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = vm.cmd.Process.Kill()
	<-vm.done
	return vm.status
}

// Send types line followed by a newline on the serial console.
func (vm *VM) Send(line string) error { return vm.Console.Send(line) }

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// socketPath is the path of a control socket in the VM's directory.
func (vm *VM) socketPath(name string) string { return filepath.Join(vm.Dir, name) }

// GDB connects to the VM's gdbstub (Config.GDB must be set), waiting up to
// 10 s for QEMU to create the socket. Connecting stops the guest.
func (vm *VM) GDB() (*gdb.Client, error) {
	if !vm.Config.GDB {
		return nil, errors.New("qemu: gdbstub not enabled (Config.GDB)")
	}
	vm.mu.Lock()
	g := vm.gdbConn
	vm.mu.Unlock()
	if g != nil {
		return g, nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if vm.Exited() {
			return nil, vm.exitError()
		}
		c, err := gdb.Dial("unix", vm.socketPath("gdb.sock"), time.Second)
		if err == nil {
			vm.mu.Lock()
			vm.gdbConn = c
			vm.mu.Unlock()
			return c, nil
		}
		if time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Shutdown ends QEMU cleanly: QMP quit, then up to timeout for the process
// to exit; if it does not, it is killed and an error says so. It returns
// QEMU's exit status.
func (vm *VM) Shutdown(timeout time.Duration) (ExitStatus, error) {
	if vm.Exited() {
		return vm.status, nil
	}
	q, err := vm.QMP()
	if err == nil {
		// QEMU may close the socket before it answers quit: the exit
		// status below is what counts.
		_ = q.Quit()
	}
	st, werr := vm.Wait(timeout)
	if werr != nil {
		return st, errors.Join(err, werr)
	}
	return st, nil
}
