package verify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/qemu/internal/imagetest"
	"github.com/pagesnap/pagesnap/qemu/internal/testguest"
	"github.com/pagesnap/pagesnap/snapshot"
)

const ps = 4096

// fixture: 2 MiB of "RAM" at 0 holding the test guest image at 1 MiB and
// random bytes elsewhere; the snapshot captures [0x100000, 0x104000) and
// [0x180000, 0x182000).
type fixture struct {
	mem    []byte
	ranges []snapshot.Range
	img    []byte
	owners *Owners
	guest  *testguest.Guest
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	g, err := testguest.Build(0)
	if err != nil {
		t.Fatal(err)
	}
	mem := make([]byte, 2<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range mem {
		mem[i] = byte(r.Uint32())
	}
	copy(mem[testguest.LoadAddr:], g.Image)
	rs := []snapshot.Range{{Base: 0x100000, Size: 0x4000}, {Base: 0x180000, Size: 0x2000}}
	p := filepath.Join(t.TempDir(), "guest.elf")
	if err := g.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	o, err := LoadOwners(p)
	if err != nil {
		t.Fatal(err)
	}
	o.Regions = []Region{{Name: "virtio ring", Kind: DMA, Base: 0x181000, Size: 0x1000}, {Name: "heap", Kind: Heap, Base: 0x180000, Size: 0x1000}}
	img, err := imagetest.Encode(mem, 0, ps, rs, 99)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{mem: mem, ranges: rs, img: img, owners: o, guest: g}
}

func (f *fixture) compare(t *testing.T) *Report {
	t.Helper()
	im, err := ReadImage(bytes.NewReader(f.img), int64(len(f.img)))
	if err != nil {
		t.Fatal(err)
	}
	return Compare(NewPhys(bytes.NewReader(f.mem), 0, uint64(len(f.mem))), im, f.owners)
}

func TestVerified(t *testing.T) {
	f := newFixture(t)
	r := f.compare(t)
	if !r.OK() || r.Err() != nil || r.Pages != 6 || r.Matched != 6 {
		t.Fatalf("report: %s", r)
	}
	if !strings.HasPrefix(r.String(), "VERIFIED: 6 pages of 4096 bytes, 6 match, 0 mismatch") {
		t.Fatalf("summary %q", r.String())
	}
}

// TestWrongPageConsistentManifest: the engine copied a byte that changed
// after the instant and hashed what it copied, so the manifest is
// consistent: only the comparison with the reference catches it.
func TestWrongPageConsistentManifest(t *testing.T) {
	f := newFixture(t)
	l, _ := snapshot.NewLayout(ps, f.ranges)
	ctr := uint64(testguest.CounterAddr)
	pageIdx := uint64(1) // 0x101000 is the second page
	off := l.DataOff + pageIdx*ps + 2
	f.img[off] ^= 0x40
	imagetest.Rehash(f.img, l)
	r := f.compare(t)
	if r.ImageErr != nil {
		t.Fatalf("image check: %v", r.ImageErr)
	}
	if len(r.Mismatches) != 1 {
		t.Fatalf("mismatches: %s", r)
	}
	m := r.Mismatches[0]
	want := Mismatch{Addr: ctr, Problem: Differs, Offset: 2, Want: f.mem[ctr+2], Got: f.mem[ctr+2] ^ 0x40, DiffBytes: 1,
		Owner: Owner{Kind: KernelData, Where: ".data counter+0x2"}}
	if m != want {
		t.Fatalf("mismatch\n got %+v\nwant %+v", m, want)
	}
	err := r.Err()
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "page 0x101000 kernel data (.data counter+0x2): first differing byte at 0x101002") {
		t.Fatalf("error: %v", err)
	}
}

// TestCorruptPage: a page corrupted in storage fails the manifest check and
// the comparison, in a text page, with the symbol named.
func TestCorruptPage(t *testing.T) {
	f := newFixture(t)
	l, _ := snapshot.NewLayout(ps, f.ranges)
	tick := f.guest.Symbols["tick"]
	f.img[l.DataOff+tick-0x100000] ^= 0xff
	r := f.compare(t)
	var pe *snapshot.PageError
	if !errors.Is(r.ImageErr, snapshot.ErrHashMismatch) || !errors.As(r.ImageErr, &pe) || pe.Addr != 0x100000 {
		t.Fatalf("image check: %v", r.ImageErr)
	}
	if len(r.Mismatches) != 1 || r.Mismatches[0].Owner != (Owner{KernelText, ".text tick"}) || r.Mismatches[0].Offset != tick-0x100000 {
		t.Fatalf("%s", r)
	}
	if !errors.Is(r.Err(), ErrMismatch) || !errors.Is(r.Err(), snapshot.ErrHashMismatch) {
		t.Fatalf("Err: %v", r.Err())
	}
}

// TestNotCopied: a page whose copy bit is clear is reported as such, in the
// DMA region, and the image check fails.
func TestNotCopied(t *testing.T) {
	f := newFixture(t)
	l, _ := snapshot.NewLayout(ps, f.ranges)
	// Page index 5 = 0x181000 (DMA region): clear its C bit.
	w := binary.LittleEndian.Uint64(f.img[l.MapOff:])
	binary.LittleEndian.PutUint64(f.img[l.MapOff:], w&^(1<<5))
	r := f.compare(t)
	if !errors.Is(r.ImageErr, snapshot.ErrIncomplete) {
		t.Fatalf("image check: %v", r.ImageErr)
	}
	if len(r.Mismatches) != 1 || r.Mismatches[0].Problem != NotCopied || r.Mismatches[0].Addr != 0x181000 ||
		r.Mismatches[0].Owner != (Owner{DMA, "virtio ring"}) {
		t.Fatalf("%s", r)
	}
	if !strings.Contains(r.String(), "page 0x181000 DMA (virtio ring): not copied") {
		t.Fatal(r.String())
	}
}

// TestEveryByte flips each byte of one heap page in turn (in a consistent
// manifest) and checks the reported offset and bytes each time.
func TestEveryByte(t *testing.T) {
	f := newFixture(t)
	l, _ := snapshot.NewLayout(ps, f.ranges)
	base := l.DataOff + 4*ps // 0x180000
	im, err := ReadImage(bytes.NewReader(f.img), int64(len(f.img)))
	if err != nil {
		t.Fatal(err)
	}
	ref := NewPhys(bytes.NewReader(f.mem), 0, uint64(len(f.mem)))
	for off := uint64(0); off < ps; off += 97 {
		f.img[base+off]++
		m := comparePage(ref, im, 0x180000, f.owners)
		f.img[base+off]--
		if m == nil || m.Offset != off || m.Got != f.mem[0x180000+off]+1 || m.Owner.Kind != Heap {
			t.Fatalf("offset %d: %+v", off, m)
		}
	}
}

// TestStorageInMemory reads the storage out of a memory image (as from a
// memory-backend-file) and checks a reference that does not cover a page.
func TestStorageInMemory(t *testing.T) {
	f := newFixture(t)
	ram := append([]byte(nil), f.mem...)
	const storage = 0x40000
	copy(ram[storage:], f.img)
	path := filepath.Join(t.TempDir(), "ram")
	if err := os.WriteFile(path, ram, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := OpenPhys(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	sec, err := p.Section(storage, uint64(len(f.img)))
	if err != nil {
		t.Fatal(err)
	}
	im, err := ReadImage(sec, sec.Size())
	if err != nil {
		t.Fatal(err)
	}
	if im.Instant != 99 {
		t.Fatalf("instant %d", im.Instant)
	}
	if r := Compare(p, im, nil); !r.OK() {
		t.Fatal(r)
	}
	short := NewPhys(bytes.NewReader(f.mem[:0x181000]), 0, 0x181000)
	r := Compare(short, im, nil)
	if len(r.Mismatches) != 1 || r.Mismatches[0].Problem != NoReference || r.Mismatches[0].Addr != 0x181000 {
		t.Fatal(r)
	}
	if _, err := p.Section(uint64(len(ram))-10, 100); err == nil {
		t.Fatal("storage beyond RAM accepted")
	}
	if _, err := ReadImage(bytes.NewReader(ram), int64(len(ram))); !errors.Is(err, snapshot.ErrBadMagic) {
		t.Fatalf("RAM start parsed as an image: %v", err)
	}
}

func TestOwners(t *testing.T) {
	f := newFixture(t)
	o := f.owners
	for addr, want := range map[uint64]string{
		f.guest.Symbols["tick"] + 2: "kernel text (.text tick+0x2)",
		testguest.CmdAddr:           "kernel data (.data cmd)",
		0x181800:                    "DMA (virtio ring)",
		0x1f0000:                    "unknown",
	} {
		if got := o.Owner(addr).String(); got != want {
			t.Errorf("%#x: %q, want %q", addr, got, want)
		}
	}
	// A broad region (all of RAM as heap) does not hide the kernel's
	// sections, and a smaller region inside a section wins over it.
	o.Regions = append(o.Regions, Region{Name: "runtime RAM", Kind: Heap, Base: 0, Size: 2 << 20},
		Region{Name: "ring", Kind: DMA, Base: testguest.CmdAddr, Size: 16})
	for addr, want := range map[uint64]string{
		f.guest.Symbols["tick"]: "kernel text (.text tick)",
		testguest.CmdAddr + 8:   "DMA (ring)",
		testguest.CmdAddr + 16:  "kernel data (.data)",
		0x1f0000:                "heap (runtime RAM)",
	} {
		if got := o.Owner(addr).String(); got != want {
			t.Errorf("%#x: %q, want %q", addr, got, want)
		}
	}
	if a, ok := o.Symbol("putc"); !ok || a != f.guest.Symbols["putc"] {
		t.Errorf("Symbol(putc) = %#x %v", a, ok)
	}
	if o.Arch != "amd64" {
		t.Errorf("arch %q", o.Arch)
	}
}

// TestNotCopiedRuns: an interrupted snapshot lists runs of uncopied pages
// as one line each, and every differing page on its own.
func TestNotCopiedRuns(t *testing.T) {
	f := newFixture(t)
	l, _ := snapshot.NewLayout(ps, f.ranges)
	// Clear pages 0, 1, 2 (0x100000-0x103000) and 4 (0x180000).
	w := binary.LittleEndian.Uint64(f.img[l.MapOff:])
	binary.LittleEndian.PutUint64(f.img[l.MapOff:], w&^0b10111)
	r := f.compare(t)
	if len(r.Mismatches) != 4 {
		t.Fatalf("%s", r)
	}
	s := r.String()
	if !strings.Contains(s, "\n  pages 0x100000-0x103000 (3 pages, first kernel text (.text _start)): not copied\n  page 0x180000 heap (heap): not copied") {
		t.Fatalf("%s", s)
	}
}
