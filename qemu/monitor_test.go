package qemu

import (
	"bufio"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestMonitorStray: a QMP server that, like QEMU on a reused socket, first
// writes what was meant for an earlier connection (an event and a
// query-status answer) and then answers each command after a stray
// response of another id; every command still gets its own answer, and the
// strays are counted.
func TestMonitorStray(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qmp.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		w := func(s string) { c.Write([]byte(s + "\r\n")) }
		w(`{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "SHUTDOWN", "data": {"guest": true}}`)
		w(`{"return": {"status": "shutdown", "running": false}}`)
		w(`{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": []}}`)
		r := bufio.NewScanner(c)
		for r.Scan() {
			line := r.Text()
			i := strings.Index(line, `"id":`)
			if i < 0 {
				w(`{"error": {"class": "GenericError", "desc": "no id"}}`)
				continue
			}
			id := strings.Trim(line[i+5:], " }")
			w(`{"return": {"status": "running"}, "id": 999}`)
			w(`{"event": "STOP", "data": {}}`)
			switch {
			case strings.Contains(line, "human-monitor-command"):
				w(`{"return": "RIP=0", "id": ` + id + `}`)
			case strings.Contains(line, "bad"):
				w(`{"error": {"class": "CommandNotFound", "desc": "bad"}, "id": ` + id + `}`)
			default:
				w(`{"return": {}, "id": ` + id + `}`)
			}
		}
	}()
	m, err := dialMonitor(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Disconnect()
	if err := m.Connect(); err != nil {
		t.Fatal(err)
	}
	q := &QMP{mon: m}
	out, err := q.HMP("info registers")
	if err != nil || out != "RIP=0" {
		t.Fatalf("HMP: %q, %v; want RIP=0", out, err)
	}
	if _, err := q.Run("bad", nil); err == nil || !strings.Contains(err.Error(), "CommandNotFound") {
		t.Fatalf("a QMP error answer: %v, want CommandNotFound", err)
	}
	if got := m.stray.Load(); got != 5 {
		t.Errorf("%d stray lines, want 5 (2 before the greeting, 1 for each of the 3 commands)", got)
	}
	if v := q.Version(); v != "7.2.0" {
		t.Errorf("version %q, want 7.2.0", v)
	}
}
