package verify

// Tests added for the survivors of the mutation run (MUTANTS.md): each
// pins an exact result a mutant changed without any other test noticing.

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/qemu/internal/testguest"
	"github.com/pagesnap/pagesnap/snapshot"
)

// guestELF is the test guest's ELF, for a test to patch before loading it
// with owners. The guest's layout (see testguest): .text [0x100000,
// 0x10009f), .data [0x101000, 0x103000); symbols in the order of
// testguest's table: _start, main_loop, tick, putc, fault, halt, msg (.text,
// 0x100084, 27 bytes), counter (.data, 0x101000, 4 bytes), cmd.
type guestELF struct {
	b []byte
	g *testguest.Guest
}

func newGuestELF(t *testing.T) *guestELF {
	t.Helper()
	g, err := testguest.Build(0)
	if err != nil {
		t.Fatal(err)
	}
	return &guestELF{b: append([]byte(nil), g.ELF...), g: g}
}

// ELF64 header, section header and symbol field offsets (System V gABI,
// "ELF Header", "Sections", "Symbol Table").
const (
	ehShoff   = 40
	ehPhoff   = 32
	phPaddr   = 24
	shEntSize = 64
	shType    = 4
	shFlags   = 8
	shOffset  = 24
	symValue  = 8
	symSize   = 16
	symEnt    = 24
)

// Section indices and symbol table entries of the test guest's ELF.
const (
	secData    = 2
	secSymtab  = 4
	symMsg     = 7
	symCounter = 8
)

func (e *guestELF) shdr(i int) []byte {
	off := binary.LittleEndian.Uint64(e.b[ehShoff:]) + uint64(i)*shEntSize
	return e.b[off : off+shEntSize]
}

func (e *guestELF) sym(i int) []byte {
	off := binary.LittleEndian.Uint64(e.shdr(secSymtab)[shOffset:]) + uint64(i)*symEnt
	return e.b[off : off+symEnt]
}

func (e *guestELF) load(t *testing.T) *Owners {
	t.Helper()
	p := filepath.Join(t.TempDir(), "guest.elf")
	if err := os.WriteFile(p, e.b, 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := LoadOwners(p)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestOwnersPhysicalLoad: a kernel linked at virtual addresses other than
// its physical load addresses (PT_LOAD p_paddr ≠ p_vaddr; the PT_NOTE that
// follows has both 0) has its sections and symbols at physical addresses,
// and Virtual/Symbolize convert back.
func TestOwnersPhysicalLoad(t *testing.T) {
	e := newGuestELF(t)
	const shift = 0x4000_0000 // physical = virtual + shift
	ph := e.b[binary.LittleEndian.Uint64(e.b[ehPhoff:]):]
	if elf.ProgType(binary.LittleEndian.Uint32(ph)) != elf.PT_LOAD {
		t.Fatal("first program header is not PT_LOAD")
	}
	binary.LittleEndian.PutUint64(ph[phPaddr:], testguest.LoadAddr+shift)
	o := e.load(t)
	tick := e.g.Symbols["tick"]
	for addr, want := range map[uint64]string{
		tick + shift + 2:                  "kernel text (.text tick+0x2)",
		testguest.CounterAddr + shift:     "kernel data (.data counter)",
		testguest.CounterAddr + shift + 8: "kernel data (.data)",
		tick + 2:                          "unknown",
	} {
		if got := o.Owner(addr).String(); got != want {
			t.Errorf("Owner(%#x) = %q, want %q", addr, got, want)
		}
	}
	if a, ok := o.Symbol("tick"); !ok || a != tick+shift {
		t.Errorf("Symbol(tick) = %#x %v, want %#x", a, ok, tick+shift)
	}
	if v := o.Virtual(tick + shift); v != tick {
		t.Errorf("Virtual(%#x) = %#x, want %#x", tick+shift, v, tick)
	}
	if n, a := o.Symbolize(tick + 3); n != "tick" || a != tick {
		t.Errorf("Symbolize(%#x) = %q %#x, want tick %#x", tick+3, n, a, tick)
	}
	if n, a := o.Symbolize(0x10009f); n != "" || a != 0 { // one past msg, the last .text symbol
		t.Errorf("Symbolize(0x10009f) = %q %#x", n, a)
	}
}

// TestOwnersSectionKinds: an allocated section that is not executable is
// read-only data without SHF_WRITE and bss as SHT_NOBITS.
func TestOwnersSectionKinds(t *testing.T) {
	for _, c := range []struct {
		typ   elf.SectionType
		flags elf.SectionFlag
		want  string
	}{
		{elf.SHT_PROGBITS, elf.SHF_ALLOC | elf.SHF_WRITE, "kernel data (.data counter)"},
		{elf.SHT_PROGBITS, elf.SHF_ALLOC, "kernel rodata (.data counter)"},
		{elf.SHT_NOBITS, elf.SHF_ALLOC | elf.SHF_WRITE, "kernel bss (.data counter)"},
		{elf.SHT_PROGBITS, elf.SHF_WRITE, "unknown"}, // not allocated: not memory
	} {
		e := newGuestELF(t)
		sh := e.shdr(secData)
		binary.LittleEndian.PutUint32(sh[shType:], uint32(c.typ))
		binary.LittleEndian.PutUint64(sh[shFlags:], uint64(c.flags))
		if got := e.load(t).Owner(testguest.CounterAddr).String(); got != c.want {
			t.Errorf("%v %v: %q, want %q", c.typ, c.flags, got, c.want)
		}
	}
}

// TestOwnersNoSymbols: a kernel ELF without a symbol table still names
// sections; a malformed symbol table is an error.
func TestOwnersNoSymbols(t *testing.T) {
	e := newGuestELF(t)
	binary.LittleEndian.PutUint32(e.shdr(secSymtab)[shType:], uint32(elf.SHT_PROGBITS))
	o := e.load(t)
	if got := o.Owner(e.g.Symbols["tick"]).String(); got != "kernel text (.text)" {
		t.Errorf("Owner(tick) = %q", got)
	}
	if _, ok := o.Symbol("tick"); ok {
		t.Error("Symbol(tick) found without a symbol table")
	}

	e = newGuestELF(t)
	binary.LittleEndian.PutUint64(e.shdr(secSymtab)[32:], 25) // sh_size: not a multiple of 24
	p := filepath.Join(t.TempDir(), "bad.elf")
	if err := os.WriteFile(p, e.b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOwners(p); err == nil || !strings.HasPrefix(err.Error(), "verify: kernel symbols: ") {
		t.Fatalf("malformed symbol table: %v", err)
	}
	if _, err := LoadOwners(filepath.Join(t.TempDir(), "absent")); err == nil || !strings.HasPrefix(err.Error(), "verify: kernel ELF: ") {
		t.Fatalf("absent ELF: %v", err)
	}
}

// TestLookupSizes: a sized symbol ends at its size; a symbol without a size
// extends to the next symbol but only inside its own section.
func TestLookupSizes(t *testing.T) {
	e := newGuestELF(t)
	binary.LittleEndian.PutUint64(e.sym(symMsg)[symSize:], 0)             // msg: no size
	binary.LittleEndian.PutUint64(e.sym(symCounter)[symValue:], 0x101010) // counter moved up
	o := e.load(t)
	for _, c := range []struct {
		addr uint64
		name string
		off  uint64
		ok   bool
	}{
		{0x100084, "msg", 0, true},
		{0x10009e, "msg", 0x1a, true},   // sizeless, inside .text
		{0x1000a0, "", 0, false},        // past .text: in no section
		{0x101004, "", 0, false},        // .data, but msg is in .text
		{0x101010, "counter", 0, true},  //
		{0x101013, "counter", 3, true},  // last byte of a sized symbol
		{0x101014, "", 0, false},        // one past it
		{0x0fffff, "", 0, false},        // below every symbol
		{0x100000, "_start", 0, true},   // the first symbol
		{0x100066 + 6, "tick", 6, true}, // sized .text symbol
	} {
		s, off, ok := o.Lookup(c.addr)
		if ok != c.ok || s.Name != c.name || off != c.off {
			t.Errorf("Lookup(%#x) = %q+%#x %v, want %q+%#x %v", c.addr, s.Name, off, ok, c.name, c.off, c.ok)
		}
	}
	if s, _, _ := o.Lookup(0x100066); !s.Func {
		t.Error("tick is not a function")
	}
	if s, _, _ := o.Lookup(0x101010); s.Func {
		t.Error("counter is a function")
	}
	var nilOwners *Owners
	if _, _, ok := nilOwners.Lookup(0x100000); ok {
		t.Error("nil Owners found a symbol")
	}
	if got := nilOwners.Owner(0x100000); got != (Owner{Kind: Unknown}) {
		t.Errorf("nil Owners: %v", got)
	}
}

// TestOwnerTies: between two declared regions of the same size the first
// declared names the address, and a declared region exactly the size of a
// section wins over the section (only a strictly smaller section wins).
func TestOwnerTies(t *testing.T) {
	o := newGuestELF(t).load(t)
	o.Regions = []Region{
		{Name: "first", Kind: DMA, Base: 0x180000, Size: 0x1000},
		{Name: "second", Kind: Heap, Base: 0x180000, Size: 0x1000},
		{Name: "data twin", Kind: Stack, Base: 0x101000, Size: 0x2000}, // == .data
	}
	for addr, want := range map[uint64]string{
		0x180010:              "DMA (first)",
		testguest.CounterAddr: "stack (data twin)",
	} {
		if got := o.Owner(addr).String(); got != want {
			t.Errorf("Owner(%#x) = %q, want %q", addr, got, want)
		}
	}
}

// TestReportCounts: Compared counts every captured page, Matched those that
// match.
func TestReportCounts(t *testing.T) {
	f := newFixture(t)
	f.mem[0x180010] ^= 1 // the reference differs in one page
	r := f.compare(t)
	if r.Pages != 6 || r.Compared != 6 || r.Matched != 5 || len(r.Mismatches) != 1 || r.PageSize != ps {
		t.Fatalf("Pages %d Compared %d Matched %d mismatches %d: %s", r.Pages, r.Compared, r.Matched, len(r.Mismatches), r)
	}
}

// TestFirstDifferingByteAtZero: with bytes 0 and 5 of a page differing, the
// first differing byte is byte 0 and 2 bytes differ.
func TestFirstDifferingByteAtZero(t *testing.T) {
	f := newFixture(t)
	f.mem[0x180000] ^= 0x01
	f.mem[0x180005] ^= 0x80
	r := f.compare(t)
	want := Mismatch{Addr: 0x180000, Problem: Differs, Offset: 0, Want: f.mem[0x180000], Got: f.mem[0x180000] ^ 0x01,
		DiffBytes: 2, Owner: Owner{Kind: Heap, Where: "heap"}}
	if len(r.Mismatches) != 1 || r.Mismatches[0] != want {
		t.Fatalf("mismatches %+v\nwant %+v", r.Mismatches, want)
	}
	if !strings.Contains(r.String(), "\n  page 0x180000 heap (heap): first differing byte at 0x180000 (offset 0x0): snapshot ") {
		t.Fatal(r.String())
	}
}

// TestNotCopiedRunAfterDiffering: a run of uncopied pages after a differing
// page is listed with its own first and end addresses and its length.
func TestNotCopiedRunAfterDiffering(t *testing.T) {
	f := newFixture(t)
	l, _ := snapshot.NewLayout(ps, f.ranges)
	f.mem[0x100010] ^= 1 // page 0 differs
	w := binary.LittleEndian.Uint64(f.img[l.MapOff:])
	binary.LittleEndian.PutUint64(f.img[l.MapOff:], w&^0b1110) // pages 1-3 not copied
	r := f.compare(t)
	s := r.String()
	if len(r.Mismatches) != 4 || !strings.Contains(s, "\n  page 0x100000 kernel text (.text _start+0x10): first differing byte") ||
		!strings.HasSuffix(s, "\n  pages 0x101000-0x104000 (3 pages, first kernel data (.data counter)): not copied") {
		t.Fatalf("%s", s)
	}
}

// TestPhysSection: a section of an image not based at 0 reads the right
// bytes, and one outside the image is refused with both ranges named.
func TestPhysSection(t *testing.T) {
	mem := make([]byte, 0x3000)
	for i := range mem {
		mem[i] = byte(i * 7)
	}
	p := NewPhys(bytes.NewReader(mem), 0x10000, uint64(len(mem)))
	sec, err := p.Section(0x11000, 0x10)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 0x11)
	n, err := sec.ReadAt(b, 0)
	if n != 0x10 || !errors.Is(err, io.EOF) || !bytes.Equal(b[:n], mem[0x1000:0x1010]) {
		t.Fatalf("Section read %d %v: %x", n, err, b[:n])
	}
	_, err = p.Section(0x12ff0, 0x20)
	if err == nil || err.Error() != "verify: storage [0x12ff0, 0x13010) outside the memory image [0x10000, 0x13000)" {
		t.Fatalf("Section outside: %v", err)
	}
}
