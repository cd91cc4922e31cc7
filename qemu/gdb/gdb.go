// Package gdb is a client for the GDB remote serial protocol as served by
// QEMU's gdbstub (-gdb): stop the guest at an address, read and write
// registers and memory (virtual or physical), single-step and resume.
//
// Packets are "$data#cs" with cs the modulo-256 sum of data in two hex
// digits; the client negotiates QStartNoAckMode so no '+'/'-' acks follow.
// Reference: GDB manual, appendix E "Remote Serial Protocol" (Overview,
// Packets, Stop Reply Packets, General Query Packets).
//
// Two layers: packet.go frames, checksums and acknowledges packets and
// sends the interrupt byte; Client (this file) is the command layer —
// requests and answers, the running/stopped state, breakpoints, memory,
// registers.
//
// QEMU stops every vCPU when a debugger connects and while a stop reply is
// outstanding; QMP commands (pmemsave) keep working meanwhile. Stop and
// resume the guest through one channel: QMP stop/cont while the client
// waits for a stop makes QEMU send stop replies the client did not ask
// for (Interrupt drains them).
package gdb

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout bounds every request that expects an immediate answer.
const DefaultTimeout = 30 * time.Second

// ErrUnsupported is returned when the stub answers a packet with the empty
// packet ("not supported").
var ErrUnsupported = errors.New("gdb: packet not supported by stub")

// Client talks to one gdbstub connection. Methods are safe for concurrent
// use but requests are serialised.
type Client struct {
	packetConn
	mu      sync.Mutex
	running bool
	// Timeout bounds each request/answer exchange; Wait has its own.
	Timeout time.Duration
	// Features is the stub's qSupported answer.
	Features map[string]string
	// Arch is the architecture named by target.xml ("i386:x86-64",
	// "aarch64", …).
	Arch string
	// Regs is the register layout from target.xml, in 'g' packet order.
	Regs []Reg
	// maxPacket is the largest packet the stub accepts.
	maxPacket int
}

// Reg is one register of the target description.
type Reg struct {
	Name   string
	Bits   int
	Num    int // register number for 'p'/'P'
	Offset int // byte offset in the 'g' packet
}

// Dial connects to a gdbstub ("unix", path or "tcp", host:port) and
// performs the handshake: qSupported, QStartNoAckMode and the target
// description (which QEMU needs before it accepts register writes).
func Dial(network, addr string, timeout time.Duration) (*Client, error) {
	conn, err := net.DialTimeout(network, addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("gdb: dial %s: %w", addr, err)
	}
	c, err := New(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// New runs the handshake on an established connection.
func New(conn net.Conn) (*Client, error) {
	c := &Client{packetConn: newPacketConn(conn), Timeout: DefaultTimeout, maxPacket: 4096}
	sup, err := c.request("qSupported:multiprocess-;swbreak+;hwbreak+;xmlRegisters=i386")
	if err != nil {
		return nil, err
	}
	c.Features = map[string]string{}
	for _, f := range strings.Split(sup, ";") {
		if k, v, ok := strings.Cut(f, "="); ok {
			c.Features[k] = v
		} else if f != "" {
			c.Features[strings.TrimRight(f, "+-?")] = f[len(f)-1:]
		}
	}
	if v, ok := c.Features["PacketSize"]; ok {
		if n, err := strconv.ParseInt(v, 16, 32); err == nil && n > 64 {
			c.maxPacket = int(n)
		}
	}
	// QEMU 7.2 does not list QStartNoAckMode in qSupported; ask anyway: an
	// empty answer keeps acknowledgements on.
	if r, err := c.request("QStartNoAckMode"); err != nil {
		return nil, err
	} else if r == "OK" {
		c.noAck = true
	}
	if c.Features["qXfer:features:read"] == "+" {
		if err := c.loadTargetDescription(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Close closes the connection (QEMU resumes nothing by itself: the guest
// stays in its current run state).
func (c *Client) Close() error { return c.conn.Close() }

func trunc(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// request sends a packet and returns the answer, bounded by Timeout.
func (c *Client) request(data string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requestLocked(data)
}

func (c *Client) requestLocked(data string) (string, error) {
	if c.running {
		return "", fmt.Errorf("gdb: %q while the target runs: Interrupt or Wait first", trunc(data))
	}
	c.deadline = time.Now().Add(c.Timeout)
	c.conn.SetDeadline(c.deadline)
	defer func() { c.deadline = time.Time{}; c.conn.SetDeadline(time.Time{}) }()
	if err := c.send(data); err != nil {
		return "", err
	}
	r, err := c.recv()
	if err != nil {
		return "", fmt.Errorf("gdb: answer to %q: %w", trunc(data), err)
	}
	return r, nil
}

// errorReply converts "Exx" answers and empty answers to errors.
func errorReply(req, r string) error {
	if r == "" {
		return fmt.Errorf("%w: %q", ErrUnsupported, trunc(req))
	}
	if len(r) == 3 && r[0] == 'E' {
		return fmt.Errorf("gdb: %q failed: error %s", trunc(req), r[1:])
	}
	return nil
}

func (c *Client) ok(req string) error {
	r, err := c.request(req)
	if err != nil {
		return err
	}
	if err := errorReply(req, r); err != nil {
		return err
	}
	if r != "OK" {
		return fmt.Errorf("gdb: %q: unexpected answer %q", trunc(req), trunc(r))
	}
	return nil
}

// SetPhysical selects whether memory reads and writes use guest physical
// addresses (QEMU's "Qqemu.PhyMemMode:1") or virtual addresses through the
// current vCPU's MMU (the default).
func (c *Client) SetPhysical(on bool) error {
	v := "0"
	if on {
		v = "1"
	}
	return c.ok("Qqemu.PhyMemMode:" + v)
}

// chunk is the largest memory transfer per packet: a hex byte is two
// characters and the header needs a little room.
func (c *Client) chunk() int {
	n := (c.maxPacket - 64) / 2
	if n > 2048 {
		n = 2048
	}
	return n
}

// ReadMemory reads n bytes at addr.
func (c *Client) ReadMemory(addr uint64, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for len(out) < n {
		k := min(n-len(out), c.chunk())
		a := addr + uint64(len(out))
		req := fmt.Sprintf("m%x,%x", a, k)
		r, err := c.request(req)
		if err != nil {
			return nil, err
		}
		if err := errorReply(req, r); err != nil {
			return nil, fmt.Errorf("gdb: read memory at %#x: %w", a, err)
		}
		b, err := hex.DecodeString(r)
		if err != nil {
			return nil, fmt.Errorf("gdb: read memory at %#x: %w", a, err)
		}
		if len(b) == 0 {
			return nil, fmt.Errorf("gdb: read memory at %#x: empty answer", a)
		}
		out = append(out, b...)
	}
	return out, nil
}

// WriteMemory writes data at addr.
func (c *Client) WriteMemory(addr uint64, data []byte) error {
	for off := 0; off < len(data); {
		k := min(len(data)-off, c.chunk())
		a := addr + uint64(off)
		if err := c.ok(fmt.Sprintf("M%x,%x:%s", a, k, hex.EncodeToString(data[off:off+k]))); err != nil {
			return fmt.Errorf("gdb: write memory at %#x: %w", a, err)
		}
		off += k
	}
	return nil
}

// BreakKind selects a breakpoint or watchpoint type (the Z packet's type).
type BreakKind int

// Z packet types (GDB manual E.2, "z type,addr,kind").
const (
	Software   BreakKind = 0
	Hardware   BreakKind = 1
	WatchWrite BreakKind = 2
	WatchRead  BreakKind = 3
	WatchAny   BreakKind = 4
)

// SetBreakpoint inserts a breakpoint or watchpoint of kind at addr; size
// is the watched length (or the breakpoint kind, usually 1).
func (c *Client) SetBreakpoint(kind BreakKind, addr uint64, size int) error {
	if size <= 0 {
		size = 1
	}
	return c.ok(fmt.Sprintf("Z%d,%x,%x", kind, addr, size))
}

// ClearBreakpoint removes what SetBreakpoint inserted.
func (c *Client) ClearBreakpoint(kind BreakKind, addr uint64, size int) error {
	if size <= 0 {
		size = 1
	}
	return c.ok(fmt.Sprintf("z%d,%x,%x", kind, addr, size))
}

// Stop is a stop reply.
type Stop struct {
	// Signal is the stop signal (5 = SIGTRAP for breakpoints and steps,
	// 2 = SIGINT after Interrupt).
	Signal int
	// Exited is true for 'W'/'X' replies: the target has gone.
	Exited bool
	// WatchKind is "watch", "rwatch" or "awatch" when a watchpoint hit.
	WatchKind string
	// WatchAddr is the data address of the watchpoint hit.
	WatchAddr uint64
	// Thread is the stopped thread id, if reported.
	Thread string
	// Raw is the packet as received.
	Raw string
}

// ParseStop decodes a stop reply packet (GDB manual E.3).
func ParseStop(p string) (Stop, error) {
	s := Stop{Raw: p}
	if p == "" {
		return s, errors.New("gdb: empty stop reply")
	}
	switch p[0] {
	case 'S', 'T':
		if len(p) < 3 {
			return s, fmt.Errorf("gdb: short stop reply %q", p)
		}
		v, err := strconv.ParseUint(p[1:3], 16, 8)
		if err != nil {
			return s, fmt.Errorf("gdb: stop reply %q: %w", p, err)
		}
		s.Signal = int(v)
		for _, kv := range strings.Split(p[3:], ";") {
			k, v, ok := strings.Cut(kv, ":")
			if !ok {
				continue
			}
			switch k {
			case "watch", "rwatch", "awatch":
				s.WatchKind = k
				s.WatchAddr, _ = strconv.ParseUint(v, 16, 64)
			case "thread":
				s.Thread = v
			}
		}
	case 'W', 'X':
		s.Exited = true
		if v, err := strconv.ParseUint(strings.SplitN(p[1:], ";", 2)[0], 16, 8); err == nil {
			s.Signal = int(v)
		}
	default:
		return s, fmt.Errorf("gdb: not a stop reply: %q", trunc(p))
	}
	return s, nil
}

// StopReason asks why the target is stopped ('?').
func (c *Client) StopReason() (Stop, error) {
	r, err := c.request("?")
	if err != nil {
		return Stop{}, err
	}
	return ParseStop(r)
}

// Continue resumes the target without waiting; call Wait or Interrupt.
func (c *Client) Continue() error { return c.resume("c") }

func (c *Client) resume(pkt string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return errors.New("gdb: already running")
	}
	c.conn.SetWriteDeadline(time.Now().Add(c.Timeout))
	defer c.conn.SetWriteDeadline(time.Time{})
	if err := c.send(pkt); err != nil {
		return err
	}
	c.running = true
	return nil
}

// Wait waits up to timeout for the stop reply after Continue. On timeout
// the target keeps running and an error is returned; Interrupt stops it.
func (c *Client) Wait(timeout time.Duration) (Stop, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waitLocked(timeout)
}

func (c *Client) waitLocked(timeout time.Duration) (Stop, error) {
	if !c.running {
		return Stop{}, errors.New("gdb: Wait without Continue")
	}
	c.conn.SetReadDeadline(time.Now().Add(timeout))
	defer c.conn.SetReadDeadline(time.Time{})
	for {
		r, err := c.recv()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return Stop{}, fmt.Errorf("gdb: no stop within %v", timeout)
			}
			return Stop{}, err
		}
		if strings.HasPrefix(r, "O") && r != "OK" {
			continue // console output packet
		}
		c.running = false
		return ParseStop(r)
	}
}

// Interrupt stops a running target (the 0x03 byte) and returns its stop
// reply. It is a no-op returning StopReason if the target is stopped.
func (c *Client) Interrupt() (Stop, error) {
	c.mu.Lock()
	if !c.running {
		c.mu.Unlock()
		return c.StopReason()
	}
	defer c.mu.Unlock()
	if err := c.interrupt(c.Timeout); err != nil {
		return Stop{}, fmt.Errorf("gdb: interrupt: %w", err)
	}
	if _, err := c.waitLocked(c.Timeout); err != nil {
		return Stop{}, err
	}
	// If the VM was also stopped and resumed by other means while we
	// waited (QMP stop/cont), the reply just read may be a stale one and
	// the VM may still run. A '?' round trip settles it: QEMU stops a
	// running VM on its first byte (dropping the packet, which readAck
	// detects and resends) and answers with the current stop reason.
	r, err := c.requestLocked("?")
	if err != nil {
		return Stop{}, err
	}
	return ParseStop(r)
}

// SendInterrupt writes the interrupt byte (0x03) without waiting for the
// stop reply: another goroutine blocked in Wait receives it. Use it to
// abort a Wait from outside.
func (c *Client) SendInterrupt() error { return c.interrupt(0) }

// Step executes one instruction and returns the stop reply.
func (c *Client) Step() (Stop, error) {
	if err := c.resume("s"); err != nil {
		return Stop{}, err
	}
	return c.Wait(c.Timeout)
}

// RunTo sets a temporary hardware breakpoint at addr, continues and waits
// up to timeout for the target to stop there; the breakpoint is removed in
// every case. It fails if the target stops elsewhere. If the target is
// already at addr it first steps off it, so repeated calls stop at
// successive executions of addr (a breakpoint at the current PC would
// otherwise hit again without executing anything).
func (c *Client) RunTo(addr uint64, timeout time.Duration) (Stop, error) {
	if pc, err := c.PC(); err != nil {
		return Stop{}, err
	} else if pc == addr {
		if _, err := c.Step(); err != nil {
			return Stop{}, err
		}
	}
	if err := c.SetBreakpoint(Hardware, addr, 1); err != nil {
		return Stop{}, err
	}
	if err := c.Continue(); err != nil {
		c.ClearBreakpoint(Hardware, addr, 1)
		return Stop{}, err
	}
	st, err := c.Wait(timeout)
	if err != nil {
		// Stop the target so the breakpoint can be removed.
		if _, ierr := c.Interrupt(); ierr != nil {
			return st, errors.Join(err, ierr)
		}
	}
	if cerr := c.ClearBreakpoint(Hardware, addr, 1); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return st, err
	}
	pc, perr := c.PC()
	if perr != nil {
		return st, perr
	}
	if pc != addr {
		return st, fmt.Errorf("gdb: stopped at %#x (%s), not at breakpoint %#x", pc, st.Raw, addr)
	}
	return st, nil
}

// Detach detaches; QEMU resumes the guest.
func (c *Client) Detach() error { return c.ok("D") }
