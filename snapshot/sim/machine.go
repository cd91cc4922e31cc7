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
	// MaxRetries bounds the faults one store may take before it fails
	// with ErrLivelock (0: a million).
	MaxRetries int

	world         sync.RWMutex
	cpus          atomic.Pointer[[]*CPU]
	cpusMu        sync.Mutex    // serializes NewCPU
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
		Tables: &mmu.Tables{Arch: arch, Mem: mem, Root: mmu.PA(tablesBase),
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

// InvalidatePage implements snapshot.TLB: every CPU drops the entries
// that translate va (a large-page entry included), as a broadcast TLBI
// VAAE1IS would (Arm ARM D8.13; on amd64 INVLPG is local, SDM 4.10.4.1).
// It allocates nothing.
func (m *Machine) InvalidatePage(va uint64) {
	m.PageInvals.Add(1)
	for _, c := range m.cpuList() {
		c.mu.Lock()
		for i := range c.tlb {
			if e := &c.tlb[i]; e.size != 0 && va-e.va < e.size {
				*e = tlbEntry{}
			}
		}
		c.mu.Unlock()
	}
}

// InvalidateAll implements snapshot.TLB: every CPU drops its whole TLB.
func (m *Machine) InvalidateAll() {
	m.AllInvals.Add(1)
	if m.noInvalidates {
		return
	}
	for _, c := range m.cpuList() {
		c.mu.Lock()
		c.tlb = [tlbEntries]tlbEntry{}
		c.mu.Unlock()
	}
}

func (m *Machine) cpuList() []*CPU {
	if p := m.cpus.Load(); p != nil {
		return *p
	}
	return nil
}

// DMAStore64 writes v at pa bypassing the MMU, as a device would.
func (m *Machine) DMAStore64(pa, v uint64) {
	m.world.RLock()
	m.Mem.Store64(pa, v)
	m.world.RUnlock()
	m.DMAStores.Add(1)
}

const tlbEntries = 64

// tlbEntry is one cached translation: the leaf mapping [va, va+size) to
// pa, and whether every level allowed writes when it was walked.
type tlbEntry struct {
	va, size, pa uint64 // size 0: empty
	writable     bool
}

// CPU is one simulated CPU: a software MMU with a direct-mapped TLB of 64
// entries. The TLB caches every translation it walks, read-only ones
// included, and keeps it until InvalidatePage or InvalidateAll drops it; a
// store through a cached read-only entry faults without re-walking the
// tables. That is the strictest behaviour the architectures allow (arm64
// may cache an entry that caused a permission fault; amd64 drops the
// faulting translation on a #PF, SDM 4.10.4.1, so stale read-only entries
// cost it only a spurious fault), so a fault path that makes a page
// writable but forgets to invalidate its translation makes the retried
// store fault again forever: Store64 then fails with ErrLivelock. A TLB
// fill and an invalidation of the same CPU are serialized, as a TLBI
// followed by DSB waits for walks in flight. A CPU is used by one
// goroutine.
type CPU struct {
	m      *Machine
	mu     sync.Mutex // guards tlb against invalidations from other goroutines
	tlb    [tlbEntries]tlbEntry
	Stores uint64
	Faults uint64
}

// NewCPU returns a CPU of m.
func (m *Machine) NewCPU() *CPU {
	c := &CPU{m: m}
	m.cpusMu.Lock()
	l := append(append([]*CPU(nil), m.cpuList()...), c)
	m.cpus.Store(&l)
	m.cpusMu.Unlock()
	return c
}

// Cached reports the TLB entry translating va, if any: whether it allows
// writes.
func (c *CPU) Cached(va uint64) (writable, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &c.tlb[va/mmu.PageSize%tlbEntries]
	if e.size == 0 || va-e.va >= e.size {
		return false, false
	}
	return e.writable, true
}

// Store64 stores v at va (8-byte aligned) through the MMU: a store whose
// translation (cached, or walked on a TLB miss) does not allow writes
// calls Machine.Fault and retries.
func (c *CPU) Store64(va, v uint64) error {
	c.m.world.RLock()
	defer c.m.world.RUnlock()
	limit := c.m.MaxRetries
	if limit == 0 {
		limit = 1000000
	}
	for tries := 0; ; tries++ {
		c.mu.Lock()
		e := &c.tlb[va/mmu.PageSize%tlbEntries]
		if e.size == 0 || va-e.va >= e.size {
			w, err := c.m.Tables.Walk(mmu.VA(va))
			if err != nil {
				c.mu.Unlock()
				return fmt.Errorf("sim: store to %#x: %w", va, err)
			}
			*e = tlbEntry{va: va &^ (w.Size - 1), size: w.Size, pa: uint64(w.PA) &^ (w.Size - 1), writable: w.Writable}
		}
		writable, pa := e.writable, e.pa+(va-e.va)
		c.mu.Unlock()
		if writable {
			c.m.Mem.Store64(pa, v)
			c.Stores++
			return nil
		}
		c.Faults++
		c.m.FaultsTaken.Add(1)
		if c.m.Fault == nil || !c.m.Fault(va) {
			return fmt.Errorf("%w: %#x", ErrProtection, va)
		}
		if tries >= limit {
			return fmt.Errorf("%w: %#x (%d faults)", ErrLivelock, va, tries+1)
		}
		if tries > 0 {
			runtime.Gosched()
		}
	}
}

// NotWritable returns the pages of [base, base+size) that are mapped but
// not writable through the page tables.
func (m *Machine) NotWritable(base, size uint64) ([]uint64, error) {
	var out []uint64
	for va := base; va < base+size; va += mmu.PageSize {
		w, err := m.Tables.Walk(mmu.VA(va))
		if err == mmu.ErrNotMapped {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !w.Writable {
			out = append(out, va)
		}
	}
	return out, nil
}

// Marked returns the addresses of every valid page-table entry, at any
// level of the whole tree, that still carries package mmu's "protected by
// us" software bit (X86_SWPROT / ARM_SWPROT), with the virtual address it
// maps: after a snapshot completes or aborts there must be none.
func (m *Machine) Marked() []MarkedEntry {
	var out []MarkedEntry
	m.marked(uint64(m.Tables.Root), 0, 0, &out)
	return out
}

// MarkedEntry is a page-table entry still marked protected.
type MarkedEntry struct {
	Level int
	VA    uint64 // first address the entry maps
	Entry uint64
}

func (m *Machine) marked(tab uint64, level int, base uint64, out *[]MarkedEntry) {
	arm := m.Tables.Arch == mmu.ARM64
	for j := uint64(0); j < mmu.Entries; j++ {
		e := m.Mem.Load64(tab + 8*j)
		va := base + j<<(12+9*uint(3-level))
		var valid, leaf, mark bool
		var next uint64
		if arm {
			valid = e&mmu.ARM_VALID != 0 && (e&mmu.ARM_TABLE != 0 || level == 1 || level == 2)
			leaf = level == 3 || e&mmu.ARM_TABLE == 0
			mark = e&mmu.ARM_SWPROT != 0
			next = e & mmu.ARM_ADDR
		} else {
			valid = e&mmu.X86_P != 0
			leaf = level == 3 || (level > 0 && e&mmu.X86_PS != 0)
			mark = e&mmu.X86_SWPROT != 0
			next = e & mmu.X86_ADDR
		}
		if !valid {
			continue
		}
		if mark {
			*out = append(*out, MarkedEntry{level, va, e})
		}
		if !leaf {
			m.marked(next, level+1, va, out)
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
