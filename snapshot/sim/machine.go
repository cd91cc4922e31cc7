package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/pagesnap/pagesnap/mmu"
)

// Errors from simulated stores.
var (
	ErrProtection = errors.New("sim: write to a protected page not handled by the fault handler")
	ErrLivelock   = errors.New("sim: store kept faulting")
)

// Machine is a simulated machine: memory, one address space (identity
// mapped through Tables) and a stop-the-world lock standing for "interrupts
// off on every CPU".
type Machine struct {
	Mem    *Memory
	Tables *mmu.Tables
	// Fault is the write-fault handler; true means retry the store.
	Fault func(va uint64) bool

	world         sync.RWMutex
	epoch         atomic.Uint64
	PageInvals    atomic.Uint64 // InvalidatePage calls
	AllInvals     atomic.Uint64 // InvalidateAll calls
	FaultsTaken   atomic.Uint64 // faults delivered to Fault
	DMAStores     atomic.Uint64
	noInvalidates bool
}

// NewMachine returns a machine with memSize bytes of memory and empty page
// tables: the root at tablesBase, the pool in the following pages up to
// tablesBase+tablesSize.
func NewMachine(arch mmu.Arch, memSize, tablesBase, tablesSize uint64) *Machine {
	mem := NewMemory(memSize)
	return &Machine{
		Mem: mem,
		Tables: &mmu.Tables{Arch: arch, Mem: mem, Root: tablesBase,
			Pool: mmu.NewPool(tablesBase+mmu.PageSize, tablesSize-mmu.PageSize)},
	}
}

// StopWorld runs f with every CPU and DMA writer paused between stores.
func (m *Machine) StopWorld(f func()) {
	m.world.Lock()
	defer m.world.Unlock()
	f()
}

// DisableInvalidation makes InvalidateAll a no-op (negative tests: stale
// writable TLB entries must then be caught).
func (m *Machine) DisableInvalidation() { m.noInvalidates = true }

// InvalidatePage implements snapshot.TLB. The CPUs' TLBs cache only
// writable translations, which unprotecting a page never makes stale, so
// there is nothing to drop; it is counted.
func (m *Machine) InvalidatePage(va uint64) { m.PageInvals.Add(1) }

// InvalidateAll implements snapshot.TLB: every CPU drops its TLB before its
// next store.
func (m *Machine) InvalidateAll() {
	m.AllInvals.Add(1)
	if !m.noInvalidates {
		m.epoch.Add(1)
	}
}

// DMAStore64 writes v at pa bypassing the MMU, as a device would.
func (m *Machine) DMAStore64(pa, v uint64) {
	m.world.RLock()
	m.Mem.Store64(pa, v)
	m.world.RUnlock()
	m.DMAStores.Add(1)
}

const tlbEntries = 64

// CPU is one simulated CPU: a software MMU with a small TLB of writable
// translations. A CPU is used by one goroutine.
type CPU struct {
	m      *Machine
	epoch  uint64
	tlb    [tlbEntries]uint64 // virtual page number + 1 of writable pages
	Stores uint64
	Faults uint64
}

// NewCPU returns a CPU of m.
func (m *Machine) NewCPU() *CPU { return &CPU{m: m, epoch: m.epoch.Load()} }

// Store64 stores v at va (8-byte aligned) through the MMU: a store to a
// page that is not writable at every level calls Machine.Fault and retries.
func (c *CPU) Store64(va, v uint64) error {
	c.m.world.RLock()
	defer c.m.world.RUnlock()
	if e := c.m.epoch.Load(); e != c.epoch {
		c.tlb, c.epoch = [tlbEntries]uint64{}, e
	}
	vpn := va / mmu.PageSize
	slot := &c.tlb[vpn%tlbEntries]
	if *slot == vpn+1 {
		c.m.Mem.Store64(va, v) // identity mapping: pa == va
		c.Stores++
		return nil
	}
	for tries := 0; ; tries++ {
		w, err := c.m.Tables.Walk(va)
		if err != nil {
			return fmt.Errorf("sim: store to %#x: %w", va, err)
		}
		if w.Writable {
			*slot = vpn + 1
			c.m.Mem.Store64(w.PA, v)
			c.Stores++
			return nil
		}
		c.Faults++
		c.m.FaultsTaken.Add(1)
		if c.m.Fault == nil || !c.m.Fault(va) {
			return fmt.Errorf("%w: %#x", ErrProtection, va)
		}
		if tries > 1000000 {
			return fmt.Errorf("%w: %#x", ErrLivelock, va)
		}
		if tries > 0 {
			runtime.Gosched()
		}
	}
}

// Range is a physical address range.
type Range struct{ Base, Size uint64 }

// Workload runs goroutines that store random words at random addresses of
// Ranges through CPUs, half of them into a few hot pages so that faults race
// on the same page.
type Workload struct {
	M      *Machine
	Ranges []Range
	CPUs   int
	Seed   uint64

	stop atomic.Bool
	wg   sync.WaitGroup
	errs chan error
	// Stores counts the stores done.
	Stores atomic.Uint64
}

// pick returns a random 8-byte aligned address in rs (weighted by size).
func pick(r *rand.Rand, rs []Range, hot []uint64) uint64 {
	if len(hot) > 0 && r.IntN(2) == 0 {
		return hot[r.IntN(len(hot))] + uint64(r.IntN(mmu.PageSize/8))*8
	}
	var total uint64
	for _, x := range rs {
		total += x.Size
	}
	off := r.Uint64N(total/8) * 8
	for _, x := range rs {
		if off < x.Size {
			return x.Base + off
		}
		off -= x.Size
	}
	panic("unreachable")
}

// Start launches the workload goroutines.
func (w *Workload) Start() {
	w.errs = make(chan error, w.CPUs)
	r := rand.New(rand.NewPCG(w.Seed, 1))
	var hot []uint64
	for range 4 {
		hot = append(hot, pick(r, w.Ranges, nil)&^(mmu.PageSize-1))
	}
	for i := range w.CPUs {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			c := w.M.NewCPU()
			r := rand.New(rand.NewPCG(w.Seed, uint64(i)+2))
			for n := 0; !w.stop.Load(); n++ {
				if err := c.Store64(pick(r, w.Ranges, hot), r.Uint64()); err != nil {
					w.errs <- err
					return
				}
				w.Stores.Add(1)
				if n%64 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
}

// Stop stops the workload and returns its first error.
func (w *Workload) Stop() error {
	w.stop.Store(true)
	w.wg.Wait()
	select {
	case err := <-w.errs:
		return err
	default:
		return nil
	}
}

// DMAWriter is a device writing random words into Ranges, bypassing the MMU.
type DMAWriter struct {
	M      *Machine
	Ranges []Range
	Seed   uint64

	mu   sync.Mutex // guards r: Burst may run beside the Start goroutine
	r    *rand.Rand
	stop atomic.Bool
	wg   sync.WaitGroup
}

// Burst does n DMA stores now.
func (d *DMAWriter) Burst(n int) {
	for range n {
		d.mu.Lock()
		if d.r == nil {
			d.r = rand.New(rand.NewPCG(d.Seed, 99))
		}
		pa, v := pick(d.r, d.Ranges, nil), d.r.Uint64()
		d.mu.Unlock()
		d.M.DMAStore64(pa, v)
	}
}

// Start runs the device in a goroutine until Stop.
func (d *DMAWriter) Start() {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for !d.stop.Load() {
			d.Burst(16)
			runtime.Gosched()
		}
	}()
}

// Stop stops the device goroutine.
func (d *DMAWriter) Stop() {
	d.stop.Store(true)
	d.wg.Wait()
}
