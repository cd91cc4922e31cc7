package mmu

import (
	"errors"
	"maps"
	"testing"
)

// Tests written against gremlins' survivors (MUTANTS.md): each pins one
// result the package's other tests left open.

// TestWalkEntries: Walk records every entry on the path, writable tables
// included (walkPage once descended through those without the visitor).
func TestWalkEntries(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		for _, va := range []uint64{2<<30 + 4096, 1<<30 + 6<<20 + 8, 1 << 29} {
			w, err := tb.Walk(VA(va))
			if err != nil {
				t.Fatal(err)
			}
			var want [Levels]uint64
			tab := uint64(tb.Root)
			for level := 0; level < Levels; level++ {
				e := tb.Mem.Load64(tab + 8*index(va, level))
				want[level] = e
				if tb.leaf(e, level) {
					break
				}
				tab = tb.next(e)
			}
			if w.Entries != want {
				t.Errorf("%v: Walk(%#x).Entries = %#x, want %#x", arch, va, w.Entries, want)
			}
		}
	}
}

// TestRangeBounds: checkRange accepts a range ending at 2^48 and a
// zero-size one (a no-op: nothing written, no invalidation), and refuses
// one a page past 2^48.
func TestRangeBounds(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		before := dumpTree(tb)
		if n, f, err := tb.Protect(1<<48-PageSize, PageSize); err != nil || n != 0 || f.Kind() != InvalNone {
			t.Errorf("%v: Protect of the last page below 2^48: %d, %v, %v", arch, n, f.Kind(), err)
		}
		if _, _, err := tb.Protect(1<<48-PageSize, 2*PageSize); !errors.Is(err, ErrRange) {
			t.Errorf("%v: Protect past 2^48: %v, want ErrRange", arch, err)
		}
		if n, f, err := tb.UnprotectRange(1<<48-PageSize, PageSize); err != nil || n != 0 || f.Kind() != InvalNone {
			t.Errorf("%v: UnprotectRange of the last page below 2^48: %d, %v, %v", arch, n, f.Kind(), err)
		}
		for _, va := range []VA{1<<30 + 4096, 2<<30 + 4096, 0, 5 << 30} {
			if n, f, err := tb.Protect(va, 0); err != nil || n != 0 || f.Kind() != InvalNone {
				t.Errorf("%v: Protect(%#x, 0): %d, %v, %v", arch, va, n, f.Kind(), err)
			}
			if n, f, err := tb.UnprotectRange(va, 0); err != nil || n != 0 || f.Kind() != InvalNone {
				t.Errorf("%v: UnprotectRange(%#x, 0): %d, %v, %v", arch, va, n, f.Kind(), err)
			}
		}
		if !maps.Equal(before, dumpTree(tb)) {
			t.Errorf("%v: the tables changed", arch)
		}
	}
}

// TestFlushKinds: a range operation that writes nothing asks for no
// invalidation; one that writes asks for all translations, or for the one
// page if UnprotectRange covered a single page.
func TestFlushKinds(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		const va = 2<<30 + 2<<20 // 4 KiB pages
		if n, f, err := tb.Protect(va, 2*PageSize); err != nil || n != 2 || f.Kind() != InvalAll {
			t.Fatalf("%v: Protect: %d, %v, %v", arch, n, f.Kind(), err)
		}
		if n, f, err := tb.Protect(va, 2*PageSize); err != nil || n != 0 || f.Kind() != InvalNone {
			t.Errorf("%v: Protect of a protected range: %d, %v, %v", arch, n, f.Kind(), err)
		}
		if n, f, err := tb.UnprotectRange(va, PageSize); err != nil || n != 1 || f.Kind() != InvalPage {
			t.Errorf("%v: UnprotectRange of one page: %d, %v, %v", arch, n, f.Kind(), err)
		}
		if n, f, err := tb.UnprotectRange(va, 2*PageSize); err != nil || n != 1 || f.Kind() != InvalAll {
			t.Errorf("%v: UnprotectRange of two pages: %d, %v, %v", arch, n, f.Kind(), err)
		}
		if n, f, err := tb.UnprotectRange(va, 2*PageSize); err != nil || n != 0 || f.Kind() != InvalNone {
			t.Errorf("%v: UnprotectRange of a writable range: %d, %v, %v", arch, n, f.Kind(), err)
		}
	}
}

// TestMapLeafSize: Map refuses every leaf size but 4 KiB, 2 MiB and
// 1 GiB (512 GiB, level 0, included), and writes exact leaf entries.
func TestMapLeafSize(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		before := dumpTree(tb)
		for _, leaf := range []uint64{0, 8, 8 << 10, 4 << 20, 512 << 30} {
			if err := tb.Map(8<<30, 8<<30, 1<<30, leaf, 0); !errors.Is(err, ErrRange) {
				t.Errorf("%v: Map with leaf size %#x: %v, want ErrRange", arch, leaf, err)
			}
		}
		if !maps.Equal(before, dumpTree(tb)) {
			t.Errorf("%v: a refused Map changed the tables", arch)
		}
		// Free pool pages hold garbage: Map must clear each table it
		// takes, and only that page.
		const sentinel = 0x5a5a5a5a5a5a5a5a
		m := tb.Mem.(*mem)
		used := tb.Pool.Used()
		for pa := PageSize * (1 + used); pa < uint64(len(m.w))*8; pa += 8 {
			m.Store64(pa, sentinel)
		}
		for _, leaf := range []uint64{4 << 10, 2 << 20, 1 << 30} {
			va := map[uint64]uint64{4 << 10: 12 << 30, 2 << 20: 14 << 30, 1 << 30: 16 << 30}[leaf] // fresh regions
			const pa = 40 << 30
			if err := tb.Map(VA(va), pa, leaf, leaf, 0); err != nil {
				t.Fatal(err)
			}
			e := tb.Mem.Load64(leafAddr(t, tb, va))
			var want uint64
			switch {
			case arch == AMD64 && leaf == 4<<10:
				want = pa | X86_P | X86_RW | X86_A | X86_D
			case arch == AMD64:
				want = pa | X86_P | X86_RW | X86_A | X86_D | X86_PS
			case leaf == 4<<10:
				want = pa | ARM_TYPE | ARM_AF
			default:
				want = pa | ARM_VALID | ARM_AF
			}
			if e != want {
				t.Errorf("%v: Map's %#x leaf: %#x, want %#x", arch, leaf, e, want)
			}
		}
		// The three Maps took a level-2 table for 12 GiB, its level-3
		// table, and a level-2 table for 14 GiB: each holds its one entry
		// (index 0: the regions are 1 GiB aligned), zeros elsewhere; the
		// next page is untouched.
		if got := tb.Pool.Used(); got != used+3 {
			t.Fatalf("%v: Map took %d tables, want 3", arch, got-used)
		}
		for pa := PageSize * (1 + used); pa < PageSize*(1+used+3); pa += 8 {
			if e := m.Load64(pa); e != 0 && pa%PageSize != 0 { // each one's entry is its first
				t.Errorf("%v: a new table's word %#x is %#x, want 0", arch, pa, e)
			}
		}
		if e := m.Load64(PageSize * (1 + used + 3)); e != sentinel {
			t.Errorf("%v: Map wrote %#x past its tables", arch, e)
		}
	}
}

// TestSplitEntries: a split links its table by an exact table entry (on
// amd64 with the leaf's US bit) and writes the table's 512 entries,
// nothing past them.
func TestSplitEntries(t *testing.T) {
	const sentinel = 0x5a5a5a5a5a5a5a5a
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		attrs := uint64(X86_US)
		if arch == ARM64 {
			attrs = 1 << 2
		}
		const va = 20 << 30
		if err := tb.Map(va, va, 2<<20, 2<<20, attrs); err != nil {
			t.Fatal(err)
		}
		m := tb.Mem.(*mem)
		used := tb.Pool.Used()
		for pa := PageSize * (1 + used); pa < uint64(len(m.w))*8; pa += 8 {
			m.Store64(pa, sentinel)
		}
		ea := leafAddr(t, tb, va)
		old := tb.Mem.Load64(ea)
		if _, _, err := tb.Protect(va+PageSize, PageSize); err != nil {
			t.Fatal(err)
		}
		tab := PageSize * (1 + used) // the pool's next page
		want := tab | ARM_TYPE
		if arch == AMD64 {
			want = tab | X86_P | X86_RW | X86_A | old&X86_US
		}
		if e := tb.Mem.Load64(ea); e != want {
			t.Errorf("%v: the split's table entry %#x, want %#x", arch, e, want)
		}
		for j := uint64(0); j < Entries; j++ {
			c := tb.splitChild(old, 2, j)
			if j == 1 {
				c = tb.protected(c, 3)
			}
			if e := tb.Mem.Load64(tab + 8*j); e != c {
				t.Fatalf("%v: child %d: %#x, want %#x", arch, j, e, c)
			}
		}
		if e := tb.Mem.Load64(tab + PageSize); e != sentinel {
			t.Errorf("%v: the split wrote %#x past its table", arch, e)
		}
	}
}

// TestMergeInvalidations: Merge invalidates all translations once if it
// joined a table (amd64), and once more per join on arm64 (its
// break-before-make); if it joined nothing, not at all.
func TestMergeInvalidations(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := mergeTables(t, arch)
		const va = 1<<30 + 2<<20 // a 2 MiB page
		if _, _, err := tb.Protect(va+PageSize, PageSize); err != nil {
			t.Fatal(err)
		}
		var inv recInv
		if merged, left := tb.Merge(&inv, true, nil); merged != 0 || left != 1 || inv != (recInv{}) {
			t.Errorf("%v: Merge of a protected split: %d merged, %d left, %+v", arch, merged, left, inv)
		}
		if _, _, err := tb.UnprotectRange(va+PageSize, PageSize); err != nil {
			t.Fatal(err)
		}
		want := recInv{all: 1}
		if arch == ARM64 {
			want.all = 2
		}
		if merged, left := tb.Merge(&inv, true, nil); merged != 1 || left != 0 || inv != want {
			t.Errorf("%v: Merge of a released split: %d merged, %d left, %+v; want %+v", arch, merged, left, inv, want)
		}
	}
}

// TestRangeBoundsUnderProtection: a zero-size UnprotectRange inside
// protected tables and leaves changes nothing either (a walk of an empty
// range would push protection down and split).
func TestRangeBoundsUnderProtection(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		for _, r := range []Region{{1 << 30, 1 << 30}, {3 << 30, 2 << 20}} {
			if _, _, err := tb.Protect(r.VA, r.Size); err != nil {
				t.Fatal(err)
			}
		}
		before := dumpTree(tb)
		for _, va := range []VA{1<<30 + 4096, 1<<30 + 4<<20, 3<<30 + 4096} {
			if n, f, err := tb.UnprotectRange(va, 0); err != nil || n != 0 || f.Kind() != InvalNone {
				t.Errorf("%v: UnprotectRange(%#x, 0): %d, %v, %v", arch, va, n, f.Kind(), err)
			}
		}
		if !maps.Equal(before, dumpTree(tb)) {
			t.Errorf("%v: the tables changed", arch)
		}
	}
}

// TestPoolBounds: a pool of n pages hands out exactly n, in order, and
// split counts only the pages allocated after Seal, up to the pool's end.
func TestPoolBounds(t *testing.T) {
	const base = 1 << 20
	p := NewPool(base, 3*PageSize)
	if p.Cap() != 3 {
		t.Fatalf("Cap %d, want 3", p.Cap())
	}
	for i := uint64(0); i < 3; i++ {
		if j, pa, ok := p.allocFree(); !ok || j != i || pa != base+i*PageSize {
			t.Fatalf("alloc %d: %d, %#x, %v", i, j, pa, ok)
		}
		if i == 0 {
			p.Seal()
		}
	}
	if _, _, ok := p.allocFree(); ok {
		t.Fatal("a fourth page from a pool of three")
	}
	if p.Used() != 3 {
		t.Fatalf("Used %d, want 3", p.Used())
	}
	for pa, want := range map[uint64]bool{
		base - PageSize: false, base: false, // below the sealed floor
		base + PageSize: true, base + 2*PageSize: true, // split tables
		base + 3*PageSize: false, base + 4*PageSize: false, // past the pool
	} {
		if p.split(pa) != want {
			t.Errorf("split(%#x) = %v, want %v", pa, !want, want)
		}
	}
}

// TestLevel0NeverLeaf: a PML4 entry is never a leaf, whatever its bit 7
// (reserved there: Intel SDM Vol. 3A, 4.5.4, Table 4-15).
func TestLevel0NeverLeaf(t *testing.T) {
	if x86Leaf(X86_P|X86_RW|X86_PS, 0) {
		t.Error("a level-0 entry with PS read as a leaf")
	}
	if !x86Leaf(X86_P|X86_RW|X86_PS, 1) || !x86Leaf(X86_P, 3) || x86Leaf(X86_P, 2) {
		t.Error("x86Leaf at levels 1 to 3")
	}
}

// TestRetarget: retarget replaces the whole address field (amd64 bits
// 51:12, arm64 47:12) and keeps every other bit.
func TestRetarget(t *testing.T) {
	amd := &Tables{Arch: AMD64}
	if got, want := amd.retarget(1<<63|0xf<<48|0x1234<<12|X86_P|X86_RW|X86_A, 0x5000), uint64(1<<63|0x5000|X86_P|X86_RW|X86_A); got != want {
		t.Errorf("amd64: %#x, want %#x", got, want)
	}
	arm := &Tables{Arch: ARM64}
	if got, want := arm.retarget(1<<63|0xf<<48|0x1234<<12|ARM_TYPE, 0x5000), uint64(1<<63|0xf<<48|0x5000|ARM_TYPE); got != want {
		t.Errorf("arm64: %#x, want %#x", got, want)
	}
}

// TestPrepareGiBEdge: a range ending at a GiB boundary prepares its own
// GiB only, and a GiB covered whole takes no pool page (its entry is made
// read-only).
func TestPrepareGiBEdge(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := mergeTables(t, arch)
		used := tb.Pool.Used()
		var p Prepared
		if err := tb.Prepare(&p, []Region{{1 << 30, 1 << 30}}); err != nil {
			t.Fatal(err)
		}
		if p.Len() != 1 || tb.Pool.Used() != used {
			t.Errorf("%v: %d GiBs prepared, %d pool pages; want 1, 0", arch, p.Len(), tb.Pool.Used()-used)
		}
	}
}

// TestPrepareTableExtent: a prepared 4 KiB table is written up to its
// 512th entry, not past it.
func TestPrepareTableExtent(t *testing.T) {
	const sentinel = 0x5a5a5a5a5a5a5a5a
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := mergeTables(t, arch)
		m := tb.Mem.(*mem)
		used := tb.Pool.Used()
		for pa := PageSize * (1 + used); pa < uint64(len(m.w))*8; pa += 8 {
			m.Store64(pa, sentinel)
		}
		var p Prepared
		if err := tb.Prepare(&p, []Region{{1<<30 + 4096, 4096}}); err != nil {
			t.Fatal(err)
		}
		if got := tb.Pool.Used(); got != used+2 {
			t.Fatalf("%v: Prepare took %d pages, want 2 (a directory, a table)", arch, got-used)
		}
		if e := m.Load64(PageSize * (1 + used + 2)); e != sentinel {
			t.Errorf("%v: Prepare wrote %#x past its table", arch, e)
		}
	}
}

// TestMergeRestoreCompares: Merge puts a prepared GiB's original entry
// back only if the prepared directory maps what the original did entry for
// entry, and each prepared 4 KiB table what its 2 MiB leaf did leaf for
// leaf — a difference in a later entry keeps it; with none, it is restored
// (one merged) and the pool returned.
func TestMergeRestoreCompares(t *testing.T) {
	const flip = 1 << 4 // an attribute bit on both (amd64 PCD, arm64 AttrIndx[2])
	for _, arch := range []Arch{AMD64, ARM64} {
		for _, change := range []string{"", "directory", "table"} {
			tb := mergeTables(t, arch)
			before := dumpTree(tb)
			sealed := tb.Pool.Used()
			ea1 := uint64(tb.Root) // the level-1 entry of GiB 1
			ea1 = tb.next(tb.Mem.Load64(ea1+8*index(1<<30, 0))) + 8*index(1<<30, 1)
			orig := tb.Mem.Load64(ea1)
			var p Prepared
			r := Region{1<<30 + 4096, 4096} // a page of the first 2 MiB leaf
			if err := tb.Prepare(&p, []Region{r}); err != nil {
				t.Fatal(err)
			}
			if n, _ := tb.Apply(&p); n != 1 {
				t.Fatalf("%v: Apply wrote %d", arch, n)
			}
			if _, _, err := tb.UnprotectRange(r.VA, r.Size); err != nil {
				t.Fatal(err)
			}
			pd := tb.next(tb.Mem.Load64(ea1))
			switch change {
			case "directory": // the 2 MiB leaf at 1G+10M
				tb.Mem.Store64(pd+8*5, tb.Mem.Load64(pd+8*5)^flip)
			case "table": // leaf 7 of the prepared table at 1G
				pt := tb.next(tb.Mem.Load64(pd))
				tb.Mem.Store64(pt+8*7, tb.Mem.Load64(pt+8*7)^flip)
			}
			merged, left := tb.Merge(&recInv{}, true, &p)
			restored := tb.Mem.Load64(ea1) == orig
			if change == "" {
				if merged != 1 || left != 0 || !restored || tb.Pool.Used() != sealed || !maps.Equal(before, dumpTree(tb)) {
					t.Errorf("%v: Merge: %d merged, %d left, restored %v, %d pool pages kept", arch, merged, left, restored, tb.Pool.Used()-sealed)
				}
				continue
			}
			if restored || left == 0 {
				t.Errorf("%v: Merge with a changed %s: %d merged, %d left, restored %v", arch, change, merged, left, restored)
			}
		}
	}
}

// TestLeafSize: LeafSize gives the size of the page mapping va, ignores
// bits 63:48 and the offset in the page (and only those), and fails with
// ErrNotMapped on an unmapped page.
func TestLeafSize(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := newTables(t, arch, 64)
		// A lone 4 KiB page at an odd index: its neighbour below is
		// unmapped.
		const lone = 10<<30 + PageSize
		if err := tb.Map(lone, lone, PageSize, PageSize, 0); err != nil {
			t.Fatal(err)
		}
		for _, r := range append(layoutRegions, struct{ va, size, leaf uint64 }{lone, PageSize, PageSize}) {
			for _, off := range []uint64{0, 8, r.size - 8} {
				for _, hi := range []uint64{0, 0xffff << 48} {
					if s, err := tb.LeafSize(VA(hi | r.va + off)); err != nil || s != r.leaf {
						t.Errorf("%v: LeafSize(%#x) = %#x, %v; want %#x", arch, hi|r.va+off, s, err, r.leaf)
					}
				}
			}
		}
		for _, va := range []uint64{lone - PageSize, lone + PageSize, 5 << 30, 1 << 47} {
			if s, err := tb.LeafSize(VA(va)); !errors.Is(err, ErrNotMapped) || s != 0 {
				t.Errorf("%v: LeafSize(%#x) = %#x, %v; want ErrNotMapped", arch, va, s, err)
			}
		}
	}
}

// TestPoolUnalloc: unalloc returns the most recent page (a split whose
// link lost its CAS), and only that one.
func TestPoolUnalloc(t *testing.T) {
	p := NewPool(1<<20, 4*PageSize)
	p.allocFree()
	i, _, _ := p.alloc()
	p.unalloc(i)
	if p.Used() != 1 {
		t.Fatalf("Used %d after unalloc of the last page, want 1", p.Used())
	}
	p.alloc()
	j, _, _ := p.alloc()
	p.unalloc(j - 1) // no longer the last: kept
	if p.Used() != 3 {
		t.Fatalf("Used %d after unalloc of an earlier page, want 3", p.Used())
	}
}

// TestSameKind: an entry is the same kind as another if only permission
// bits differ: not if it became a leaf or a table, moved, or went invalid.
func TestSameKind(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := &Tables{Arch: arch}
		leaf := tb.leafEntry(0x40000000, 2, 0)
		table := tb.tableEntry(0x5000, leaf)
		for _, c := range []struct {
			n, e uint64
			want bool
		}{
			{tb.protected(leaf, 2), leaf, true},
			{tb.protected(table, 2), table, true},
			{tb.tableEntry(0x40000000, leaf), leaf, false},
			{tb.leafEntry(0x5000, 2, 0), table, false},
			{tb.leafEntry(0x40200000, 2, 0), leaf, false},
			{tb.tableEntry(0x6000, leaf), table, false},
			{0, leaf, false},
		} {
			if got := tb.sameKind(c.n, c.e, 2); got != c.want {
				t.Errorf("%v: sameKind(%#x, %#x) = %v, want %v", arch, c.n, c.e, got, c.want)
			}
		}
	}
}
