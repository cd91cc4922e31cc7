package mmu

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// mem is a small flat physical memory for page tables, based at 0.
type mem struct{ w []atomic.Uint64 }

func newMem(size uint64) *mem { return &mem{w: make([]atomic.Uint64, size/8)} }

func (m *mem) Load64(pa uint64) uint64 {
	if pa/8 >= uint64(len(m.w)) {
		return 0
	}
	return m.w[pa/8].Load()
}
func (m *mem) Store64(pa uint64, v uint64)           { m.w[pa/8].Store(v) }
func (m *mem) CAS64(pa uint64, old, new uint64) bool { return m.w[pa/8].CompareAndSwap(old, new) }

// Test address space: [0,1G) one 1 GiB page, [1G,1G+64M) 2 MiB pages,
// [2G,2G+8M) 4 KiB pages, [3G, 3G+2M) one 2 MiB page, rest unmapped.
var layoutRegions = []struct{ va, size, leaf uint64 }{
	{0, 1 << 30, 1 << 30},
	{1 << 30, 64 << 20, 2 << 20},
	{2 << 30, 8 << 20, 4 << 10},
	{3 << 30, 2 << 20, 2 << 20},
}

// Read-only before any Protect (the kernel's choice, e.g. text): 256 4 KiB
// pages at 2G+1M and the 2 MiB page at 1G+32M. They must stay read-only.
var roRegions = []struct{ va, size, leaf uint64 }{
	{2<<30 + 1<<20, 1 << 20, 4096},
	{1<<30 + 32<<20, 2 << 20, 2 << 20},
}

func isRO(va uint64) bool {
	for _, r := range roRegions {
		if va >= r.va && va < r.va+r.size {
			return true
		}
	}
	return false
}

// newTables builds the test address space; tables and pool live in mem
// (root at 0, the rest from the pool).
func newTables(t testing.TB, arch Arch, poolPages uint64) *Tables {
	m := newMem((1 + poolPages) * PageSize)
	tb := &Tables{Arch: arch, Mem: m, Root: 0, Pool: NewPool(PageSize, poolPages*PageSize)}
	for _, r := range layoutRegions {
		attrs := uint64(0)
		if arch == AMD64 {
			attrs = X86_G
		} else {
			attrs = 1<<2 | ARM_SH | ARM_DBM
		}
		if err := tb.Map(VA(r.va), PA(r.va), r.size, r.leaf, attrs); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range roRegions {
		for va := r.va; va < r.va+r.size; va += r.leaf {
			ea := leafAddr(t, tb, va)
			e := m.Load64(ea)
			if arch == AMD64 {
				e &^= X86_RW
			} else {
				e = e&^ARM_DBM | ARM_AP2
			}
			m.Store64(ea, e)
		}
	}
	return tb
}

// leafAddr returns the address of the leaf entry mapping va.
func leafAddr(t testing.TB, tb *Tables, va uint64) uint64 {
	tab := uint64(tb.Root)
	for level := 0; level < Levels; level++ {
		ea := tab + 8*index(va, level)
		e := tb.Mem.Load64(ea)
		if tb.leaf(e, level) {
			return ea
		}
		tab = tb.next(e)
	}
	t.Fatalf("no leaf for %#x", va)
	return 0
}

func TestMapWalk(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		for _, r := range layoutRegions {
			for _, off := range []uint64{0, 8, r.leaf - 8, r.size - 8} {
				w, err := tb.Walk(VA(r.va + off))
				if err != nil || w.PA != PA(r.va+off) || w.Size != r.leaf || w.Writable == isRO(r.va+off) {
					t.Fatalf("%v: Walk(%#x) = %+v, %v", arch, r.va+off, w, err)
				}
			}
		}
		for _, va := range []uint64{1<<30 + 64<<20, 2<<30 + 8<<20, 5 << 30, 1<<47 + 4096} {
			if _, err := tb.Walk(VA(va)); !errors.Is(err, ErrNotMapped) {
				t.Fatalf("%v: Walk(%#x) err %v", arch, va, err)
			}
		}
	}
}

func TestProtectHierarchical(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		// [0, 1G): one 1 GiB leaf; [1G, 1G+64M): under one PDPTE.
		n, inv, err := tb.Protect(0, 2<<30)
		if err != nil || inv.Kind() != InvalAll {
			t.Fatal(err, inv)
		}
		// PML4E not wholly inside (covers 512 GiB), so: PDPTE 0 (leaf) + PDPTE 1 (table) = 2.
		if n != 2 {
			t.Fatalf("%v: touched %d entries, want 2", arch, n)
		}
		for _, va := range []uint64{0, 1<<30 - 4096, 1 << 30, 1<<30 + 64<<20 - 4096} {
			if w, _ := tb.Walk(VA(va)); w.Writable {
				t.Fatalf("%v: %#x writable after Protect", arch, va)
			}
		}
		if w, _ := tb.Walk(2 << 30); !w.Writable {
			t.Fatalf("%v: 2G not writable", arch)
		}
		used := tb.Pool.Used()
		// Unprotect one page in the 1 GiB leaf: two splits (1G -> 2M -> 4K).
		if inv, err := tb.Unprotect(0x12345000); err != nil || inv.Kind() != InvalPage {
			t.Fatal(err)
		}
		if got := tb.Pool.Used() - used; got != 2 {
			t.Fatalf("%v: %d pool pages for a 1G split, want 2", arch, got)
		}
		for va, want := range map[uint64]bool{
			0x12345000: true, 0x12345ff8: true, 0x12344ff8: false, 0x12346000: false,
			0x12200000: false, 0: false, 1<<30 - 4096: false, 1 << 30: false,
		} {
			w, err := tb.Walk(VA(va))
			if err != nil || w.Writable != want || w.PA != PA(va) {
				t.Fatalf("%v: Walk(%#x) = %+v %v, want writable %v", arch, va, w, err, want)
			}
		}
		// Unprotect a page under a protected table: push-down, no split.
		used = tb.Pool.Used()
		if _, err := tb.Unprotect(1<<30 + 2<<20 + 4096); err != nil {
			t.Fatal(err)
		}
		if w, _ := tb.Walk(1<<30 + 2<<20 + 4096); !w.Writable || w.Size != 4096 {
			t.Fatalf("%v: %+v", arch, w)
		}
		if w, _ := tb.Walk(1 << 30); w.Writable {
			t.Fatalf("%v: push-down left 1G writable", arch)
		}
		if got := tb.Pool.Used() - used; got != 1 { // the 2 MiB leaf split
			t.Fatalf("%v: %d pool pages, want 1", arch, got)
		}
		// UnprotectRange over a 2 MiB-aligned run: no split of wholly covered leaves.
		used = tb.Pool.Used()
		if _, _, err := tb.UnprotectRange(1<<30+4<<20, 4<<20); err != nil {
			t.Fatal(err)
		}
		if tb.Pool.Used() != used {
			t.Fatalf("%v: UnprotectRange split", arch)
		}
		for va, want := range map[uint64]bool{1<<30 + 4<<20: true, 1<<30 + 8<<20 - 8: true, 1<<30 + 8<<20: false, 1<<30 + 4<<20 - 8: false} {
			if w, _ := tb.Walk(VA(va)); w.Writable != want || (want && w.Size != 2<<20) {
				t.Fatalf("%v: Walk(%#x) = %+v, want writable %v", arch, va, w, want)
			}
		}
	}
}

func TestProtectCost(t *testing.T) {
	// 16 GiB of 1 GiB pages and 16 GiB of 2 MiB pages: 16 entries each.
	for _, arch := range []Arch{AMD64, ARM64} {
		for _, leaf := range []uint64{1 << 30, 2 << 20} {
			m := newMem(1 << 20)
			tb := &Tables{Arch: arch, Mem: m, Root: 0, Pool: NewPool(4096, 255*4096)}
			if err := tb.Map(0, 0, 16<<30, leaf, 0); err != nil {
				t.Fatal(err)
			}
			n, _, err := tb.Protect(0, 16<<30)
			if err != nil || n != 16 {
				t.Fatalf("%v leaf %#x: touched %d, %v; want 16", arch, leaf, n, err)
			}
		}
	}
}

func TestReadOnlyStaysReadOnly(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		if _, _, err := tb.Protect(1<<30, 64<<20); err != nil {
			t.Fatal(err)
		}
		if _, _, err := tb.Protect(2<<30, 8<<20); err != nil {
			t.Fatal(err)
		}
		if _, err := tb.Unprotect(1<<30 + 32<<20 + 4096); !errors.Is(err, ErrReadOnly) {
			t.Fatalf("%v: Unprotect of a read-only page: %v", arch, err)
		}
		if _, err := tb.Unprotect(2<<30 + 1<<20); !errors.Is(err, ErrReadOnly) {
			t.Fatalf("%v: Unprotect of a read-only page: %v", arch, err)
		}
		if _, _, err := tb.UnprotectRange(1<<30, 64<<20); err != nil {
			t.Fatal(err)
		}
		if _, _, err := tb.UnprotectRange(2<<30, 8<<20); err != nil {
			t.Fatal(err)
		}
		for _, va := range []uint64{1<<30 + 32<<20, 1<<30 + 34<<20 - 8, 2<<30 + 1<<20, 2<<30 + 2<<20 - 8} {
			if w, _ := tb.Walk(VA(va)); w.Writable {
				t.Fatalf("%v: %#x became writable", arch, va)
			}
		}
		for _, va := range []uint64{1<<30 + 30<<20, 1<<30 + 34<<20, 2<<30 + 1<<20 - 8, 2<<30 + 2<<20} {
			if w, _ := tb.Walk(VA(va)); !w.Writable {
				t.Fatalf("%v: %#x not writable again", arch, va)
			}
		}
	}
}

func TestPoolEmpty(t *testing.T) {
	tb := newTables(t, AMD64, 64)
	tb.Protect(0, 1<<30)
	tb.Pool = NewPool(0, 0)
	if _, err := tb.Unprotect(4096); !errors.Is(err, ErrPoolEmpty) {
		t.Fatalf("err %v", err)
	}
	if w, _ := tb.Walk(4096); w.Writable || w.Size != 1<<30 {
		t.Fatalf("failed Unprotect changed tables: %+v", w)
	}
	if _, _, err := tb.Protect(1, 4096); !errors.Is(err, ErrRange) {
		t.Fatal(err)
	}
}

func TestSplitAttributes(t *testing.T) {
	// amd64: PAT moves from bit 12 to bit 7; XD, G, US, D kept.
	e := uint64(0x40000000) | X86_P | X86_US | X86_PS | X86_PATL | X86_G | X86_D | X86_A | X86_XD
	c := x86Split(e, 1, 3)
	if c != 0x40000000+3<<21|X86_P|X86_US|X86_PS|X86_PATL|X86_G|X86_D|X86_A|X86_XD {
		t.Fatalf("1G->2M child %#x", c)
	}
	c = x86Split(c, 2, 5)
	if c != 0x40000000+3<<21+5<<12|X86_P|X86_US|X86_PAT4|X86_G|X86_D|X86_A|X86_XD {
		t.Fatalf("2M->4K child %#x", c)
	}
	// arm64: block -> block -> page, contiguous dropped, AP/AF/SH/UXN kept.
	a := uint64(0x80000000) | ARM_VALID | ARM_AF | ARM_SH | ARM_AP2 | ARM_UXN | ARM_CONT | 2<<2
	c = armSplit(a, 1, 1)
	if c != 0x80000000+1<<21|ARM_VALID|ARM_AF|ARM_SH|ARM_AP2|ARM_UXN|2<<2 {
		t.Fatalf("arm 1G->2M child %#x", c)
	}
	c = armSplit(c, 2, 2)
	if c != 0x80000000+1<<21+2<<12|ARM_TYPE|ARM_AF|ARM_SH|ARM_AP2|ARM_UXN|2<<2 {
		t.Fatalf("arm 2M->4K child %#x", c)
	}
	tb := &Tables{Arch: ARM64}
	if p := tb.protected(ARM_TYPE|ARM_DBM, 3); p != ARM_TYPE|ARM_AP2|ARM_SWPROT {
		t.Fatalf("arm protect must clear DBM: %#x", p)
	}
}

// op is one page-table operation in the model test.
type op struct {
	kind     int // 0 Protect, 1 Unprotect, 2 UnprotectRange
	va, size uint64
}

// modelWritable returns the expected writability of page va after ops.
func modelWritable(ops []op, va uint64) bool {
	if isRO(va) {
		return false
	}
	for i := len(ops) - 1; i >= 0; i-- {
		o := ops[i]
		if va >= o.va && va < o.va+o.size {
			return o.kind != 0
		}
	}
	return true
}

// interesting addresses: region starts/ends and leaf boundaries.
func pickAddr(r *rand.Rand) uint64 {
	reg := layoutRegions[r.IntN(len(layoutRegions))]
	switch r.IntN(3) {
	case 0:
		return reg.va + uint64(r.IntN(int(reg.size/PageSize)))*PageSize
	case 1:
		return reg.va + uint64(r.IntN(int(reg.size/reg.leaf)+1))*reg.leaf
	default:
		k := reg.va + uint64(r.IntN(int(reg.size/(2<<20))+1))*(2<<20)
		if k == 0 {
			return 0
		}
		return k + uint64(r.IntN(3)-1)*PageSize
	}
}

func runOps(t testing.TB, arch Arch, seed uint64, nops int) {
	r := rand.New(rand.NewPCG(seed, 7))
	tb := newTables(t, arch, 2048)
	var ops []op
	var probes []uint64
	for i := 0; i < nops; i++ {
		a, b := pickAddr(r), pickAddr(r)
		if a > b {
			a, b = b, a
		}
		if a == b {
			b += PageSize
		}
		o := op{kind: r.IntN(3), va: a, size: b - a}
		var err error
		switch o.kind {
		case 0:
			_, _, err = tb.Protect(VA(o.va), o.size)
		case 1:
			o.size = PageSize
			_, err = tb.Unprotect(VA(o.va))
		case 2:
			_, _, err = tb.UnprotectRange(VA(o.va), o.size)
		}
		if (errors.Is(err, ErrNotMapped) || errors.Is(err, ErrReadOnly) && isRO(o.va)) && o.kind == 1 {
			continue
		}
		if err != nil {
			t.Fatalf("seed %d op %d %+v: %v", seed, i, o, err)
		}
		ops = append(ops, o)
		probes = append(probes, o.va, o.va+o.size-PageSize, o.va+o.size, o.va-PageSize)
	}
	for range 200 {
		probes = append(probes, pickAddr(r))
	}
	for _, va := range probes {
		w, err := tb.Walk(VA(va))
		if err != nil {
			continue // unmapped gap
		}
		if w.PA != PA(va) {
			t.Fatalf("seed %d: Walk(%#x).PA = %#x", seed, va, w.PA)
		}
		if want := modelWritable(ops, va); w.Writable != want {
			t.Fatalf("seed %d %v: page %#x writable %v, model %v (ops %v)", seed, arch, va, w.Writable, want, opsString(ops))
		}
	}
}

func opsString(ops []op) string {
	s := ""
	for _, o := range ops {
		s += fmt.Sprintf("\n  %d [%#x,+%#x)", o.kind, o.va, o.size)
	}
	return s
}

func TestOpsModel(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 40
	}
	for seed := uint64(0); seed < uint64(n); seed++ {
		runOps(t, AMD64, seed, 12)
		runOps(t, ARM64, seed, 12)
	}
}

func FuzzOps(f *testing.F) {
	f.Add(uint64(1), uint8(10), false)
	f.Add(uint64(99), uint8(30), true)
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, arm bool) {
		arch := AMD64
		if arm {
			arch = ARM64
		}
		runOps(t, arch, seed, int(n%40))
	})
}

// FuzzWalk walks arbitrary table contents: it must terminate without
// panicking, and a successful walk must agree with the leaf entry.
func FuzzWalk(f *testing.F) {
	f.Add([]byte{0x03, 0x10, 0, 0, 0, 0, 0, 0}, uint64(0x1234), false)
	f.Add([]byte{0x83, 0, 0, 0, 0, 0, 0, 0}, uint64(0x40001234), true)
	f.Fuzz(func(t *testing.T, data []byte, va uint64, arm bool) {
		m := newMem(4 * PageSize)
		for i := 0; i+8 <= len(data) && i < 4*PageSize; i += 8 {
			var v uint64
			for k := 0; k < 8; k++ {
				v |= uint64(data[i+k]) << (8 * k)
			}
			// Spread the words over the four tables at the indexes va uses.
			lvl := (i / 8) % Levels
			m.Store64(uint64(lvl)*PageSize+8*index(va, lvl), v)
		}
		tb := &Tables{Arch: AMD64, Mem: m}
		if arm {
			tb.Arch = ARM64
		}
		va &= 1<<48 - 1
		w, err := tb.Walk(VA(va))
		if err != nil {
			return
		}
		if w.Size != levelSize(w.Level) || uint64(w.PA)&(w.Size-1) != va&(w.Size-1) || w.Leaf != w.Entries[w.Level] ||
			uint64(w.PA)&^(w.Size-1) != tb.next(w.Leaf)&^(w.Size-1) {
			t.Fatalf("inconsistent walk %+v for %#x", w, va)
		}
	})
}

// strayMem is mem that counts accesses outside the tables it holds: a walk
// must never read or write a page's contents as if it were a table.
type strayMem struct {
	*mem
	stray int
}

func (m *strayMem) Load64(pa uint64) uint64 {
	if pa/8 >= uint64(len(m.w)) {
		m.stray++
		return 0
	}
	return m.mem.Load64(pa)
}

func (m *strayMem) Store64(pa uint64, v uint64) {
	if pa/8 >= uint64(len(m.w)) {
		m.stray++
		return
	}
	m.mem.Store64(pa, v)
}

// TestWalkerCounts pins the entries each range operation reports written:
// a split counts its 512 children and the new table entry, a push-down
// its 512 children.
func TestWalkerCounts(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		// One 4 KiB page inside a 2 MiB leaf: split (513) + the page (1).
		if n, _, err := tb.Protect(1<<30+4<<20+4096, 4096); err != nil || n != 514 {
			t.Fatalf("%v: Protect of a page in a 2 MiB leaf touched %d, %v; want 514", arch, n, err)
		}
		tb = newTables(t, arch, 64)
		if _, _, err := tb.Protect(1<<30, 1<<30); err != nil { // one level-1 table entry
			t.Fatal(err)
		}
		// Under the protected table entry: push-down (512) + the entry (1)
		// + two 2 MiB leaves.
		if n, _, err := tb.UnprotectRange(1<<30+4<<20, 4<<20); err != nil || n != 515 {
			t.Fatalf("%v: UnprotectRange under a protected table touched %d, %v; want 515", arch, n, err)
		}
	}
}

// TestUnprotectStrict: Unprotect fails on an unmapped page, and on a large
// page the kernel made read-only without splitting it.
func TestUnprotectStrict(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		if _, err := tb.Unprotect(5 << 30); !errors.Is(err, ErrNotMapped) {
			t.Fatalf("%v: Unprotect of an unmapped page: %v", arch, err)
		}
		if _, err := tb.Unprotect(1<<30 + 64<<20); !errors.Is(err, ErrNotMapped) {
			t.Fatalf("%v: Unprotect past the mapped 2 MiB pages: %v", arch, err)
		}
		used := tb.Pool.Used()
		if _, err := tb.Unprotect(1<<30 + 32<<20 + 4096); !errors.Is(err, ErrReadOnly) || tb.Pool.Used() != used {
			t.Fatalf("%v: Unprotect of a read-only 2 MiB page: %v, %d pool pages", arch, err, tb.Pool.Used()-used)
		}
	}
}

// TestUnprotectLeafWhole: UnprotectLeaf makes the whole large page
// writable without a split, and nothing else.
func TestUnprotectLeafWhole(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		if _, _, err := tb.Protect(1<<30, 64<<20); err != nil {
			t.Fatal(err)
		}
		used := tb.Pool.Used()
		f, err := tb.UnprotectLeaf(1<<30 + 2<<20 + 4096)
		if err != nil || f.Kind() != InvalPage {
			t.Fatalf("%v: UnprotectLeaf: %v %v", arch, f.Kind(), err)
		}
		if tb.Pool.Used() != used {
			t.Fatalf("%v: UnprotectLeaf split", arch)
		}
		for va, want := range map[VA]bool{1<<30 + 2<<20: true, 1<<30 + 4<<20 - 8: true, 1<<30 + 4<<20: false, 1<<30 + 2<<20 - 8: false} {
			if w, _ := tb.Walk(va); w.Writable != want || w.Size != 2<<20 {
				t.Fatalf("%v: Walk(%#x) = %+v, want writable %v", arch, va, w, want)
			}
		}
	}
}

// TestNoStrayAccess: range operations that only partly cover large leaves
// (read-only or writable) never treat a page as a table.
func TestNoStrayAccess(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		sm := &strayMem{mem: tb.Mem.(*mem)}
		tb.Mem = sm
		// Partly over the kernel's read-only 2 MiB page at 1G+32M.
		if _, _, err := tb.Protect(1<<30+33<<20, 2<<20); err != nil {
			t.Fatal(err)
		}
		// Partly over writable 2 MiB pages and the 1 GiB page.
		if _, _, err := tb.UnprotectRange(1<<30+5<<20, 2<<20); err != nil {
			t.Fatal(err)
		}
		if _, _, err := tb.UnprotectRange(1<<29, 4096); err != nil {
			t.Fatal(err)
		}
		if sm.stray != 0 {
			t.Fatalf("%v: %d accesses outside the tables", arch, sm.stray)
		}
	}
}

// TestHighAddresses: the walk starts at the range's own level-0 entry.
func TestHighAddresses(t *testing.T) {
	const hi = 513 << 30 // in the second level-0 entry
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		if err := tb.Map(hi, hi, 4<<20, 2<<20, 0); err != nil {
			t.Fatal(err)
		}
		n, _, err := tb.Protect(hi+2<<20, 2<<20)
		if err != nil || n != 1 {
			t.Fatalf("%v: Protect at 513 GiB touched %d, %v", arch, n, err)
		}
		for va, want := range map[VA]bool{hi: true, hi + 2<<20: false, 0: true, 2 << 20: true} {
			if w, err := tb.Walk(va); err != nil || w.Writable != want {
				t.Fatalf("%v: Walk(%#x) = %+v, %v; want writable %v", arch, va, w, err, want)
			}
		}
	}
}

// TestReleaseLeaves: UnprotectRange over a whole split 2 MiB region whose
// 4 KiB leaves were protected one by one releases each of them in one
// loop (releaseLeaves): every page of the region writable, the entries
// written counted exactly, and nothing past the table's 512 entries
// touched — the next table in the pool (a neighbour region split the
// same way) keeps its protection.
func TestReleaseLeaves(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		a, b := uint64(1<<30+4<<20), uint64(1<<30+6<<20)
		for _, r := range []uint64{a, b} {
			if _, _, err := tb.Protect(VA(r), 2<<20); err != nil {
				t.Fatal(err)
			}
			// A fault's Unprotect splits the 2 MiB leaf: 511 protected
			// 4 KiB leaves and the one written.
			f, err := tb.Unprotect(VA(r + 4096))
			if err != nil {
				t.Fatal(err)
			}
			f.Ignore()
		}
		n, f, err := tb.UnprotectRange(VA(a), 2<<20)
		f.Ignore()
		if err != nil || n != 511 {
			t.Fatalf("%v: UnprotectRange of the split region touched %d, %v; want 511", arch, n, err)
		}
		for va := a; va < a+2<<20; va += PageSize {
			if w, err := tb.Walk(VA(va)); err != nil || !w.Writable || w.Level != Levels-1 {
				t.Fatalf("%v: %#x after UnprotectRange: %+v, %v", arch, va, w, err)
			}
		}
		for va := b; va < b+2<<20; va += PageSize {
			w, err := tb.Walk(VA(va))
			if err != nil || w.Writable != (va == b+4096) {
				t.Fatalf("%v: neighbour page %#x after UnprotectRange: writable %v, %v", arch, va, w.Writable, err)
			}
		}
	}
}
