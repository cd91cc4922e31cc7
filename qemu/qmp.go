package qemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/digitalocean/go-qemu/qmp/raw"
)

// QMPTimeout bounds every QMP command; QEMU is not trusted to answer.
var QMPTimeout = 30 * time.Second

// QMP is a connected QEMU Machine Protocol monitor: this package's
// connection (monitor: answers matched to commands by id) under
// github.com/digitalocean/go-qemu's typed commands, with a timeout per
// command (QEMU is not trusted to answer).
type QMP struct {
	mon  *monitor
	raw  *raw.Monitor
	once sync.Once
}

// QMP connects to the VM's QMP socket on first use (waiting up to 10 s for
// QEMU to create it) and returns the monitor.
func (vm *VM) QMP() (*QMP, error) {
	vm.mu.Lock()
	q := vm.qmp
	vm.mu.Unlock()
	if q != nil {
		return q, nil
	}
	path := vm.socketPath("qmp.sock")
	deadline := time.Now().Add(10 * time.Second)
	var mon *monitor
	for {
		if vm.Exited() {
			return nil, vm.exitError()
		}
		var err error
		mon, err = dialMonitor(path, time.Second)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("qemu: QMP socket %s: %w", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	errc := make(chan error, 1)
	go func() { errc <- mon.Connect() }()
	select {
	case err := <-errc:
		if err != nil {
			mon.Disconnect()
			return nil, fmt.Errorf("qemu: QMP handshake: %w", err)
		}
	case <-time.After(QMPTimeout):
		mon.Disconnect()
		return nil, errors.New("qemu: QMP handshake timed out")
	}
	q = &QMP{mon: mon, raw: raw.NewMonitor(mon)}
	vm.mu.Lock()
	if vm.qmp != nil { // lost a race with another caller
		vm.mu.Unlock()
		q.close()
		return vm.qmp, nil
	}
	vm.qmp = q
	vm.mu.Unlock()
	if vm.Exited() {
		q.close()
	}
	return q, nil
}

func (q *QMP) close() { q.once.Do(func() { q.mon.Disconnect() }) }

// Version returns QEMU's version as announced in the QMP greeting.
func (q *QMP) Version() string {
	if q.mon.version == nil {
		return ""
	}
	return q.mon.version.String()
}

// call runs f with QMPTimeout; on timeout the connection is closed, which
// unblocks f.
func (q *QMP) call(name string, f func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- f() }()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("qemu: QMP %s: %w", name, err)
		}
		return nil
	case <-time.After(QMPTimeout):
		q.close()
		<-errc
		return fmt.Errorf("qemu: QMP %s: no answer within %v", name, QMPTimeout)
	}
}

// Stop pauses every vCPU.
func (q *QMP) Stop() error { return q.call("stop", q.raw.Stop) }

// Cont resumes the guest.
func (q *QMP) Cont() error { return q.call("cont", q.raw.Cont) }

// Quit makes QEMU exit (status 0).
func (q *QMP) Quit() error { return q.call("quit", q.raw.Quit) }

// SystemReset resets the machine as the reset button would.
func (q *QMP) SystemReset() error { return q.call("system_reset", q.raw.SystemReset) }

// InjectNMI injects a non-maskable interrupt into every vCPU.
func (q *QMP) InjectNMI() error { return q.call("inject-nmi", q.raw.InjectNmi) }

// Status returns the run state ("running", "paused", "shutdown", …).
func (q *QMP) Status() (string, error) {
	var st raw.StatusInfo
	err := q.call("query-status", func() (err error) { st, err = q.raw.QueryStatus(); return })
	return st.Status.String(), err
}

// Running reports whether the vCPUs are running.
func (q *QMP) Running() (bool, error) {
	var st raw.StatusInfo
	err := q.call("query-status", func() (err error) { st, err = q.raw.QueryStatus(); return })
	return st.Running, err
}

// Pmemsave writes size bytes of guest physical memory from addr to the host
// file path (QEMU writes the file itself: path must be writable by QEMU).
func (q *QMP) Pmemsave(addr, size uint64, path string) error {
	return q.call("pmemsave", func() error { return q.raw.Pmemsave(int64(addr), int64(size), path) })
}

// HMP runs a human monitor command (for example "info registers") and
// returns its output.
func (q *QMP) HMP(command string) (string, error) {
	r, err := q.Run("human-monitor-command", map[string]string{"command-line": command})
	if err != nil {
		return "", err
	}
	var out string
	if err := json.Unmarshal(r, &out); err != nil {
		return "", fmt.Errorf("qemu: QMP human-monitor-command %q: answer %s: %w", command, r, err)
	}
	return out, nil
}

// Run executes any QMP command with JSON-encodable arguments and returns the
// "return" member of the answer.
func (q *QMP) Run(command string, args any) (json.RawMessage, error) {
	cmd := map[string]any{"execute": command}
	if args != nil {
		cmd["arguments"] = args
	}
	b, err := json.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	var out []byte
	if err := q.call(command, func() (err error) { out, err = q.mon.Run(b); return }); err != nil {
		return nil, err
	}
	var r struct {
		Return json.RawMessage `json:"return"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("qemu: QMP %s: %w", command, err)
	}
	return r.Return, nil
}
