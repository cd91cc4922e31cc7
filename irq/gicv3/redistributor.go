//go:build tamago && arm64

package gicv3

import "errors"

// The Redistributors (IHI 0069H 12.10, "The GIC Redistributor register
// map"; 12.11 the registers): one per PE, each two 64 KiB frames, RD_base
// (control) then SGI_base (SGIs and PPIs), laid out one after the other
// from the device tree's redistributor region.
const (
	GICR_FRAME_SIZE = 0x20000 // RD_base + SGI_base (GICv3; GICv4 adds two frames)
	GICR_SGI_BASE   = 0x10000

	// RD_base frame.
	GICR_CTLR  = 0x0000
	GICR_TYPER = 0x0008 // 64 bits
	GICR_WAKER = 0x0014

	// SGI_base frame.
	GICR_IGROUPR0    = GICR_SGI_BASE + 0x0080
	GICR_ISENABLER0  = GICR_SGI_BASE + 0x0100
	GICR_ICENABLER0  = GICR_SGI_BASE + 0x0180
	GICR_ICPENDR0    = GICR_SGI_BASE + 0x0280
	GICR_IPRIORITYR0 = GICR_SGI_BASE + 0x0400

	// GICR_TYPER: Affinity_Value (63:32: Aff3.Aff2.Aff1.Aff0 of the PE),
	// Last (bit 4: the region's last redistributor), VLPIS (bit 1:
	// GICv4 frames, four instead of two).
	GICR_TYPER_LAST      = 1 << 4
	GICR_TYPER_VLPIS     = 1 << 1
	GICR_TYPER_AFF_SHIFT = 32

	// GICR_WAKER: ProcessorSleep (bit 1) and ChildrenAsleep (bit 2).
	// With two Security states it is RAZ/WI to Non-secure accesses.
	GICR_WAKER_ProcessorSleep = 1 << 1
	GICR_WAKER_ChildrenAsleep = 1 << 2

	// GICR_CTLR_RWP: a GICR_ICENABLER0 write is still being applied.
	GICR_CTLR_RWP = 1 << 3
)

// findRedistributor sets g.rd to the RD_base of the redistributor whose
// GICR_TYPER affinity is this PE's (MPIDR_EL1 Aff3.Aff2.Aff1.Aff0),
// walking the region from base.
func (g *GIC) findRedistributor(base, size uint64) error {
	want := typerAffinity(readMPIDR())
	for rd := base; size == 0 || rd < base+size; {
		typer := read64(rd + GICR_TYPER)
		if typer>>GICR_TYPER_AFF_SHIFT == want {
			g.rd = rd
			return nil
		}
		if typer&GICR_TYPER_LAST != 0 {
			break
		}
		if typer&GICR_TYPER_VLPIS != 0 {
			rd += 2 * GICR_FRAME_SIZE
		} else {
			rd += GICR_FRAME_SIZE
		}
	}
	return errors.New("gicv3: no redistributor for this processor's affinity")
}

// initRedistributor wakes this PE's redistributor and, with one Security
// state, puts its SGIs and PPIs in Group 1, disabled.
func (g *GIC) initRedistributor() error {
	if g.ds {
		write32(g.rd+GICR_WAKER, read32(g.rd+GICR_WAKER)&^GICR_WAKER_ProcessorSleep)
		for i := 0; read32(g.rd+GICR_WAKER)&GICR_WAKER_ChildrenAsleep != 0; i++ {
			if i == 1_000_000 {
				return errors.New("gicv3: the redistributor stays asleep (GICR_WAKER.ChildrenAsleep)")
			}
		}
		write32(g.rd+GICR_ICENABLER0, ^uint32(0))
		g.waitRedistRWP()
		write32(g.rd+GICR_ICPENDR0, ^uint32(0))
		write32(g.rd+GICR_IGROUPR0, ^uint32(0))
	}
	return nil
}

// waitRedistRWP waits until a GICR_ICENABLER0 write has been applied.
//
//go:nosplit
func (g *GIC) waitRedistRWP() {
	for read32(g.rd+GICR_CTLR)&GICR_CTLR_RWP != 0 {
	}
}

// enablePrivate enables SGI or PPI INTID id (below 32) in Group 1 at
// priority prio.
//
//go:nosplit
func (g *GIC) enablePrivate(id uint32, prio uint8) {
	if g.ds {
		write32(g.rd+GICR_IGROUPR0, read32(g.rd+GICR_IGROUPR0)|1<<id)
	}
	setPriority(g.rd+GICR_IPRIORITYR0, id, prio)
	write32(g.rd+GICR_ISENABLER0, 1<<id)
}

// privateEnabled reports whether SGI or PPI INTID id is enabled
// (GICR_ISENABLER0 reads 1).
//
//go:nosplit
func (g *GIC) privateEnabled(id uint32) bool {
	return read32(g.rd+GICR_ISENABLER0)&(1<<id) != 0
}

// disablePrivate disables SGI or PPI INTID id.
//
//go:nosplit
func (g *GIC) disablePrivate(id uint32) {
	write32(g.rd+GICR_ICENABLER0, 1<<id)
	g.waitRedistRWP()
}
