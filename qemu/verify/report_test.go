package verify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/snapshot"
)

// TestReportImageErrorOnly: an image that fails its own check while every
// page matches the reference is an image error, not a mismatch.
func TestReportImageErrorOnly(t *testing.T) {
	f := newFixture(t)
	binary.LittleEndian.PutUint32(f.img[28:], uint32(snapshot.StateAborted)) // header state
	r := f.compare(t)
	if len(r.Mismatches) != 0 || !errors.Is(r.ImageErr, snapshot.ErrIncomplete) {
		t.Fatalf("report %s", r)
	}
	err := r.Err()
	if err == nil || errors.Is(err, ErrMismatch) || !errors.Is(err, snapshot.ErrIncomplete) {
		t.Fatalf("Err: %v", err)
	}
	want := "FAILED: 6 pages of 4096 bytes, 6 match, 0 mismatch; image check: snapshot: snapshot incomplete: header state aborted"
	if r.String() != want {
		t.Fatalf("String:\n got %q\nwant %q", r.String(), want)
	}
	if s := newFixture(t).compare(t).String(); !strings.HasSuffix(s, "; manifest and root hash OK") {
		t.Fatalf("verified String %q", s)
	}
}

// TestReportManyMismatches: Err quotes the first 8 mismatches and counts
// the rest; String lists every differing page.
func TestReportManyMismatches(t *testing.T) {
	r := &Report{PageSize: 4096, Pages: 20}
	for i := range 11 {
		r.Mismatches = append(r.Mismatches, Mismatch{Addr: uint64(i) * 0x2000, Problem: Differs, Offset: 1, Want: 1, Got: 2, DiffBytes: 1})
	}
	err := r.Err()
	if !errors.Is(err, ErrMismatch) {
		t.Fatal(err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "verify: snapshot differs from the reference image: 11 of 20 pages\n\tpage 0x0 ") ||
		!strings.HasSuffix(msg, "\n\t… 3 more") || strings.Count(msg, "\n\tpage ") != 8 {
		t.Fatalf("Err:\n%s", msg)
	}
	s := r.String()
	if strings.Count(s, "\n  page ") != 11 || !strings.Contains(s, fmt.Sprintf("page %#x", 10*0x2000)) {
		t.Fatalf("String:\n%s", s)
	}
}

// TestPhysBounds: Contains, Read and Section accept exactly the ranges
// inside the image, up to its last byte.
func TestPhysBounds(t *testing.T) {
	mem := make([]byte, 0x3000)
	for i := range mem {
		mem[i] = byte(i)
	}
	p := NewPhys(bytes.NewReader(mem), 0x10000, uint64(len(mem)))
	for _, c := range []struct {
		addr, n uint64
		in      bool
	}{
		{0x10000, 0x3000, true}, {0x10000, 0x3001, false}, {0xffff, 1, false}, {0x12fff, 1, true},
		{0x13000, 0, true}, {0x13000, 1, false}, {0x13001, 0, false}, {0x11000, 0x2000, true}, {0x11000, 0x2001, false},
		{0x10000, ^uint64(0), false}, {^uint64(0), 2, false},
	} {
		if got := p.Contains(c.addr, c.n); got != c.in {
			t.Errorf("Contains(%#x, %#x) = %v", c.addr, c.n, got)
		}
		_, rerr := p.Read(c.addr, c.n)
		_, serr := p.Section(c.addr, c.n)
		if c.n == 0 && c.in {
			rerr = nil // a zero-length ReadAt at the end may say io.EOF
		}
		if (rerr == nil) != c.in || (serr == nil) != c.in {
			t.Errorf("Read/Section(%#x, %#x): %v, %v", c.addr, c.n, rerr, serr)
		}
	}
	b, err := p.Read(0x12ffe, 2)
	if err != nil || b[0] != 0xfe || b[1] != 0xff {
		t.Fatalf("Read(0x12ffe, 2) = %x, %v", b, err)
	}
	if _, err := p.Read(0x9000, 16); err == nil || err.Error() != "verify: [0x9000, 0x9010) outside the memory image [0x10000, 0x13000)" {
		t.Fatalf("Read outside: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}
