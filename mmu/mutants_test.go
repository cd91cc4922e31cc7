package mmu

import (
	"errors"
	"maps"
	"testing"
)

// Tests written against gremlins' survivors (MUTANTS.md): each pins one
// result the package's other tests left open.

// TestWalkEntries: Walk records every entry on the path, the writable
// tables the fault path's shortcut descends through included.
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
