package snapshot_test

// Engine tests added for the survivors of the mutation run (MUTANTS.md).

import (
	"fmt"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
	"github.com/pagesnap/pagesnap/snapshot/sim"
)

// storeLog records every store the engine makes through its PhysMem.
type storeLog struct {
	*sim.Memory
	on     bool
	stores []storeAt
}

type storeAt struct{ pa, v uint64 }

func (l *storeLog) Store64(pa, v uint64) {
	if l.on {
		l.stores = append(l.stores, storeAt{pa, v})
	}
	l.Memory.Store64(pa, v)
}

// TestStartStateStoreFirst: Start over a complete image first rewrites the
// header word holding the range count and the state with one 64-bit store
// that keeps the range count and sets the state to capturing.
func TestStartStateStoreFirst(t *testing.T) {
	skipUnderRace(t)
	l := &storeLog{}
	f := newFixture(t, mmu.AMD64, 9, opts{mem: func(m *sim.Memory) snapshot.PhysMem { l.Memory = m; return l }})
	f.start(t)
	f.drain(t, 1000)
	cfg := f.cfg
	cfg.Overwrite = true
	s, err := snapshot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.s, f.m.Fault = s, s.HandleWriteFault
	l.on = true
	f.start(t)
	l.on = false
	want := storeAt{storageR.Base + 24, uint64(len(ramRanges)) | uint64(snapshot.StateCapturing)<<32}
	if len(l.stores) == 0 || l.stores[0] != want {
		t.Fatalf("first store of Start %+v, want %+v", l.stores[:min(len(l.stores), 1)], want)
	}
	for _, st := range l.stores {
		if !storageR.Contains(st.pa) {
			t.Fatalf("Start stored %#x at %#x, outside the storage %v", st.v, st.pa, storageR)
		}
	}
	f.drain(t, 1000)
	if bad := f.check(t); len(bad) != 0 {
		t.Fatal(bad)
	}
}

// TestExcludedAtStorageBase: an excluded range the caller declares at the
// storage's base overlaps the storage's own exclusion, which New places
// before it (ordered by base; the caller's range comes after on a tie).
func TestExcludedAtStorageBase(t *testing.T) {
	f := newFixture(t, mmu.AMD64, 9, opts{})
	cfg := f.cfg
	own := snapshot.Range{Base: storageR.Base, Size: 4096}
	cfg.Excluded = []snapshot.Exclusion{{Range: own, Reason: snapshot.ReasonReserved}}
	_, err := snapshot.New(cfg)
	want := fmt.Sprintf("%v: %v: excluded range 1 %v overlaps or precedes range 0 %v (ranges must be sorted, disjoint)",
		snapshot.ErrConfig, snapshot.ErrRanges, own, storageR)
	if err == nil || err.Error() != want {
		t.Fatalf("New: %v\nwant %s", err, want)
	}
}

// TestFaultAtRangeEdges: a write to the first byte of a captured range
// faults and is the engine's (the page is copied first); the address one
// past a range's end is not captured: HandleWriteFault declines it and the
// image is unchanged.
func TestFaultAtRangeEdges(t *testing.T) {
	skipUnderRace(t)
	f := newFixture(t, mmu.AMD64, 10, opts{})
	c := f.m.NewCPU()
	f.start(t)
	for _, r := range ramRanges {
		if err := c.Store64(r.Base, 0x5a5a); err != nil {
			t.Fatalf("store at %#x: %v", r.Base, err)
		}
		if ok := f.s.HandleWriteFault(r.End()); ok {
			t.Errorf("HandleWriteFault(%#x), one past a captured range: true", r.End())
		}
	}
	if st := f.s.Stats(); st.Faults != 2 || st.FaultCopies != 2 {
		t.Errorf("faults %d, fault copies %d, want 2, 2", st.Faults, st.FaultCopies)
	}
	f.drain(t, 1000)
	if bad := f.check(t); len(bad) != 0 {
		t.Fatalf("mismatch %#x", bad)
	}
}

// TestDrainBudget: DrainStep(n) does exactly n pages of work: copying a
// page (hashed as it is copied) or hashing a page Start or a fault copied
// costs one; DrainStep(0) does none. The capture hashes every page (one
// CPU), so the hash phase is the completing step.
func TestDrainBudget(t *testing.T) {
	skipUnderRace(t)
	f := newFixture(t, mmu.AMD64, 11, opts{})
	f.start(t)
	step := func(budget int) snapshot.Stats {
		t.Helper()
		if _, err := f.s.DrainStep(budget); err != nil {
			t.Fatal(err)
		}
		return f.s.Stats()
	}
	if st := step(0); st.DrainedPages != 0 || st.HashedPages != 0 {
		t.Fatalf("DrainStep(0) copied %d pages, hashed %d", st.DrainedPages, st.HashedPages)
	}
	if st := step(1); st.DrainedPages != 1 || st.HashedPages != 1 {
		t.Fatalf("DrainStep(1) copied %d pages, hashed %d", st.DrainedPages, st.HashedPages)
	}
	// Pages [64, 144) of the first range are eager (page tables, stack):
	// 70 pages more from page 1 are 63 drained, then 7 eager hashed.
	if st := step(70); st.DrainedPages != 64 || st.HashedPages != 71 {
		t.Fatalf("DrainStep(70) copied %d pages and hashed %d, want 63 and 70 more than 1", st.DrainedPages-1, st.HashedPages-1)
	}
	step(1 << 20) // the rest of the capture
	p := f.s.Progress()
	if p.Hashed != p.Pages || p.Phase != snapshot.PhaseHashing || p.Copied != p.Pages {
		t.Fatalf("after the capture: %+v", p)
	}
	if done, err := f.s.DrainStep(1); !done || err != nil {
		t.Fatalf("the hash phase's step: done %v, %v", done, err)
	}
	if bad := f.check(t); len(bad) != 0 {
		t.Fatalf("mismatch %#x", bad)
	}
}

// TestDrainUnprotectsByChunk: the drain makes the pages it copied
// writable a 2 MiB chunk at a time, when it finishes the chunk: a drained
// page of an unfinished chunk still faults (once); a finished chunk's
// pages do not, the next chunk's still do. A chunk mapped by one 2 MiB
// page is made writable whole, without splitting it.
func TestDrainUnprotectsByChunk(t *testing.T) {
	skipUnderRace(t)
	f := newFixture(t, mmu.AMD64, 12, opts{})
	c := f.m.NewCPU()
	f.start(t)
	faults := func() uint64 { return f.s.Stats().Faults }
	store := func(pa uint64, wantFault bool) {
		t.Helper()
		before := faults()
		if err := c.Store64(pa, 0x77); err != nil {
			t.Fatal(err)
		}
		if got := faults() - before; got != map[bool]uint64{false: 0, true: 1}[wantFault] {
			t.Errorf("store at %#x: %d faults, want fault %v", pa, got, wantFault)
		}
	}
	// drain copies pages, and hashes the eager pages it passes (a
	// budget unit each).
	drain := func(pages, eager uint64) {
		t.Helper()
		before := f.s.Stats().DrainedPages
		if err := drainStepWithin(f.s, int(pages+eager), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if st := f.s.Stats(); st.DrainedPages-before != pages || st.DrainDiscards != 0 {
			t.Fatalf("drained %d pages (%d discarded), want %d", st.DrainedPages-before, st.DrainDiscards, pages)
		}
	}
	drain(1, 0)    // page 0
	store(8, true) // drained, its chunk unfinished: still protected
	// The rest of [0, 2M): 512 pages, 80 eager (page tables, stack), page 0 done.
	drain(512-80-1, 80)
	store(300*4096, false) // finished chunk: writable
	store(2*MiB-8, false)  // its last page too
	drain(512-16, 16)      // [2M, 4M), 16 pages of DMA (eager)
	pool := f.s.Stats().PoolUsed
	drain(512, 0) // [4M, 6M): one 2 MiB page, protected whole
	if used := f.s.Stats().PoolUsed; used != pool {
		t.Errorf("unprotecting a drained 2 MiB page took %d table pages", used-pool)
	}
	store(2*MiB+8, false)
	store(5*MiB, false)
	store(6*MiB+5*4096, true) // the next chunk: protected
	f.drain(t, 1000)
	if bad := f.check(t); len(bad) != 0 {
		t.Fatalf("mismatch %#x", bad)
	}
}

// TestFlushSkipsFaultCopy: the drain finishes a 2 MiB chunk while a fault
// on another CPU is still copying one of its pages: the drain skips that
// page (no budget spent), makes the rest of the chunk writable and leaves
// the page to the fault, which completes it.
func TestFlushSkipsFaultCopy(t *testing.T) {
	skipUnderRace(t)
	const page = 300 * 4096 // in [0, 2M), mapped with 4 KiB pages
	l, _ := snapshot.NewLayout(4096, ramRanges)
	h := &hookMem{match: func(dst, src uint64) bool {
		return src == page && dst == storageR.Base+l.DataOff+pageIndex(page)*4096 // the fault's copy
	}}
	f := newFixture(t, mmu.AMD64, 13, opts{mem: func(m *sim.Memory) snapshot.PhysMem { h.Memory = m; return h }})
	faulting, other := f.m.NewCPU(), f.m.NewCPU()
	var during snapshot.Stats
	h.hook = func() {
		// The whole chunk: 512 pages, 80 eager (hashed: a budget unit
		// each), the faulting one skipped.
		if err := drainStepWithin(f.s, 512-1, 5*time.Second); err != nil {
			t.Error(err)
			return
		}
		for _, pa := range []uint64{page - 4096, page + 4096, 0, 2*MiB - 4096} {
			if err := other.Store64(pa+16, 1); err != nil {
				t.Error(err)
			}
		}
		during = f.s.Stats()
	}
	f.start(t)
	if err := faulting.Store64(page+8, 2); err != nil {
		t.Fatal(err)
	}
	if !h.fired || t.Failed() {
		t.Fatalf("hook fired %v", h.fired)
	}
	if during.DrainedPages != 512-80-1 || during.Faults != 1 || during.FaultCopies != 0 {
		t.Fatalf("during the fault's copy: %+v (want 431 drained, 1 fault, its copy unfinished)", during)
	}
	if st := f.s.Stats(); st.Faults != 1 || st.FaultCopies != 1 {
		t.Fatalf("after: %+v", st)
	}
	if err := faulting.Store64(page+8, 3); err != nil || f.s.Stats().Faults != 1 {
		t.Fatalf("the faulted page is not writable: %v, %d faults", err, f.s.Stats().Faults)
	}
	f.drain(t, 1000)
	if bad := f.check(t); len(bad) != 0 {
		t.Fatalf("mismatch %#x", bad)
	}
}

// drainStepWithin runs s.DrainStep(budget) and fails if it does not return
// within d (a drain that loops forever fails the test instead of hanging
// it; its goroutine is left spinning).
func drainStepWithin(s *snapshot.Snapshot, budget int, d time.Duration) error {
	done := make(chan error, 1)
	go func() {
		_, err := s.DrainStep(budget)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("DrainStep(%d) does not return within %v", budget, d)
	}
}

// TestHashPhaseBudget: pages a fault on another CPU held up are hashed in
// the hash phase within the step's budget, one unit a page: DrainStep(0)
// hashes none, DrainStep(1) one, DrainStep(3) three. And the drain leaves
// the page the fault is still copying protected: the page (index 288)
// opens a copy-map word, which nextNotKept's 32-page stride must not step
// over from an unaligned index.
func TestHashPhaseBudget(t *testing.T) {
	skipUnderRace(t)
	const page = 288 * 4096 // page index 288: the first of copy-map word 9
	l, _ := snapshot.NewLayout(4096, ramRanges)
	h := &hookMem{match: func(dst, src uint64) bool {
		return src == page && dst == storageR.Base+l.DataOff+pageIndex(page)*4096 // the fault's copy
	}}
	f := newFixture(t, mmu.AMD64, 13, opts{mem: func(m *sim.Memory) snapshot.PhysMem { h.Memory = m; return h }})
	faulting := f.m.NewCPU()
	h.hook = func() {
		// The whole capture while the fault copies: hashing in page
		// order stops at the faulting page.
		if err := drainStepWithin(f.s, 1<<30, 5*time.Second); err != nil {
			t.Error(err)
		}
		if w, err := f.cfg.Tables.Walk(page); err != nil || w.Writable {
			t.Errorf("the drain made the page a fault is copying writable: %+v, %v", w, err)
		}
	}
	f.start(t)
	if err := faulting.Store64(page+8, 2); err != nil {
		t.Fatal(err)
	}
	if !h.fired || t.Failed() {
		t.Fatalf("hook fired %v", h.fired)
	}
	p := f.s.Progress()
	if p.Phase != snapshot.PhaseHashing || p.Hashed != 288 || p.Copied != p.Pages {
		t.Fatalf("after the capture: %+v, want hashing, 288 hashed, all copied", p)
	}
	for _, c := range []struct {
		budget int
		hashed uint64
	}{{0, 288}, {1, 289}, {3, 292}} {
		done, err := f.s.DrainStep(c.budget)
		if p := f.s.Progress(); done || err != nil || p.Hashed != c.hashed {
			t.Fatalf("DrainStep(%d): %v, %v, %d hashed; want %d", c.budget, done, err, p.Hashed, c.hashed)
		}
	}
	f.drain(t, 1000)
	if bad := f.check(t); len(bad) != 0 {
		t.Fatalf("mismatch %#x", bad)
	}
}
