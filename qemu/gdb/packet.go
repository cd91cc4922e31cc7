package gdb

// The packet layer of the remote serial protocol (GDB manual E.1
// "Overview"): "$data#cs" framing, checksums, run-length decoding and the
// '+'/'-' acknowledgements until no-ack mode, including QEMU's quirk of
// dropping a packet whose first byte stopped a running VM. It knows no
// command; Client (gdb.go) is the command layer on top of it.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// packetConn is one gdbstub connection at the packet level.
type packetConn struct {
	conn  net.Conn
	r     *bufio.Reader
	noAck bool // QStartNoAckMode accepted: no acknowledgements either way
	// deadline is the current request's I/O deadline (readAck restores it
	// after its short wait).
	deadline time.Time
}

func newPacketConn(conn net.Conn) packetConn {
	return packetConn{conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
}

func checksum(b []byte) byte {
	var s byte
	for _, x := range b {
		s += x
	}
	return s
}

// escape applies the binary escaping of '#', '$', '}' and '*'.
func escape(b []byte) []byte {
	var o []byte
	for _, x := range b {
		switch x {
		case '#', '$', '}', '*':
			o = append(o, '}', x^0x20)
		default:
			o = append(o, x)
		}
	}
	return o
}

// interrupt writes the interrupt byte (0x03, GDB manual E.10 "Interrupts"),
// which is not a packet, within timeout (0: no deadline).
func (c *packetConn) interrupt(timeout time.Duration) error {
	if timeout > 0 {
		c.conn.SetWriteDeadline(time.Now().Add(timeout))
		defer c.conn.SetWriteDeadline(time.Time{})
	}
	_, err := c.conn.Write([]byte{0x03})
	return err
}

// send writes one packet; before no-ack mode it waits for the '+' and
// resends on '-'.
func (c *packetConn) send(data string) error {
	pkt := fmt.Appendf(nil, "$%s#%02x", data, checksum([]byte(data)))
	for attempt := 0; ; attempt++ {
		if _, err := c.conn.Write(pkt); err != nil {
			return fmt.Errorf("gdb: write: %w", err)
		}
		if c.noAck {
			return nil
		}
		b, err := c.readAck()
		if err != nil {
			return err
		}
		if b == '+' {
			return nil
		}
		if attempt > 3 {
			return fmt.Errorf("gdb: packet %q not acknowledged (%q)", trunc(data), b)
		}
	}
}

// readAck reads the '+' or '-' answering a packet. A packet arriving
// instead is unsolicited (a stop reply for a stop we did not ask for, or
// QEMU stopping a running VM on our first byte and dropping the packet):
// it is consumed and acknowledged; if no '+' follows shortly our packet was
// dropped and '-' is returned so that the caller sends it again.
func (c *packetConn) readAck() (byte, error) {
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			return 0, fmt.Errorf("gdb: read ack: %w", err)
		}
		switch b {
		case '+', '-':
			return b, nil
		case '$':
			c.r.UnreadByte()
			if _, err := c.recv(); err != nil {
				return 0, err
			}
			c.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			_, err := c.r.ReadByte()
			c.conn.SetReadDeadline(c.deadline)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return '-', nil
			}
			if err != nil {
				return 0, fmt.Errorf("gdb: read ack: %w", err)
			}
			c.r.UnreadByte()
		}
	}
}

// recv reads one packet, decoding run-length encoding, and acks it.
func (c *packetConn) recv() (string, error) {
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			return "", fmt.Errorf("gdb: read: %w", err)
		}
		if b != '$' {
			continue // stray acks or noise between packets
		}
		raw, err := c.r.ReadBytes('#')
		if err != nil {
			return "", fmt.Errorf("gdb: read: %w", err)
		}
		raw = raw[:len(raw)-1]
		var cs [2]byte
		if _, err := c.r.Read(cs[:1]); err != nil {
			return "", err
		}
		if _, err := c.r.Read(cs[1:]); err != nil {
			return "", err
		}
		want, err := strconv.ParseUint(string(cs[:]), 16, 8)
		if err != nil || byte(want) != checksum(raw) {
			if !c.noAck {
				c.conn.Write([]byte("-"))
				continue
			}
			return "", fmt.Errorf("gdb: bad checksum on %q", trunc(string(raw)))
		}
		if !c.noAck {
			c.conn.Write([]byte("+"))
		}
		return string(decodeRLE(raw)), nil
	}
}

// decodeRLE expands "x*n" runs: n-29 more copies of x.
func decodeRLE(b []byte) []byte {
	if bytes.IndexByte(b, '*') < 0 {
		return b
	}
	var o []byte
	for i := 0; i < len(b); i++ {
		if b[i] == '*' && i > 0 && i+1 < len(b) && len(o) > 0 {
			n := int(b[i+1]) - 29
			last := o[len(o)-1]
			for ; n > 0; n-- {
				o = append(o, last)
			}
			i++
			continue
		}
		o = append(o, b[i])
	}
	return o
}
