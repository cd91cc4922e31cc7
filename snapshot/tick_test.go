package snapshot_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
	"github.com/pagesnap/pagesnap/snapshot/sim"
)

// Where the simulated timer tick lands.
const (
	inProgram = "program" // between the program's stores
	inFault   = "fault"   // inside HandleWriteFault (the kernel masks interrupts there: a stronger test)
	inCapture = "capture" // inside DrainStep, capture phase (idle drain)
	inHashing = "hashing" // inside DrainStep, hashing phase (idle drain)
)

// tickSim is one CPU taking periodic timer interrupts whose handler does
// the kernel's tick work (kernel/tick.go): prepare and make the store that
// injects a preemption frame into the interrupted goroutine's stack
// (PrepareWrite, then a store that must not fault), then the drain share
// (DrainStep with a bounded budget, which finds the drain busy when the
// tick interrupted the drain itself). The tick fires at random memory
// operations of the engine — page copies, copy-map loads and CASes, manifest
// reads and writes — wherever the engine runs, and at random points of the
// program. Ticks do not nest.
type tickSim struct {
	*sim.Memory
	r      *rand.Rand
	f      *fixture
	cpu    *sim.CPU
	budget int
	odds   int    // a tick fires at one memory operation in odds
	where  string // the code the CPU runs now
	inTick bool
	err    error

	ticks, drained, busy map[string]int
	prepared, refused    int
	faultPage            uint64 // the page of the fault being handled
}

func newTickSim(seed uint64, budget, odds int) *tickSim {
	return &tickSim{r: rand.New(rand.NewPCG(seed, 77)), budget: budget, odds: odds, where: inProgram,
		ticks: map[string]int{}, drained: map[string]int{}, busy: map[string]int{}}
}

func (x *tickSim) maybeTick() {
	if x.where != inProgram && !x.inTick && x.r.IntN(x.odds) == 0 {
		x.tick()
	}
}

func (x *tickSim) tick() {
	if x.inTick || x.err != nil {
		return
	}
	x.inTick = true
	defer func() { x.inTick = false }()
	where := x.where
	x.ticks[where]++
	// The preemption injection: a store to the interrupted stack.
	va := pick(x.r)
	if x.f.s.PrepareWrite(va) {
		x.prepared++
		faults := x.cpu.Faults
		if err := x.cpu.Store64(va, x.r.Uint64()); err != nil {
			x.err = err
			return
		}
		if x.cpu.Faults != faults {
			x.err = fmt.Errorf("the tick's store to %#x faulted after PrepareWrite", va)
			return
		}
	} else if where != inFault || va&^4095 != x.faultPage {
		// Only the page a fault handler is copying (a tick inside the
		// handler: impossible in the kernel) may be refused.
		x.err = fmt.Errorf("PrepareWrite(%#x) refused in %s", va, where)
		return
	} else {
		x.refused++
	}
	// The drain share: the kernel's tick drains uninterrupted (interrupts
	// off, on its own stack); half the ticks here take the scratch path.
	drain := x.f.s.DrainStepUninterrupted
	if x.r.IntN(2) == 0 {
		drain = x.f.s.DrainStep
	}
	_, err := drain(x.budget)
	switch {
	case errors.Is(err, snapshot.ErrDrainBusy):
		x.busy[where]++
	case errors.Is(err, snapshot.ErrNotActive):
	case err != nil:
		x.err = err
	default:
		x.drained[where]++
	}
}

func (x *tickSim) Load64(pa uint64) uint64 { x.maybeTick(); return x.Memory.Load64(pa) }
func (x *tickSim) Store64(pa, v uint64)    { x.maybeTick(); x.Memory.Store64(pa, v) }
func (x *tickSim) CAS64(pa, old, new uint64) bool {
	x.maybeTick()
	return x.Memory.CAS64(pa, old, new)
}
func (x *tickSim) Copy(dst, src, n uint64) {
	x.maybeTick()
	half := n / 2 &^ 7
	x.Memory.Copy(dst, src, half)
	x.maybeTick()
	x.Memory.Copy(dst+half, src+half, n-half)
	x.maybeTick()
}
func (x *tickSim) Read(pa uint64, b []byte) {
	x.maybeTick()
	x.Memory.Read(pa, b)
	x.maybeTick()
}
func (x *tickSim) Write(pa uint64, b []byte) {
	x.maybeTick()
	x.Memory.Write(pa, b)
	x.maybeTick()
}

// run starts a snapshot and runs the CPU until it completes: the program
// stores, the tick fires, and with idle set the idle drain runs between
// bursts of stores. It returns the number of rounds.
func (x *tickSim) run(t *testing.T, idle bool) int {
	t.Helper()
	x.cpu = x.f.m.NewCPU()
	fault := x.f.s.HandleWriteFault
	x.f.m.Fault = func(va uint64) bool {
		prev, prevPage := x.where, x.faultPage
		x.where, x.faultPage = inFault, va&^4095
		defer func() { x.where, x.faultPage = prev, prevPage }()
		return fault(va)
	}
	x.f.start(t)
	rounds := 0
	for ; x.f.s.Phase() != snapshot.PhaseDone; rounds++ {
		if rounds > 1_000_000 {
			t.Fatalf("not complete after %d rounds: %+v", rounds, x.f.s.Progress())
		}
		for range 1 + x.r.IntN(8) {
			if err := x.cpu.Store64(pick(x.r), x.r.Uint64()); err != nil {
				t.Fatal(err)
			}
			if x.err != nil {
				t.Fatal(x.err)
			}
		}
		if idle && x.r.IntN(3) == 0 {
			x.where = inCapture
			if x.f.s.Phase() == snapshot.PhaseHashing {
				x.where = inHashing
			}
			_, err := x.f.s.DrainStep(1 + x.r.IntN(8))
			x.where = inProgram
			if err != nil {
				t.Fatal(err)
			}
		}
		if x.r.IntN(2) == 0 {
			x.tick()
		}
		if x.err != nil {
			t.Fatal(x.err)
		}
	}
	return rounds
}

// TestTickInterleavings: the timer tick's work (preemption store prepared
// with PrepareWrite, bounded DrainStep) landing at random points — inside
// write faults, inside the idle drain's copies and inside its hashing, and
// between the program's stores — leaves the image equal to memory at
// Start, bit for bit, and every captured page writable afterwards.
func TestTickInterleavings(t *testing.T) {
	skipUnderRace(t)
	seeds := 8
	if testing.Short() {
		seeds = 2
	}
	for _, arch := range []mmu.Arch{mmu.AMD64, mmu.ARM64} {
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			x := newTickSim(seed, 1+int(seed%5), 24)
			x.f = newFixture(t, arch, seed, opts{mem: func(m *sim.Memory) snapshot.PhysMem { x.Memory = m; return x }})
			x.run(t, true)
			if bad := x.f.check(t); len(bad) != 0 {
				t.Fatalf("%v seed %d: %d pages differ, first %#x", arch, seed, len(bad), bad[0])
			}
			checkAllWritable(t, x.f)
			if x.refused > 0 {
				t.Logf("%v seed %d: %d preemption stores refused (the tick hit the page its fault was copying)", arch, seed, x.refused)
			}
			// Every place was hit, and the tick did drain work from
			// inside faults and between stores. The drain hashes
			// each page as it copies it (hash while hot), so ticks
			// inside its hashing land in the capture phase; on one
			// CPU the hash phase is the completing step alone.
			for _, w := range []string{inProgram, inFault, inCapture} {
				if x.ticks[w] < 5 {
					t.Errorf("%v seed %d: %d ticks in %s (ticks %v)", arch, seed, x.ticks[w], w, x.ticks)
				}
			}
			if x.drained[inFault] == 0 || x.drained[inProgram] == 0 || x.busy[inCapture] == 0 {
				t.Errorf("%v seed %d: drained %v busy %v: some interleaving never happened", arch, seed, x.drained, x.busy)
			}
			t.Logf("%v seed %d: ticks %v drained %v busy %v prepared %d stats %+v", arch, seed, x.ticks, x.drained, x.busy, x.prepared, x.f.s.Stats())
		}
	}
}

// TestTickAloneCompletes is the guarantee: with a program that never
// idles (no idle drain at all), the tick alone completes the snapshot, in
// at most ceil(U/b) + ceil(N/b) + 2 ticks for budget b, U pages left
// uncopied at Start and N pages, whatever the program writes.
func TestTickAloneCompletes(t *testing.T) {
	skipUnderRace(t)
	for _, arch := range []mmu.Arch{mmu.AMD64, mmu.ARM64} {
		for _, budget := range []int{1, 7, 64} {
			x := newTickSim(uint64(budget), budget, 1<<30) // ticks only where the loop places them
			x.f = newFixture(t, arch, uint64(budget), opts{mem: func(m *sim.Memory) snapshot.PhysMem { x.Memory = m; return x }})
			x.run(t, false)
			if bad := x.f.check(t); len(bad) != 0 {
				t.Fatalf("%v budget %d: %d pages differ, first %#x", arch, budget, len(bad), bad[0])
			}
			checkAllWritable(t, x.f)
			st, n := x.f.s.Stats(), x.f.s.Layout().NumPages
			u := n - st.EagerPages
			bound := int((u+uint64(budget)-1)/uint64(budget) + (n+uint64(budget)-1)/uint64(budget) + 2)
			if got := x.ticks[inProgram]; got > bound || x.drained[inProgram] != got {
				t.Fatalf("%v budget %d: %d ticks (%d drained) to complete, bound %d", arch, budget, got, x.drained[inProgram], bound)
			}
			t.Logf("%v budget %d: complete after %d ticks (bound %d), %d faults", arch, budget, x.ticks[inProgram], bound, st.Faults)
		}
	}
}

// TestDrainStepAllocates: DrainStep allocates nothing in either phase, nor
// on the transition between them or at completion, so that the tick may
// run it in interrupt context and the idle hook with no P; neither does
// PrepareWrite.
func TestDrainStepAllocates(t *testing.T) {
	skipUnderRace(t)
	for _, c := range []struct {
		arch mmu.Arch
		alg  uint32
	}{{mmu.AMD64, snapshot.HashSHA256}, {mmu.ARM64, snapshot.HashSHA256}, {mmu.AMD64, snapshot.HashBLAKE2b256}} {
		arch := c.arch
		var clock uint64 // a timed drain (Config.DrainClock) allocates nothing either
		f := newFixture(t, arch, 3, opts{hashAlg: c.alg, drainClock: func() uint64 { clock += 3; return clock }})
		cpu := f.m.NewCPU()
		f.start(t)
		va := uint64(6 * MiB)
		if a := testing.AllocsPerRun(10, func() {
			if !f.s.PrepareWrite(va) {
				t.Fatal("PrepareWrite refused")
			}
			va += 4096
		}); a != 0 {
			t.Errorf("%v: PrepareWrite: %v allocations per call", arch, a)
		}
		if err := cpu.Store64(va, 1); err != nil {
			t.Fatal(err)
		}
		seen := map[snapshot.Phase]bool{}
		for f.s.Phase() != snapshot.PhaseDone {
			p := f.s.Phase()
			seen[p] = true
			if p == snapshot.PhaseHashing && f.s.Stats().HashedPages != f.s.Layout().NumPages {
				t.Fatalf("%v: capture ended with %d of %d pages hashed (one CPU: all are hashed as they are copied)", arch, f.s.Stats().HashedPages, f.s.Layout().NumPages)
			}
			if a := testing.AllocsPerRun(20, func() {
				if _, err := f.s.DrainStep(9); err != nil {
					t.Fatal(err)
				}
			}); a != 0 {
				t.Fatalf("%v: DrainStep in phase %v: %v allocations per call", arch, p, a)
			}
		}
		if !seen[snapshot.PhaseCapturing] {
			t.Fatalf("%v: phases seen %v", arch, seen)
		}
		if bad := f.check(t); len(bad) != 0 {
			t.Fatalf("%v: %d pages differ", arch, len(bad))
		}
		if st := f.s.Stats(); st.DrainCopyTicks == 0 || st.DrainHashTicks == 0 {
			t.Fatalf("%v: the drain was not timed: %+v", arch, st)
		}
	}
}
