package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/digitalocean/go-qemu/qmp"
)

// monitor is the QMP connection to QEMU (a go-qemu qmp.Monitor, so that
// go-qemu's typed commands in package raw run on it). Commands run one at
// a time, each sent with an id; a command's answer is the next response
// carrying its id. A response with another id or none is dropped and
// counted (stray): go-qemu's socket monitor handed the next response of any
// kind to the next command, and TestFault failed about once in 300 runs
// under load with "info registers" answered by a query-status answer —
// one QEMU had not yet written to an earlier connection (see Connect).
type monitor struct {
	conn    net.Conn
	r       *bufio.Reader
	mu      sync.Mutex
	id      uint64
	version *qmp.Version
	stray   atomic.Int64
}

// dialMonitor connects to the QMP socket at path (not yet negotiated).
func dialMonitor(path string, timeout time.Duration) (*monitor, error) {
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return nil, err
	}
	return &monitor{conn: c, r: bufio.NewReader(c)}, nil
}

// qmpMessage is any message QEMU sends on the QMP socket.
type qmpMessage struct {
	Greeting *struct {
		Version qmp.Version `json:"version"`
	} `json:"QMP"`
	Event string           `json:"event"`
	ID    *uint64          `json:"id"`
	Error *json.RawMessage `json:"error"`
}

// Connect reads QEMU's greeting and negotiates capabilities. Lines before
// the greeting are dropped and counted as stray: QEMU can hand a new
// connection what it had not yet written to the previous one on the same
// socket (seen: a SHUTDOWN event before the greeting).
func (m *monitor) Connect() error {
	for {
		line, err := m.r.ReadBytes('\n')
		if err != nil {
			return err
		}
		var g qmpMessage
		if err := json.Unmarshal(line, &g); err != nil {
			return fmt.Errorf("qemu: QMP greeting %q: %w", line, err)
		}
		if g.Greeting != nil {
			m.version = &g.Greeting.Version
			break
		}
		m.stray.Add(1)
	}
	_, err := m.Run([]byte(`{"execute":"qmp_capabilities"}`))
	return err
}

// Disconnect closes the connection (a command waiting for its answer
// fails).
func (m *monitor) Disconnect() error { return m.conn.Close() }

// Events is not supported: the harness reads no QMP events (they are
// skipped as they arrive).
func (m *monitor) Events(context.Context) (<-chan qmp.Event, error) {
	return nil, errors.New("qemu: QMP events are not read")
}

// Run sends command (a QMP command object) with the next id and returns
// the response that carries it; a QMP error response is an error.
func (m *monitor) Run(command []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var cmd map[string]json.RawMessage
	if err := json.Unmarshal(command, &cmd); err != nil {
		return nil, fmt.Errorf("qemu: QMP command %s: %w", command, err)
	}
	m.id++
	id := m.id
	cmd["id"] = json.RawMessage(fmt.Sprint(id))
	b, err := json.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	if _, err := m.conn.Write(append(b, '\n')); err != nil {
		return nil, err
	}
	for {
		line, err := m.r.ReadBytes('\n')
		if err != nil {
			return nil, err
		}
		var msg qmpMessage
		if err := json.Unmarshal(line, &msg); err != nil {
			return nil, fmt.Errorf("qemu: QMP answer %q: %w", line, err)
		}
		switch {
		case msg.Event != "":
			continue
		case msg.ID == nil || *msg.ID != id:
			m.stray.Add(1)
			continue
		case msg.Error != nil:
			return nil, fmt.Errorf("%s", *msg.Error)
		}
		return line, nil
	}
}
