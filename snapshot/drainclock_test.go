package snapshot_test

import (
	"testing"

	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
	"github.com/pagesnap/pagesnap/snapshot/sim"
)

// Ticks the fake drain clock advances by: per page copied, per read of
// memory (the drain reads memory only to hash a page, or a manifest page
// into the root hash). Different powers of ten, so that a tick counted in
// the wrong bucket shows.
const (
	copyTick = 1000
	readTick = 1
	tlbTick  = 1000000 // per TLB invalidation
)

// clockMem is memory whose copies and reads advance a fake clock: the
// clock then measures the work done, not the host's speed, and the
// drain's copy and hash ticks have exact expected values. It counts the
// copies and reads made while the test is inside DrainStep (the only
// ones the drain may time) and the clock's readings.
type clockMem struct {
	*sim.Memory
	now           uint64
	inStep        bool
	copies, reads uint64 // pages copied, reads made inside DrainStep
	invals        uint64 // TLB invalidations inside DrainStep
	readings      uint64
}

// clockTLB is a TLB whose invalidations advance clockMem's clock: the
// drain makes pages writable again between two readings of it.
type clockTLB struct {
	snapshot.TLB
	c *clockMem
}

func (t clockTLB) InvalidatePage(va uint64) { t.TLB.InvalidatePage(va); t.c.inval() }
func (t clockTLB) InvalidateAll()           { t.TLB.InvalidateAll(); t.c.inval() }

func (c *clockMem) inval() {
	c.now += tlbTick
	if c.inStep {
		c.invals++
	}
}

func (c *clockMem) Copy(dst, src, n uint64) {
	c.Memory.Copy(dst, src, n)
	c.now += copyTick * (n / 4096)
	if c.inStep {
		c.copies += n / 4096
	}
}

func (c *clockMem) Read(pa uint64, b []byte) {
	c.Memory.Read(pa, b)
	c.now += readTick
	if c.inStep {
		c.reads++
	}
}

func (c *clockMem) clock() uint64 {
	c.readings++
	return c.now
}

// TestDrainClock: with a Config.DrainClock the drain splits its time
// exactly into copy ticks (every copy it makes and every TLB
// invalidation, of which the latter are its protect ticks) and hash ticks
// (every page it hashes), for both drains and both backends, on one CPU with
// write faults between the steps (which are not timed: the fault path
// never reads the clock, though its copies advance it), and reads the
// clock at most twice per step and twice per hashing. Without a clock
// both stay 0.
func TestDrainClock(t *testing.T) {
	for _, arch := range []mmu.Arch{mmu.AMD64, mmu.ARM64} {
		for _, c := range []struct {
			name         string
			direct, disk bool
		}{{"scratch", false, false}, {"direct", true, false}, {"disk", false, true}} {
			cm := &clockMem{}
			o := opts{direct: c.direct, drainClock: cm.clock,
				mem: func(m *sim.Memory) snapshot.PhysMem { cm.Memory = m; return cm },
				tlb: func(t snapshot.TLB) snapshot.TLB { return clockTLB{t, cm} }}
			var f *fixture
			var d *memDisk
			if c.disk {
				f, d = newDiskFixture(t, arch, 5, o, 0, 0)
			} else {
				f = newFixture(t, arch, 5, o)
			}
			cpu := f.m.NewCPU()
			f.start(t)
			// Captured, writable, outside the eager set and roR: each
			// store faults once, between two drain steps.
			var stores []uint64
			for va := uint64(4 * MiB); va < 8*MiB; va += 37 * 4096 {
				stores = append(stores, va)
			}
			for va := uint64(16 * MiB); va < 18*MiB; va += 29 * 4096 {
				stores = append(stores, va)
			}
			var steps uint64
			for done := false; !done; steps++ {
				if steps%5 == 0 && len(stores) > 0 {
					if err := cpu.Store64(stores[0], steps); err != nil {
						t.Fatal(err)
					}
					stores = stores[1:]
				}
				var err error
				cm.inStep = true
				done, err = f.s.DrainStep(7)
				cm.inStep = false
				if err != nil {
					t.Fatal(err)
				}
				if steps > 1e6 {
					t.Fatal("the drain does not finish")
				}
			}
			st := f.s.Stats()
			name := arch.String() + " " + c.name
			if st.FaultCopies == 0 || st.DrainedPages == 0 {
				t.Fatalf("%s: no fault copies or no drained pages: %+v", name, st)
			}
			if st.DrainCopyTicks != copyTick*cm.copies+tlbTick*cm.invals || st.DrainHashTicks != readTick*cm.reads ||
				st.DrainProtectTicks != tlbTick*cm.invals || cm.invals == 0 {
				t.Errorf("%s: copy ticks %d (protect %d), hash ticks %d; want %d (%d copies and %d invalidations in DrainStep), %d and %d (%d reads)",
					name, st.DrainCopyTicks, st.DrainProtectTicks, st.DrainHashTicks, copyTick*cm.copies+tlbTick*cm.invals, cm.copies, cm.invals,
					tlbTick*cm.invals, readTick*cm.reads, cm.reads)
			}
			// What those copies and reads are: each drained page copied
			// once (direct, or into a disk staging area) or twice
			// (through scratch); each page hashed read once, plus, with
			// a disk, the manifest's pages read into the root hash.
			l := f.s.Layout()
			wantCopies, wantReads := 2*st.DrainedPages, st.HashedPages
			switch {
			case c.direct:
				wantCopies = st.DrainedPages
			case c.disk:
				wantCopies = st.DrainedPages
				wantReads += (l.NumPages*snapshot.HashSize + 4095) / 4096
			}
			if st.HashedPages != l.NumPages || cm.copies != wantCopies || cm.reads != wantReads {
				t.Errorf("%s: %d copies and %d reads in DrainStep, %d pages hashed; want %d, %d, %d",
					name, cm.copies, cm.reads, st.HashedPages, wantCopies, wantReads, l.NumPages)
			}
			// Two per step, two per hashing, two per release of drained
			// runs (one per 2 MiB at most: 8 per range here) and at the end.
			if max := 2*steps + 2*(cm.reads+1) + 2*(16+2+1); cm.readings > max {
				t.Errorf("%s: %d clock readings in %d steps, %d reads: more than %d", name, cm.readings, steps, cm.reads, max)
			}
			if c.disk {
				if bad := checkDisk(t, f, d); len(bad) > 0 {
					t.Fatalf("%s: %d pages differ", name, len(bad))
				}
			} else if bad := f.check(t); len(bad) > 0 {
				t.Fatalf("%s: %d pages differ", name, len(bad))
			}
			t.Logf("%s: %+v, %d steps, %d clock readings", name, st, steps, cm.readings)
		}
	}
	f := newFixture(t, mmu.AMD64, 5, opts{})
	f.start(t)
	f.drain(t, 64)
	if st := f.s.Stats(); st.DrainCopyTicks != 0 || st.DrainHashTicks != 0 || st.DrainProtectTicks != 0 {
		t.Errorf("no clock: copy ticks %d, hash ticks %d, protect ticks %d", st.DrainCopyTicks, st.DrainHashTicks, st.DrainProtectTicks)
	}
}
