package kernel

import (
	"errors"
	"fmt"
	"slices"

	"github.com/pagesnap/pagesnap/lines"
	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
)

// Sizes of pagesnap's reserved region: memory the snapshot machinery
// writes while a snapshot runs, kept outside the captured RAM.
const (
	gdtPageSize    = 4 << 10
	faultStackSize = 64 << 10
	// nestedStackSize: the stack a fault taken inside the fault handler
	// runs on (amd64: IST1 points there while the handler runs); it only
	// prints the fatal report: a few hundred bytes.
	nestedStackSize = 16 << 10
	// doubleFaultStackSize: the double-fault handler's stack (amd64 IST3).
	doubleFaultStackSize = 8 << 10
	// guardPageSize: an unmapped page under each stack of the first
	// 2 MiB of the reserved region (amd64: mapped in 4 KiB pages), so
	// that an overflow faults instead of overwriting what lies below.
	guardPageSize  = 4 << 10
	snapStackSize  = 64 << 10
	tickStackSize  = 64 << 10
	drainStackSize = 64 << 10
	tablePoolSize  = 8 << 20
	reservedSize   = 10 << 20
	hugePage       = 2 << 20
)

// ReservedSize is the size of pagesnap's reserved region, which starts at
// the first 2 MiB boundary after the DMA window and must be RAM.
const ReservedSize = reservedSize

// The reserved region holds, in order: GDT page; a guard page and a stack,
// for each of the fault stack, the nested-fault stack, the double-fault
// stack, the snapshot stack and the tick stack; root table, table pool,
// and the drain stack, with a guard page under it, at its end.
const (
	guardedStacks = guardPageSize + faultStackSize + guardPageSize + nestedStackSize +
		guardPageSize + doubleFaultStackSize + guardPageSize + snapStackSize + guardPageSize + tickStackSize
	reservedUsed = gdtPageSize + guardedStacks + 4096 + tablePoolSize + guardPageSize + drainStackSize
)

// A negative array length fails the build if the guarded stacks do not
// fit the reserved region's first 2 MiB (the part mapped in 4 KiB pages).
var _ [hugePage - gdtPageSize - guardedStacks]byte

// A negative array length fails the build if the reserved region is too
// small for its parts.
var _ [reservedSize - reservedUsed]byte

// Machine is pagesnap's plan of physical memory:
//
//	[0x1000, DMA.End())   captured RAM: firmware area, kernel image, heap,
//	                      stacks and the DMA window (page 0 stays unmapped)
//	Reserved              GDT/TSS, fault stack (IST1), snapshot stack,
//	                      tick stack (IST2 on amd64), page tables and the
//	                      table-page pool, the stack the timer tick
//	                      drains on: not captured
//	Storage               the snapshot image (or, with too little RAM
//	                      for it, the largest region left: the RAM
//	                      buffer of a snapshot to disk)
type Machine struct {
	RAM      []Range // from the firmware (e820)
	Captured []Range
	DMA      Range // the DMA window
	Reserved Range
	Storage  Range // smaller than StorageNeeded (or empty) when RAM is short

	GDTPage        uint64
	FaultStackTop  uint64
	NestedStackTop uint64   // amd64: IST1 while the fault handler runs
	DFStackTop     uint64   // amd64: the double-fault handler's (IST3)
	Guards         []uint64 // guard pages under the stacks (unmapped on amd64)
	SnapStackTop   uint64
	TickStackTop   uint64
	DrainStackTop  uint64 // the stack the timer tick's drain runs on
	Tables         *mmu.Tables
	TableSetupUsed uint64 // pool pages used by the boot mapping
}

// Plan computes the memory plan for RAM ranges ram, the runtime's memory
// ending at the DMA window dma, with storage big enough for the captured
// ranges. It touches no memory.
func Plan(ram []Range, dma Range) (*Machine, error) {
	m := &Machine{RAM: ram, DMA: dma}
	end := dma.End()
	for _, r := range ram {
		lo := max(alignUp(r.Base, 4096), 0x1000)
		hi := min(r.End()&^0xfff, end)
		if lo < hi {
			m.Captured = append(m.Captured, Range{Base: lo, Size: hi - lo})
		}
	}
	if len(m.Captured) == 0 || m.Captured[len(m.Captured)-1].End() != end {
		return nil, fmt.Errorf("memory: RAM %v does not reach the end of the DMA window %#x", ram, end)
	}
	m.Reserved = Range{Base: alignUp(end, hugePage), Size: reservedSize}
	if !inRAM(ram, m.Reserved) {
		return nil, fmt.Errorf("memory: no RAM for pagesnap's reserved region %#x-%#x: give the machine more memory", m.Reserved.Base, m.Reserved.End())
	}
	l, err := snapshot.NewLayout(4096, m.Captured)
	if err != nil {
		return nil, err
	}
	need := alignUp(l.Size, 4096)
	for _, r := range ram {
		base := alignUp(max(r.Base, m.Reserved.End()), hugePage)
		if base+need <= r.End() {
			m.Storage = Range{Base: base, Size: need}
			break
		}
	}
	if m.Storage.Size == 0 {
		// Too little RAM for an image in RAM: the largest region left
		// holds the RAM buffer of a snapshot to disk (snap start disk).
		for _, r := range ram {
			base, end := alignUp(max(r.Base, m.Reserved.End()), hugePage), r.End()&^0xfff
			if base < end && end-base > m.Storage.Size {
				m.Storage = Range{Base: base, Size: end - base}
			}
		}
	}
	m.GDTPage = m.Reserved.Base
	a := m.Reserved.Base + gdtPageSize
	stack := func(size uint64) uint64 {
		m.Guards = append(m.Guards, a)
		a += guardPageSize + size
		return a
	}
	m.FaultStackTop = stack(faultStackSize)
	m.NestedStackTop = stack(nestedStackSize)
	m.DFStackTop = stack(doubleFaultStackSize)
	m.SnapStackTop = stack(snapStackSize)
	m.TickStackTop = stack(tickStackSize)
	m.DrainStackTop = m.Reserved.End()
	m.Guards = append(m.Guards, m.DrainStackTop-drainStackSize-guardPageSize)
	return m, nil
}

// StorageNeeded returns the storage size the captured ranges need.
func (m *Machine) StorageNeeded() uint64 {
	l, err := snapshot.NewLayout(4096, m.Captured)
	if err != nil {
		return 0
	}
	return alignUp(l.Size, 4096)
}

// DiskStorageNeeded returns the storage size a snapshot to disk needs
// with the default RAM buffer (snapshot.DefaultBufferPages): its
// BufferLayout (header, copy map, slot directory, staging area, buffer),
// rounded up to the 2 MiB leaf. That is all the RAM a disk-only machine
// gives pagesnap beyond the reserved region (Layout.DiskGuestMiB).
func (m *Machine) DiskStorageNeeded() uint64 {
	l, err := snapshot.NewLayout(4096, m.Captured)
	if err != nil {
		return 0
	}
	b := snapshot.NewBufferLayout(l, snapshot.DefaultBufferPages(l.NumPages, 4096))
	return alignUp(b.Size, hugePage)
}

// HoldsDiskBuffer says whether the storage holds the RAM region of a
// snapshot to disk with the default buffer (snap start disk).
func (m *Machine) HoldsDiskBuffer() bool {
	return m.Storage.Size != 0 && m.Storage.Size >= m.DiskStorageNeeded()
}

// HoldsImage says whether the storage holds a whole image in RAM (else
// only a snapshot to disk fits, with the storage as its RAM buffer).
func (m *Machine) HoldsImage() bool {
	return m.Storage.Size != 0 && m.Storage.Size >= m.StorageNeeded()
}

// ErrNoStorage means no RAM is left for the snapshot storage.
var ErrNoStorage = errors.New("snapshot storage: not enough RAM after the reserved region")

func inRAM(ram []Range, x Range) bool {
	for _, r := range ram {
		if x.Base >= r.Base && x.End() <= r.End() {
			return true
		}
	}
	return false
}

// buildTables writes identity page tables for the whole machine into the
// reserved region: RAM cacheable, everything else below 4 GiB uncacheable
// (device registers), page 0 not mapped, 4 KiB pages in the first 2 MiB and
// 2 MiB pages elsewhere. The table-page pool that follows the root also
// serves the splits the snapshot makes.
func (m *Machine) buildTables(arch mmu.Arch, mem mmu.PhysMem, uncached uint64) error {
	root := m.TickStackTop
	poolBase := root + 4096
	for off := uint64(0); off < 4096; off += 8 {
		mem.Store64(root+off, 0)
	}
	t := &mmu.Tables{Arch: arch, Mem: mem, Root: mmu.PA(root), Pool: mmu.NewPool(poolBase, tablePoolSize)}
	if poolBase+tablePoolSize > m.DrainStackTop-drainStackSize-guardPageSize {
		return errors.New("memory: reserved region too small for the table pool")
	}
	if err := t.Map(0x1000, 0x1000, hugePage-0x1000, 4096, 0); err != nil {
		return err
	}
	// The 2 MiB regions of the reserved region that hold a guard page
	// are mapped in 4 KiB pages, the guard pages left unmapped.
	guarded := func(a uint64) bool {
		return slices.ContainsFunc(m.Guards, func(g uint64) bool { return g&^(hugePage-1) == a })
	}
	for a := m.Reserved.Base; a < m.Reserved.End(); a += hugePage {
		if !guarded(a) {
			continue
		}
		for p := a; p < a+hugePage; p += 4096 {
			if !slices.Contains(m.Guards, p) {
				if err := t.Map(mmu.VA(p), mmu.PA(p), 4096, 4096, 0); err != nil {
					return err
				}
			}
		}
	}
	for a := uint64(hugePage); a < 4<<30; a += hugePage {
		if guarded(a) {
			continue
		}
		attrs := uncached
		if inRAM(m.RAM, Range{Base: a, Size: hugePage}) {
			attrs = 0
		}
		if err := t.Map(mmu.VA(a), mmu.PA(a), hugePage, hugePage, attrs); err != nil {
			return err
		}
	}
	for _, r := range m.RAM {
		lo := max(alignUp(r.Base, hugePage), 4<<30)
		hi := r.End() &^ (hugePage - 1)
		for a := lo; a < hi; a += hugePage {
			if guarded(a) {
				continue
			}
			if err := t.Map(mmu.VA(a), mmu.PA(a), hugePage, hugePage, 0); err != nil {
				return err
			}
		}
	}
	m.Tables = t
	m.TableSetupUsed = t.Pool.Used()
	t.Pool.Seal() // the boot mapping: what each snapshot's Merge restores
	return nil
}

// String describes the plan on one line, the layout: line the host
// harness reads (package lines).
func (m *Machine) String() string {
	return lines.Layout{Captured: m.Captured, DMA: m.DMA, Reserved: m.Reserved, Storage: m.Storage}.String()
}
