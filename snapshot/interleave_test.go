package snapshot_test

import (
	"math/rand/v2"
	"testing"

	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
	"github.com/pagesnap/pagesnap/snapshot/sim"
)

// irqMem simulates one CPU taking interrupts inside DrainStep: at random
// memory operations of the drain — page copies, copy-map updates and
// page-table edits alike — it runs an "interrupt handler" that stores
// through the MMU, on the same goroutine, so the write-fault path runs
// nested in the drain exactly as on a single-CPU machine. Handlers do not
// nest.
type irqMem struct {
	*sim.Memory
	r      *rand.Rand
	cpu    *sim.CPU
	active bool // inside DrainStep
	inIRQ  bool
	last   uint64 // captured page the drain touched last
	irqs   int
	err    error
}

func (m *irqMem) maybeIRQ(hint uint64) {
	if !m.active || m.inIRQ || m.err != nil {
		return
	}
	if capturedNonEager(hint) {
		m.last = hint &^ 4095
	}
	if m.r.IntN(16) != 0 {
		return
	}
	m.inIRQ = true
	m.irqs++
	for range 1 + m.r.IntN(3) {
		va := pick(m.r)
		if m.last != 0 && m.r.IntN(2) == 0 {
			va = m.last + 8*m.r.Uint64N(512) // the page the drain is on
		}
		if err := m.cpu.Store64(va, m.r.Uint64()); err != nil {
			m.err = err
		}
	}
	m.inIRQ = false
}

func pick(r *rand.Rand) uint64 {
	for {
		w := workRanges[r.IntN(len(workRanges))]
		va := w.Base + 8*r.Uint64N(w.Size/8)
		if !tablesR.Contains(va) {
			return va
		}
	}
}

func capturedNonEager(pa uint64) bool {
	for _, r := range ramRanges {
		if r.Contains(pa) {
			return !tablesR.Contains(pa) && !stackR.Contains(pa) && !roR.Contains(pa)
		}
	}
	return false
}

func (m *irqMem) Load64(pa uint64) uint64 { m.maybeIRQ(0); return m.Memory.Load64(pa) }
func (m *irqMem) Store64(pa, v uint64)    { m.maybeIRQ(0); m.Memory.Store64(pa, v) }
func (m *irqMem) CAS64(pa, old, new uint64) bool {
	m.maybeIRQ(0)
	return m.Memory.CAS64(pa, old, new)
}
func (m *irqMem) Copy(dst, src, n uint64) {
	m.maybeIRQ(src)
	half := n / 2 &^ 7
	m.Memory.Copy(dst, src, half)
	m.maybeIRQ(src)
	m.Memory.Copy(dst+half, src+half, n-half)
	m.maybeIRQ(src)
}

// TestSingleCPUInterleavings: faults interrupting the drain anywhere, on
// one CPU, never change the image: it equals memory at Start.
func TestSingleCPUInterleavings(t *testing.T) {
	skipUnderRace(t)
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	if quick() {
		seeds = 1
	}
	for _, arch := range []mmu.Arch{mmu.AMD64, mmu.ARM64} {
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			im := &irqMem{r: rand.New(rand.NewPCG(seed, 5))}
			f := newFixture(t, arch, seed, opts{mem: func(m *sim.Memory) snapshot.PhysMem { im.Memory = m; return im }})
			im.cpu = f.m.NewCPU()
			f.start(t)
			for done := false; !done; {
				im.active = true
				d, err := f.s.DrainStep(1 + int(seed%7))
				im.active = false
				if err != nil {
					t.Fatal(err)
				}
				if im.err != nil {
					t.Fatalf("%v seed %d: store in interrupt: %v", arch, seed, im.err)
				}
				done = d
			}
			if bad := f.check(t); len(bad) != 0 {
				t.Fatalf("%v seed %d: %d pages differ, first %#x", arch, seed, len(bad), bad[0])
			}
			st := f.s.Stats()
			if im.irqs < 100 || st.Faults == 0 || st.DrainDiscards == 0 {
				t.Fatalf("%v seed %d: too few interleavings: %d interrupts, stats %+v", arch, seed, im.irqs, st)
			}
			checkAllWritable(t, f)
		}
	}
}
