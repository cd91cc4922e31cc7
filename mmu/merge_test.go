package mmu

import (
	"maps"
	"math/rand/v2"
	"testing"
)

// recInv records the invalidations Merge issues.
type recInv struct{ pages, all int }

func (r *recInv) InvalidatePage(uint64) { r.pages++ }
func (r *recInv) InvalidateAll()        { r.all++ }

// dumpTree returns every valid entry reachable from the root, keyed by
// level and the address it maps.
func dumpTree(tb *Tables) map[[2]uint64]uint64 {
	out := map[[2]uint64]uint64{}
	var rec func(tab uint64, level int, va uint64)
	rec = func(tab uint64, level int, va uint64) {
		for j := uint64(0); j < Entries; j++ {
			e := tb.Mem.Load64(tab + 8*j)
			a := va + j*levelSize(level)
			if !tb.valid(e, level) {
				continue
			}
			out[[2]uint64{uint64(level), a}] = e
			if !tb.leaf(e, level) {
				rec(tb.next(e), level+1, a)
			}
		}
	}
	rec(uint64(tb.Root), 0, 0)
	return out
}

// mergeTables is a machine like the kernel's: a 1 GiB page, 2 MiB pages
// and 4 KiB pages (a table the boot mapping built, never joined), the
// pool sealed after the mapping.
func mergeTables(t *testing.T, arch Arch) *Tables {
	m := newMem(512 * PageSize)
	tb := &Tables{Arch: arch, Mem: m, Root: 0, Pool: NewPool(PageSize, 511*PageSize)}
	attrs := uint64(X86_G | X86_XD)
	if arch == ARM64 {
		attrs = 1<<2 | ARM_SH | ARM_UXN
	}
	for _, r := range []struct{ va, size, leaf uint64 }{
		{0, 1 << 30, 1 << 30}, {1 << 30, 64 << 20, 2 << 20}, {2 << 30, 8 << 20, 4 << 10},
	} {
		if err := tb.Map(VA(r.va), PA(r.va), r.size, r.leaf, attrs); err != nil {
			t.Fatal(err)
		}
	}
	tb.Pool.Seal()
	return tb
}

// TestMergeRestoresTree: a snapshot's life — Protect around eager holes
// (splits at their edges), faults (Unprotect: splits down to 4 KiB), the
// drain's and completion's UnprotectRange — then Merge: the tree equals
// the tree before the snapshot, entry for entry, and the pool is back to
// its sealed count. Repeated, so a leak would show.
func TestMergeRestoresTree(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := mergeTables(t, arch)
		before := dumpTree(tb)
		sealed := tb.Pool.Used()
		r := rand.New(rand.NewPCG(1, uint64(arch)))
		captured := [][2]uint64{{0, 1 << 30}, {1 << 30, 64 << 20}, {2 << 30, 8 << 20}}
		for round := 0; round < 20; round++ {
			// Eager holes: a few random pages; Protect the rest.
			var holes []uint64
			for range 4 {
				c := captured[r.IntN(len(captured))]
				holes = append(holes, c[0]+r.Uint64N(c[1]/PageSize)*PageSize)
			}
			for _, c := range captured {
				lo := c[0]
				for a := c[0]; a < c[0]+c[1]; a += PageSize {
					isHole := false
					for _, h := range holes {
						isHole = isHole || h == a
					}
					if isHole {
						if a > lo {
							_, f, err := tb.Protect(VA(lo), a-lo)
							f.Ignore() // the model has no TLB
							if err != nil {
								t.Fatal(err)
							}
						}
						lo = a + PageSize
					}
				}
				if lo < c[0]+c[1] {
					_, f, err := tb.Protect(VA(lo), c[0]+c[1]-lo)
					f.Ignore() // the model has no TLB
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			for range 50 {
				c := captured[r.IntN(len(captured))]
				a := c[0] + r.Uint64N(c[1]/PageSize)*PageSize
				f, err := tb.Unprotect(VA(a))
				f.Ignore() // the model has no TLB
				if err != nil {
					t.Fatal(err)
				}
			}
			if tb.Pool.Used() == sealed {
				t.Fatalf("%v: nothing split: the test does not exercise Merge", arch)
			}
			// Split tables with read-only children are not joined, and
			// the pool is kept.
			used := tb.Pool.Used()
			var inv recInv
			if merged, left := tb.Merge(&inv, true, nil); merged != 0 || left == 0 || tb.Pool.Used() != used {
				t.Fatalf("%v: Merge with protected tables: merged %d, left %d, pool %d -> %d", arch, merged, left, used, tb.Pool.Used())
			}
			for _, c := range captured {
				_, f, err := tb.UnprotectRange(VA(c[0]), c[1])
				f.Ignore() // the model has no TLB
				if err != nil {
					t.Fatal(err)
				}
			}
			inv = recInv{}
			merged, left := tb.Merge(&inv, true, nil)
			if left != 0 || merged == 0 {
				t.Fatalf("%v round %d: merged %d, left %d", arch, round, merged, left)
			}
			if inv.all == 0 {
				t.Fatalf("%v: Merge issued no invalidation", arch)
			}
			if got := tb.Pool.Used(); got != sealed {
				t.Fatalf("%v round %d: pool used %d after Merge, want %d (sealed)", arch, round, got, sealed)
			}
			if after := dumpTree(tb); !maps.Equal(before, after) {
				for k, v := range after {
					if before[k] != v {
						t.Errorf("%v: level %d va %#x: %#x, before %#x", arch, k[0], k[1], v, before[k])
					}
				}
				for k, v := range before {
					if _, ok := after[k]; !ok {
						t.Errorf("%v: level %d va %#x: gone (was %#x)", arch, k[0], k[1], v)
					}
				}
				t.Fatalf("%v round %d: tree differs after Merge", arch, round)
			}
		}
	}
}

// TestMergeKeepsChanged: a split table whose children no longer map what
// the large leaf mapped (an attribute changed) stays, and the pool is not
// returned while it lives.
func TestMergeKeepsChanged(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := mergeTables(t, arch)
		_, f, _ := tb.Protect(1<<30+4096, 4096)
		f.Ignore() // the model has no TLB
		_, f, _ = tb.UnprotectRange(1<<30+4096, 4096)
		f.Ignore() // the model has no TLB
		used := tb.Pool.Used()
		ea := leafAddr(t, tb, 1<<30+8192)
		tb.Mem.Store64(ea, tb.Mem.Load64(ea)^1<<4) // PCD / AttrIndx bit
		var inv recInv
		if merged, left := tb.Merge(&inv, true, nil); merged != 0 || left != 1 {
			t.Fatalf("%v: merged %d, left %d; want 0, 1", arch, merged, left)
		}
		if tb.Pool.Used() != used {
			t.Fatalf("%v: pool returned with a split table alive", arch)
		}
		if w, _ := tb.Walk(1<<30 + 8192); w.Size != PageSize {
			t.Fatalf("%v: changed table joined: %+v", arch, w)
		}
	}
}

// TestMergeUnsealed: a pool never sealed has no split tables: the boot
// mapping's 4 KiB tables stay.
func TestMergeUnsealed(t *testing.T) {
	m := newMem(64 * PageSize)
	tb := &Tables{Arch: AMD64, Mem: m, Root: 0, Pool: NewPool(PageSize, 63*PageSize)}
	if err := tb.Map(0, 0, 2<<20, PageSize, 0); err != nil {
		t.Fatal(err)
	}
	if merged, left := tb.Merge(&recInv{}, true, nil); merged != 0 || left != 0 {
		t.Fatalf("merged %d, left %d", merged, left)
	}
	if w, _ := tb.Walk(4096); w.Size != PageSize {
		t.Fatalf("%+v", w)
	}
}

// TestMergeARM64NotQuiet: without the quiet promise arm64 tables stay
// (break-before-make would unmap the region under a running program) and
// the pool is kept; amd64 joins anyway.
func TestMergeARM64NotQuiet(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		tb := mergeTables(t, arch)
		_, f, _ := tb.Protect(1<<30+4096, 4096)
		f.Ignore() // the model has no TLB
		_, f, _ = tb.UnprotectRange(1<<30+4096, 4096)
		f.Ignore() // the model has no TLB
		merged, left := tb.Merge(&recInv{}, false, nil)
		if arch == ARM64 && (merged != 0 || left != 1) || arch == AMD64 && (merged != 1 || left != 0) {
			t.Fatalf("%v: merged %d, left %d", arch, merged, left)
		}
	}
}

// TestPrepareApply: Prepare and Apply leave every page with the permission
// plain Protect gives it, writing one entry per GiB instead of splitting
// and protecting leaf by leaf, and after faults and the release Merge puts
// back the tree of before (the GiBs' own page directories, with their
// 2 MiB leaves and the boot 4 KiB tables) and returns the pool.
func TestPrepareApply(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		plain, prep := mergeTables(t, arch), mergeTables(t, arch)
		before := dumpTree(prep)
		sealed := prep.Pool.Used()
		// Captured: [1G, 1G+64M) (2 MiB leaves) and [2G, 2G+8M) (a boot
		// 4 KiB table per 2 MiB); eager holes cut four regions.
		holes := []uint64{1<<30 + 4<<20 + 5*4096, 1<<30 + 4<<20 + 100*4096, 1<<30 + 33<<20, 2<<30 + 2<<20 + 4096, 2<<30 + 6<<20}
		var rs []Region
		for _, c := range [][2]uint64{{1 << 30, 64 << 20}, {2 << 30, 8 << 20}} {
			lo := c[0]
			for _, h := range holes {
				if h >= c[0] && h < c[0]+c[1] {
					if h > lo {
						rs = append(rs, Region{VA(lo), h - lo})
					}
					lo = h + PageSize
				}
			}
			rs = append(rs, Region{VA(lo), c[0] + c[1] - lo})
		}
		var nPlain int
		for _, r := range rs {
			n, f, err := plain.Protect(r.VA, r.Size)
			f.Ignore() // the model has no TLB
			if err != nil {
				t.Fatal(err)
			}
			nPlain += n
		}
		var p Prepared
		if err := prep.Prepare(&p, rs); err != nil {
			t.Fatal(err)
		}
		if p.Len() != 2 {
			t.Fatalf("%v: %d GiBs prepared, want 2", arch, p.Len())
		}
		n, whole := prep.Apply(&p)
		if n != 2 || !whole {
			t.Fatalf("%v: Apply wrote %d entries, whole %v; want 2, true", arch, n, whole)
		}
		// Apply alone protected everything: Protect finds nothing to do.
		for _, r := range rs {
			m, f, err := prep.Protect(r.VA, r.Size)
			f.Ignore() // the model has no TLB
			if err != nil || m != 0 {
				t.Fatalf("%v: Protect after Apply wrote %d entries, %v", arch, m, err)
			}
		}
		if nPlain < 1000 {
			t.Fatalf("%v: plain Protect wrote %d entries: the holes split nothing", arch, nPlain)
		}
		for _, c := range [][2]uint64{{1 << 30, 64 << 20}, {2 << 30, 8 << 20}} {
			for a := c[0]; a < c[0]+c[1]; a += PageSize {
				w1, err1 := plain.Walk(VA(a))
				w2, err2 := prep.Walk(VA(a))
				if err1 != nil || err2 != nil || w1.Writable != w2.Writable || w1.PA != w2.PA {
					t.Fatalf("%v: page %#x: plain %+v %v, prepared %+v %v", arch, a, w1, err1, w2, err2)
				}
			}
		}
		// Faults, then the release and the merge.
		for _, a := range []uint64{1<<30 + 4<<20 + 6*4096, 2<<30 + 2<<20 + 8192, 1<<30 + 40<<20} {
			f, err := prep.Unprotect(VA(a))
			f.Ignore() // the model has no TLB
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range rs {
			_, f, err := prep.UnprotectRange(r.VA, r.Size)
			f.Ignore() // the model has no TLB
			if err != nil {
				t.Fatal(err)
			}
		}
		merged, left := prep.Merge(&recInv{}, true, &p)
		if left != 0 || merged == 0 {
			t.Fatalf("%v: merged %d, left %d", arch, merged, left)
		}
		if got := prep.Pool.Used(); got != sealed {
			t.Fatalf("%v: pool used %d after Merge, want %d", arch, got, sealed)
		}
		if after := dumpTree(prep); !maps.Equal(before, after) {
			t.Fatalf("%v: tree differs after Merge", arch)
		}
	}
}

// TestMergeKeepsOnlyLive: a split table that cannot be joined keeps its
// pool page and those below it; the pages above it return.
func TestMergeKeepsOnlyLive(t *testing.T) {
	tb := mergeTables(t, AMD64)
	sealed := tb.Pool.Used()
	for _, a := range []uint64{1<<30 + 4096, 1<<30 + 8<<20 + 4096, 1<<30 + 16<<20 + 4096} {
		_, f, _ := tb.Protect(VA(a), 4096)
		f.Ignore() // the model has no TLB
		_, f, _ = tb.UnprotectRange(VA(a), 4096)
		f.Ignore() // the model has no TLB
	}
	// The second split's table (pool index sealed+1) changes.
	ea := leafAddr(t, tb, 1<<30+8<<20+8192)
	tb.Mem.Store64(ea, tb.Mem.Load64(ea)^X86_PCD)
	if merged, left := tb.Merge(&recInv{}, true, nil); merged != 2 || left != 1 {
		t.Fatalf("merged %d, left %d; want 2, 1", merged, left)
	}
	if got := tb.Pool.Used(); got != sealed+2 {
		t.Fatalf("pool used %d, want %d (up to the table left)", got, sealed+2)
	}
}
