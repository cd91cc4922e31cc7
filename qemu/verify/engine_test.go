package verify

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
	"github.com/pagesnap/pagesnap/snapshot/sim"
)

const mib = 1 << 20

// engineRun snapshots a simulated machine with package snapshot's engine
// while CPUs and a device write memory, and returns the reference (memory
// at Start) and the image read back from the storage region. With
// declareDMA false the device's range is not declared to the engine: the
// engine cannot see its writes, which must then show up as mismatches.
func engineRun(t *testing.T, declareDMA bool) (*Phys, *snapshot.Image, *Owners) {
	t.Helper()
	var (
		ram     = snapshot.Range{Base: 0, Size: 8 * mib}
		tables  = snapshot.Range{Base: 1 * mib, Size: 1 * mib}
		dma     = snapshot.Range{Base: 6 * mib, Size: 64 << 10}
		storage = snapshot.Range{Base: 16 * mib, Size: 16 * mib}
	)
	m := sim.NewMachine(mmu.AMD64, 64*mib, tables.Base, tables.Size)
	if err := m.Tables.Map(mmu.VA(ram.Base), mmu.PA(ram.Base), ram.Size, 4096, mmu.X86_G); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for pa := ram.Base; pa < ram.End(); pa += 8 {
		if !tables.Contains(pa) {
			m.Mem.Store64(pa, r.Uint64())
		}
	}
	cfg := snapshot.Config{Ranges: []snapshot.Range{ram}, Storage: storage, Eager: []snapshot.Range{tables},
		Mem: m.Mem, Tables: m.Tables, TLB: m, Clock: func() uint64 { return 777 }}
	if declareDMA {
		cfg.DMA = []snapshot.Range{dma}
	}
	s, err := snapshot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Fault = s.HandleWriteFault
	w := &sim.Workload{M: m, Ranges: []sim.Range{{Base: 2 * mib, Size: 4 * mib}}, CPUs: 2, Seed: 1}
	d := &sim.DMAWriter{M: m, Ranges: []sim.Range{{Base: dma.Base, Size: dma.Size}}, Seed: 2}
	w.Start()
	for w.Stores.Load() < 1000 {
		runtime.Gosched()
	}
	ref := make([]byte, ram.Size)
	m.StopWorld(func() {
		m.Mem.Read(ram.Base, ref)
		err = s.Start()
	})
	if err != nil {
		t.Fatal(err)
	}
	d.Burst(300) // the device writes after the instant, before the drain
	for i := 0; ; i++ {
		done, err := s.DrainStep(16)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		if i > 1e6 {
			t.Fatal("drain does not finish")
		}
	}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	im, err := ReadImage(m.Mem.ReaderAt(storage.Base, storage.Size), int64(storage.Size))
	if err != nil {
		t.Fatal(err)
	}
	o := &Owners{Regions: []Region{{Name: "device", Kind: DMA, Base: dma.Base, Size: dma.Size},
		{Name: "page tables", Kind: KernelData, Base: tables.Base, Size: tables.Size}}}
	return NewPhys(bytes.NewReader(ref), 0, ram.Size), im, o
}

// TestEngineImageVerifies: the real engine's image of a machine written
// by CPUs and a device during the snapshot matches the reference.
func TestEngineImageVerifies(t *testing.T) {
	ref, im, o := engineRun(t, true)
	rep := Compare(ref, im, o)
	if !rep.OK() || rep.Pages != 2048 || rep.Matched != 2048 || im.Instant != 777 {
		t.Fatalf("%s", rep)
	}
}

// TestEngineUndeclaredDMA: with the device's range not declared, the
// engine's image is self-consistent (its manifest verifies) but holds the
// device's writes after the instant: only the comparison with the
// reference catches it, and it names the DMA pages.
func TestEngineUndeclaredDMA(t *testing.T) {
	ref, im, o := engineRun(t, false)
	rep := Compare(ref, im, o)
	if rep.ImageErr != nil {
		t.Fatalf("manifest: %v", rep.ImageErr)
	}
	if len(rep.Mismatches) == 0 {
		t.Fatal("device writes after the instant not detected")
	}
	for _, m := range rep.Mismatches {
		if m.Problem != Differs || m.Owner != (Owner{DMA, "device"}) {
			t.Fatalf("unexpected mismatch %s", m)
		}
	}
}
