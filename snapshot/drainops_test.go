package snapshot_test

import (
	"testing"

	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
	"github.com/pagesnap/pagesnap/snapshot/sim"
)

// opsMem counts, while on, the loads and CASes of the copy map [lo, hi)
// and the page copies.
type opsMem struct {
	*sim.Memory
	lo, hi         uint64
	on             bool
	mapOps, copies uint64
}

func (c *opsMem) count(pa uint64) {
	if c.on && pa >= c.lo && pa < c.hi {
		c.mapOps++
	}
}

func (c *opsMem) Load64(pa uint64) uint64 { c.count(pa); return c.Memory.Load64(pa) }

func (c *opsMem) CAS64(pa, old, new uint64) bool { c.count(pa); return c.Memory.CAS64(pa, old, new) }

func (c *opsMem) Copy(dst, src, n uint64) {
	if c.on {
		c.copies += n / 4096
	}
	c.Memory.Copy(dst, src, n)
}

// TestDrainMapOps: the drain's work per page beyond its copy. With no
// write fault, the uninterrupted drain copies each page once and touches
// the copy map a few times per 32-page word (it reads the word once and
// claims and marks the pages a step takes from it with one CAS each;
// each released run reads its words once), not per page; the scratch
// drain copies twice and claims each page on its own (a CAS after its
// scratch copy, another when it is done). Every page is hashed and the
// image equals memory at Start.
func TestDrainMapOps(t *testing.T) {
	for _, arch := range []mmu.Arch{mmu.AMD64, mmu.ARM64} {
		for _, direct := range []bool{true, false} {
			for _, budget := range []int{8, 64} {
				om := &opsMem{}
				f := newFixture(t, arch, 7, opts{direct: direct,
					mem: func(m *sim.Memory) snapshot.PhysMem { om.Memory = m; return om }})
				l := f.s.Layout()
				om.lo, om.hi = storageR.Base+l.MapOff, storageR.Base+l.MapOff+l.MapSize
				f.start(t)
				om.on = true
				steps := uint64(0)
				for done := false; !done; steps++ {
					var err error
					if done, err = f.s.DrainStep(budget); err != nil {
						t.Fatal(err)
					}
				}
				om.on = false
				st := f.s.Stats()
				words := (l.NumPages + 31) / 32
				name := arch.String()
				wantCopies, maxOps := st.DrainedPages, 4*words+3*steps
				if !direct {
					name += " scratch"
					wantCopies, maxOps = 2*st.DrainedPages, 4*st.DrainedPages+4*words+3*steps
				}
				if st.Faults != 0 || st.DrainedPages+st.EagerPages != l.NumPages || st.HashedPages != l.NumPages {
					t.Fatalf("%s budget %d: stats %+v", name, budget, st)
				}
				if om.copies != wantCopies || om.mapOps > maxOps {
					t.Errorf("%s budget %d: %d copies, %d copy-map loads and CASes in %d steps over %d words; want %d copies, at most %d",
						name, budget, om.copies, om.mapOps, steps, words, wantCopies, maxOps)
				}
				if bad := f.check(t); len(bad) > 0 {
					t.Fatalf("%s budget %d: %d pages differ", name, budget, len(bad))
				}
				t.Logf("%s budget %d: %d pages drained, %d copy-map operations (%.3f a page) in %d steps", name, budget, st.DrainedPages, om.mapOps, float64(om.mapOps)/float64(st.DrainedPages), steps)
			}
		}
	}
}

// raceMem runs hook before each CAS of the copy map [lo, hi) while on
// (not for the hook's own CASes), fails the CAS if the hook changed the
// word, and counts the slot writes per page.
type raceMem struct {
	*sim.Memory
	lo, hi, data uint64
	on, in       bool
	hook         func(wa uint64)
	fails        int
	writes       map[uint64]int // slot writes per page index
}

func (c *raceMem) CAS64(pa, old, new uint64) bool {
	if c.on && !c.in && pa >= c.lo && pa < c.hi {
		c.in = true
		c.hook(pa)
		c.in = false
	}
	ok := c.Memory.CAS64(pa, old, new)
	if !ok && c.on && pa >= c.lo && pa < c.hi {
		c.fails++
	}
	return ok
}

func (c *raceMem) Copy(dst, src, n uint64) {
	if dst >= c.data {
		c.writes[(dst-c.data)/4096]++
	}
	c.Memory.Copy(dst, src, n)
}

// TestDrainWordRace: the drain's reads and CASes of a copy-map word race
// with write faults on the word's pages. Right before every other CAS the
// drain makes of a word, another CPU stores to the word's last or (in
// turn) first page that is still Uncopied — one the drain is about to
// claim, or one outside its visit — so the fault changes the word
// between the drain's read and its CAS: the claim (or, scratch, the
// page's claim after its copy) fails and is redone on the new word, and
// the uninterrupted drain's marking CAS fails and is redone. Every
// page's slot is written exactly once and the image equals memory at
// Start.
func TestDrainWordRace(t *testing.T) {
	for _, arch := range []mmu.Arch{mmu.AMD64, mmu.ARM64} {
		for _, direct := range []bool{true, false} {
			for _, budget := range []int{4, 8} {
				rm := &raceMem{writes: map[uint64]int{}}
				f := newFixture(t, arch, 11, opts{direct: direct,
					mem: func(m *sim.Memory) snapshot.PhysMem { rm.Memory = m; return rm }})
				l := f.s.Layout()
				rm.lo, rm.hi, rm.data = storageR.Base+l.MapOff, storageR.Base+l.MapOff+l.MapSize, storageR.Base+l.DataOff
				cpu := f.m.NewCPU()
				var stores, n int
				rm.hook = func(wa uint64) {
					// Every other CAS: alternately the word's last
					// and first Uncopied page (the latter, at a
					// claim, one the drain is about to claim).
					n++
					if n%2 == 0 {
						return
					}
					w := rm.Memory.Load64(wa)
					first := (wa - rm.lo) / 8 * 32
					for k := range 32 {
						b := 31 - k
						if n%4 == 3 {
							b = k
						}
						j := first + uint64(b)
						if j >= l.NumPages || w>>b&1 != 0 || w>>(32+b)&1 != 0 {
							continue // not a page, or not Uncopied
						}
						pa := l.PageAddr(j)
						if roR.Contains(pa) {
							continue // the kernel's read-only page: a genuine fault
						}
						if err := cpu.Store64(pa+8, 0x5a5a); err != nil {
							t.Fatal(err)
						}
						stores++
						return
					}
				}
				f.start(t)
				clear(rm.writes) // Start's eager copies
				rm.on = true
				for done, steps := false, 0; !done; steps++ {
					var err error
					if done, err = f.s.DrainStep(budget); err != nil {
						t.Fatal(err)
					}
					if steps > 1e6 {
						t.Fatal("the drain does not finish")
					}
				}
				rm.on = false
				st := f.s.Stats()
				name := arch.String()
				if !direct {
					name += " scratch"
				}
				if stores == 0 || rm.fails == 0 || st.DrainedPages == 0 || st.FaultCopies == 0 || !direct && st.DrainDiscards == 0 {
					t.Fatalf("%s budget %d: %d racing stores, %d failed copy-map CASes: the race was not run; stats %+v", name, budget, stores, rm.fails, st)
				}
				if st.EagerPages+st.FaultCopies+st.DrainedPages != l.NumPages {
					t.Fatalf("%s budget %d: copies %+v do not add up to %d pages", name, budget, st, l.NumPages)
				}
				for j := uint64(0); j < l.NumPages; j++ {
					eager := f.s.Eager()
					isEager := false
					for _, e := range eager {
						if e.Contains(l.PageAddr(j)) {
							isEager = true
						}
					}
					if n := rm.writes[j]; !isEager && n != 1 {
						t.Fatalf("%s budget %d: slot of page %#x written %d times", name, budget, l.PageAddr(j), n)
					}
				}
				if bad := f.check(t); len(bad) > 0 {
					t.Fatalf("%s budget %d: %d pages differ from memory at Start, first %#x", name, budget, len(bad), bad[0])
				}
				t.Logf("%s budget %d: %d racing stores, %d failed copy-map CASes; %+v", name, budget, stores, rm.fails, st)
			}
		}
	}
}
