package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
	"github.com/pagesnap/pagesnap/snapshot/sim"
)

// image takes a snapshot of a small simulated machine and returns the
// storage bytes.
func image(t *testing.T) []byte {
	const ram, store = 2 << 20, 4 << 20
	m := sim.NewMachine(mmu.AMD64, 8<<20, ram-64<<10, 64<<10)
	if err := m.Tables.Map(0, 0, ram, 4096, 0); err != nil {
		t.Fatal(err)
	}
	for pa := uint64(0); pa < ram-64<<10; pa += 4096 {
		m.Mem.Store64(pa, pa|1)
	}
	s, err := snapshot.New(snapshot.Config{
		Ranges: []snapshot.Range{{Base: 0, Size: ram}}, Storage: snapshot.Range{Base: store, Size: store},
		Eager: []snapshot.Range{{Base: ram - 64<<10, Size: 64 << 10}},
		Mem:   m.Mem, Tables: m.Tables, TLB: m, Clock: func() uint64 { return 7 },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	for done := false; !done; {
		if done, err = s.DrainStep(100); err != nil {
			t.Fatal(err)
		}
	}
	b := make([]byte, s.Layout().Size)
	m.Mem.Read(store, b)
	return b
}

func TestSnapverify(t *testing.T) {
	img := image(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, img, 0o644)
	var out, errb bytes.Buffer
	if rc := run([]string{good}, &out, &errb); rc != 0 || !strings.Contains(out.String(), "OK root") ||
		!strings.Contains(out.String(), "512 pages (512 copied), state complete, instant 7") ||
		!strings.Contains(out.String(), "format 2,") ||
		!strings.Contains(out.String(), "excluded [0x400000, 0x800000) (storage)\n") {
		t.Fatalf("rc %d out %q err %q", rc, out.String(), errb.String())
	}
	out.Reset()
	if rc := run([]string{"-page", "0x3000", good}, &out, &errb); rc != 0 || out.Len() != 4096 || out.Bytes()[0] != 0x01 || out.Bytes()[1] != 0x30 {
		t.Fatalf("-page: rc %d, %d bytes %x", rc, out.Len(), out.Bytes()[:8])
	}
	// Corrupt page 0x5000's data (page index 5; data after header, map, scratch).
	l, _ := snapshot.NewLayout(4096, []snapshot.Range{{Base: 0, Size: 2 << 20}})
	bad := append([]byte(nil), img...)
	bad[l.DataOff+5*4096+100] ^= 1
	badf := filepath.Join(dir, "bad")
	os.WriteFile(badf, bad, 0o644)
	out.Reset()
	if rc := run([]string{badf}, &out, &errb); rc != 1 || !strings.Contains(out.String(), "FAIL at page 0x5000: snapshot: page hash mismatch") {
		t.Fatalf("rc %d out %q", rc, out.String())
	}
	// With an offset (image embedded in a larger dump).
	off := filepath.Join(dir, "off")
	os.WriteFile(off, append(make([]byte, 8192), img...), 0o644)
	out.Reset()
	if rc := run([]string{"-offset", "8192", off}, &out, &errb); rc != 0 {
		t.Fatalf("offset: rc %d out %q err %q", rc, out.String(), errb.String())
	}
	if rc := run([]string{off}, &out, &errb); rc != 1 || !strings.Contains(errb.String(), "bad magic") {
		t.Fatalf("no offset: rc %d err %q", rc, errb.String())
	}
	if rc := run(nil, &out, &errb); rc != 2 {
		t.Fatalf("usage rc %d", rc)
	}
}
