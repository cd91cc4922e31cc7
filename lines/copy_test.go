package lines

import (
	"strings"
	"testing"
)

func TestCopyFaultRoundTrip(t *testing.T) {
	c := Copy{N: 2000, MemmoveNs: 582, MemmoveMinNs: 580.5, LoopNs: 3607, LoopMinNs: 3600}
	if got, err := ParseCopy(c.String()); err != nil || got != c {
		t.Fatalf("ParseCopy(%q) = %+v, %v", c.String(), got, err)
	}
	if _, err := ParseCopy(strings.Replace(c.String(), "loop-ns=3607.0", "loop-ns=0", 1)); err == nil {
		t.Error("ParseCopy accepted a zero copy time")
	}
	f := Fault{N: 256, Faults: 250, MedianNs: 1500, P99Ns: 4000.5, MaxNs: 90000, StoreNs: 5}
	if got, err := ParseFault(f.String()); err != nil || got != f {
		t.Fatalf("ParseFault(%q) = %+v, %v", f.String(), got, err)
	}
	if _, err := ParseFault(strings.Replace(f.String(), " p99-ns=4000.5", "", 1)); err == nil {
		t.Error("ParseFault accepted a line without p99-ns")
	}
}

func TestHashRoundTrip(t *testing.T) {
	h := Hash{Alg: "SHA-256", CPU: "avx+avx2+bmi2", N: 200, Ns: 12500.5, MinNs: 12400, Kernel: true}
	if got, err := ParseHash(h.String()); err != nil || got != h {
		t.Fatalf("ParseHash(%q) = %+v, %v", h.String(), got, err)
	}
	for _, bad := range []struct{ old, new string }{
		{"ns=12500.5", "ns=0"},
		{" kernel=true", ""},
		{"kernel=true", "kernel=maybe"},
		{"cpu=avx+avx2+bmi2", "cpu="},
	} {
		if _, err := ParseHash(strings.Replace(h.String(), bad.old, bad.new, 1)); err == nil {
			t.Errorf("ParseHash accepted %q -> %q", bad.old, bad.new)
		}
	}
}
