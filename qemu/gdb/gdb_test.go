package gdb

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func TestChecksumEscapeRLE(t *testing.T) {
	// "$g#67": 'g' = 0x67.
	if c := checksum([]byte("g")); c != 0x67 {
		t.Fatalf("checksum %#x", c)
	}
	if got := string(escape([]byte("a#b$c}d*"))); got != "a}\x03b}\x04c}]d}\x0a" {
		t.Fatalf("escape %q", got)
	}
	// "0* " = '0' plus 32-29 = 3 more: "0000".
	if got := string(decodeRLE([]byte("0* 1"))); got != "00001" {
		t.Fatalf("rle %q", got)
	}
}

func TestParseStop(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Stop
	}{
		{"S05", Stop{Signal: 5, Raw: "S05"}},
		{"T05thread:01;", Stop{Signal: 5, Thread: "01", Raw: "T05thread:01;"}},
		{"T05watch:102000;thread:p1.1;", Stop{Signal: 5, WatchKind: "watch", WatchAddr: 0x102000, Thread: "p1.1", Raw: "T05watch:102000;thread:p1.1;"}},
		{"W00", Stop{Exited: true, Raw: "W00"}},
		{"X09", Stop{Exited: true, Signal: 9, Raw: "X09"}},
	} {
		got, err := ParseStop(c.in)
		if err != nil || got != c.want {
			t.Errorf("%q: %+v %v", c.in, got, err)
		}
	}
	for _, bad := range []string{"", "OK", "T5", "Tzz"} {
		if _, err := ParseStop(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// fakeStub answers packets from a table, with acks (no QStartNoAckMode),
// one corrupted checksum first to exercise the retransmission request.
func fakeStub(t *testing.T, answers map[string]string) net.Conn {
	c, s := net.Pipe()
	go func() {
		defer s.Close()
		r := bufio.NewReader(s)
		corrupted := false
		for {
			b, err := r.ReadByte()
			if err != nil {
				return
			}
			if b != '$' {
				continue
			}
			pkt, err := r.ReadString('#')
			if err != nil {
				return
			}
			r.ReadByte()
			r.ReadByte()
			s.Write([]byte("+"))
			pkt = strings.TrimSuffix(pkt, "#")
			a, ok := answers[pkt]
			if !ok {
				for k, v := range answers {
					if strings.HasSuffix(k, "*") && strings.HasPrefix(pkt, strings.TrimSuffix(k, "*")) {
						a, ok = v, true
					}
				}
			}
			if !ok {
				a = ""
			}
			for {
				cs := checksum([]byte(a))
				if !corrupted {
					cs++
					corrupted = true
				}
				fmt.Fprintf(s, "$%s#%02x", a, cs)
				ack, err := r.ReadByte()
				if err != nil {
					return
				}
				if ack == '+' {
					break
				}
			}
		}
	}()
	return c
}

const testXML = `<?xml version="1.0"?><target><architecture>test</architecture><xi:include href="core.xml"/></target>`
const coreXML = `<feature name="core"><reg name="r0" bitsize="64"/><reg name="pc" bitsize="64"/><reg name="flags" bitsize="32"/><reg name="v0" bitsize="128" regnum="40"/></feature>`

func TestClientAgainstFakeStub(t *testing.T) {
	conn := fakeStub(t, map[string]string{
		"qSupported*":                      "PacketSize=1000;qXfer:features:read+",
		"qXfer:features:read:target.xml:*": "l" + testXML,
		"qXfer:features:read:core.xml:*":   "l" + coreXML,
		"g":                                "0100000000000000" + "3412000000000000" + "ff000000",
		"p1":                               "3412000000000000",
		"p28":                              "00112233445566778899aabbccddeeff",
		"m1000,4":                          "deadbeef",
		"m2000,4":                          "E14",
		"M3000,2:0102":                     "OK",
		"P0=2a00000000000000":              "OK",
		"Z1,1234,1":                        "OK",
		"z1,1234,1":                        "OK",
		"c":                                "T05thread:01;",
	})
	c, err := New(conn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Timeout = 5 * time.Second
	if c.Arch != "test" || len(c.Regs) != 4 || c.Regs[3].Num != 40 || c.Regs[2].Offset != 16 || c.maxPacket != 0x1000 {
		t.Fatalf("description: %s %+v %d", c.Arch, c.Regs, c.maxPacket)
	}
	regs, err := c.Registers()
	if err != nil || regs["r0"] != 1 || regs["pc"] != 0x1234 || regs["flags"] != 0xff {
		t.Fatalf("g: %v %v", regs, err)
	}
	if pc, err := c.PC(); err != nil || pc != 0x1234 {
		t.Fatalf("pc %#x %v", pc, err)
	}
	if _, err := c.ReadRegister("v0"); err == nil {
		t.Fatal("128-bit register read as uint64")
	}
	if b, err := c.ReadRegisterBytes("v0"); err != nil || len(b) != 16 || b[15] != 0xff {
		t.Fatalf("v0 %x %v", b, err)
	}
	if b, err := c.ReadMemory(0x1000, 4); err != nil || fmt.Sprintf("%x", b) != "deadbeef" {
		t.Fatalf("m: %x %v", b, err)
	}
	if _, err := c.ReadMemory(0x2000, 4); err == nil || !strings.Contains(err.Error(), "error 14") {
		t.Fatalf("m error: %v", err)
	}
	if err := c.WriteMemory(0x3000, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteRegister("r0", 42); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPhysical(true); err == nil {
		t.Fatal("unsupported packet accepted")
	}
	// PC is already 0x1234 so RunTo steps first; the stub does not know
	// "s" and answers empty: RunTo must report that, not hang.
	if _, err := c.RunTo(0x1234, time.Second); err == nil || !strings.Contains(err.Error(), "empty stop reply") {
		t.Fatalf("RunTo: %v", err)
	}
}
