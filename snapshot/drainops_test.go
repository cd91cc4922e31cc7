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
