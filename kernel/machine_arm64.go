//go:build tamago && arm64

package kernel

import (
	"errors"
	"fmt"

	"github.com/pagesnap/pagesnap/memrange"
	"github.com/pagesnap/pagesnap/mmu"
)

// Stage 1 translation registers (Arm ARM DDI 0487, D19.2 TCR_EL1 and
// MAIR_EL1; D8.2 "Translation process" for the start level).
const (
	// TCR_EL1: 48-bit input addresses (T0SZ 16: the walk starts at level
	// 0, as package mmu expects), 4 KiB granule, write-back
	// inner-shareable walks, no TTBR1 walks, 40-bit output addresses.
	TCR_EL1_T0SZ_48  = 64 - 48    // bits 5:0
	TCR_EL1_IRGN0_WB = 0b01 << 8  // inner write-back, read/write-allocate
	TCR_EL1_ORGN0_WB = 0b01 << 10 // outer write-back, read/write-allocate
	TCR_EL1_SH0_IS   = 0b11 << 12 // inner shareable
	TCR_EL1_TG0_4K   = 0b00 << 14
	TCR_EL1_EPD1     = 1 << 23 // no walks through TTBR1_EL1
	TCR_EL1_TG1_4K   = 0b10 << 30
	TCR_EL1_IPS_40   = 0b010 << 32
	// TCR_EL1_HPD0 (bit 41, FEAT_HPDS) would disable the hierarchical
	// permissions (APTable) the snapshot's protection relies on: it
	// stays 0.
	TCR_EL1_HPD0 = 1 << 41

	tcrEL1 = TCR_EL1_T0SZ_48 | TCR_EL1_IRGN0_WB | TCR_EL1_ORGN0_WB | TCR_EL1_SH0_IS |
		TCR_EL1_TG0_4K | TCR_EL1_EPD1 | TCR_EL1_TG1_4K | TCR_EL1_IPS_40

	// MAIR_EL1 attributes: index 0 Device-nGnRnE (0x00), index 1 Normal,
	// inner and outer write-back non-transient, read/write-allocate
	// (0xff); the board's boot tables use the same.
	MAIR_DEVICE_nGnRnE = 0x00
	MAIR_NORMAL_WB     = 0xff
	attrIndexDevice    = 0
	attrIndexNormal    = 1
	mairEL1            = MAIR_DEVICE_nGnRnE<<(8*attrIndexDevice) | MAIR_NORMAL_WB<<(8*attrIndexNormal)

	// Leaf attributes (D8.3 descriptor formats): AttrIndx in bits 4:2;
	// RAM inner shareable and not executable at EL0; devices executable
	// at no level. AP[2:1] = 00 (read/write at EL1) and AF are set by
	// mmu.Tables.Map; the Contiguous hint is never set.
	leafNormal = attrIndexNormal<<2 | mmu.ARM_SH | mmu.ARM_UXN
	leafDevice = attrIndexDevice<<2 | mmu.ARM_PXN | mmu.ARM_UXN

	// The device space of pagesnap's arm64 boards, below DDR at 1 GiB:
	// QEMU virt's flash, GIC, PL011, virtio-mmio and PCIe windows, the
	// i.MX 8M Plus's boot ROM, OCRAM, AIPS peripherals and GIC (i.MX 8M
	// Plus Reference Manual, chapter 2 "Memory Maps"); and virt's high PCIe
	// window from 256 GiB.
	lowDevicesEnd   = 1 << 30
	highDevicesBase = 256 << 30
	highDevicesEnd  = 512 << 30
	gigaPage        = 1 << 30
)

// RAMRanges returns the board's RAM banks (SetBoard), sorted.
func RAMRanges() ([]Range, error) {
	if board == nil {
		return nil, errNoBoard
	}
	banks, err := board.RAM()
	if err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	if len(banks) == 0 {
		return nil, errors.New("memory: the board describes no RAM")
	}
	return memrange.Sort(append([]Range(nil), banks...)), nil
}

// Setup plans memory for a runtime whose memory ends at the DMA window dma,
// switches to pagesnap's own stage 1 tables (captured RAM in 4 KiB pages:
// protection and unprotection then only change permissions of valid
// entries, never block sizes, so no break-before-make is needed, D8.14.1),
// points SP_EL1 at the fault stack in the reserved region and installs
// the vector table whose data abort entry resolves the snapshot's write
// faults. It must run once, before any snapshot.
func Setup(dma Range) (*Machine, error) {
	if dma.Size == 0 {
		return nil, errors.New("memory: no DMA region: build the kernel for a RAM size (make kernel RAM=256M: board/qemu/virt/mem_size.go) so that the runtime leaves RAM for DMA, the reserved region and the storage")
	}
	ram, err := RAMRanges()
	if err != nil {
		return nil, err
	}
	m, err := Plan(ram, dma)
	if err != nil {
		return nil, err
	}
	if err := m.buildTablesARM64(); err != nil {
		return nil, fmt.Errorf("page tables: %w", err)
	}
	flags := cli()
	setSPEL1(m.FaultStackTop)
	setVBAR(snapVectorsAddr())
	switchTables(uint64(m.Tables.Root), tcrEL1, mairEL1)
	restoreFlags(flags)
	setupIRQ(m)
	return m, nil
}

// buildTablesARM64 writes identity stage 1 tables into the reserved
// region: the low device space from 2 MiB to 1 GiB as Device-nGnRnE 2 MiB
// blocks (the first 2 MiB unmapped: nil dereferences fault), captured RAM
// in 4 KiB pages, the rest of RAM in 2 MiB blocks where aligned, and the
// high device space in 1 GiB blocks. The table-page pool after the root
// also serves any split a snapshot makes.
func (m *Machine) buildTablesARM64() error {
	root := m.TickStackTop
	poolBase := root + 4096
	if poolBase+tablePoolSize > m.DrainStackTop-drainStackSize-guardPageSize {
		return errors.New("memory: reserved region too small for the table pool")
	}
	mem := &engineMem{}
	for off := uint64(0); off < 4096; off += 8 {
		mem.Store64(root+off, 0)
	}
	t := &mmu.Tables{Arch: mmu.ARM64, Mem: mem, Root: mmu.PA(root), Pool: mmu.NewPool(poolBase, tablePoolSize)}
	if err := t.Map(hugePage, hugePage, lowDevicesEnd-hugePage, hugePage, leafDevice); err != nil {
		return err
	}
	capturedEnd := m.Captured[len(m.Captured)-1].End()
	for _, r := range m.RAM {
		lo := alignUp(r.Base, 4096)
		hi := r.End() &^ 0xfff
		if lo >= hi {
			continue
		}
		// Captured RAM: 4 KiB pages.
		if c := min(hi, capturedEnd); lo < c {
			if err := t.Map(mmu.VA(lo), mmu.PA(lo), c-lo, 4096, leafNormal); err != nil {
				return err
			}
			lo = c
		}
		if err := mapRAM(t, lo, hi); err != nil {
			return err
		}
	}
	if err := t.Map(highDevicesBase, highDevicesBase, highDevicesEnd-highDevicesBase, gigaPage, leafDevice); err != nil {
		return err
	}
	m.Tables = t
	m.TableSetupUsed = t.Pool.Used()
	t.Pool.Seal() // the boot mapping: what each snapshot's Merge restores
	return nil
}

// mapRAM maps [lo, hi) as normal memory: 2 MiB blocks where aligned, 4 KiB
// pages for the unaligned ends.
func mapRAM(t *mmu.Tables, lo, hi uint64) error {
	if lo >= hi {
		return nil
	}
	a, b := alignUp(lo, hugePage), hi&^(hugePage-1)
	if a >= b {
		return t.Map(mmu.VA(lo), mmu.PA(lo), hi-lo, 4096, leafNormal)
	}
	if lo < a {
		if err := t.Map(mmu.VA(lo), mmu.PA(lo), a-lo, 4096, leafNormal); err != nil {
			return err
		}
	}
	if err := t.Map(mmu.VA(a), mmu.PA(a), b-a, hugePage, leafNormal); err != nil {
		return err
	}
	if b < hi {
		return t.Map(mmu.VA(b), mmu.PA(b), hi-b, 4096, leafNormal)
	}
	return nil
}
