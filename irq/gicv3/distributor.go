//go:build tamago && arm64

package gicv3

// The Distributor (IHI 0069H 12.8, "The GIC Distributor register map";
// 12.9 the registers): one for the system, it prioritizes and routes SPIs.
const (
	GICD_CTLR       = 0x0000
	GICD_TYPER      = 0x0004
	GICD_IGROUPR    = 0x0080 // one bit per interrupt: 1 is Group 1
	GICD_ISENABLER  = 0x0100 // set-enable, one bit per interrupt
	GICD_ICENABLER  = 0x0180 // clear-enable
	GICD_ICPENDR    = 0x0280 // clear-pending
	GICD_IPRIORITYR = 0x0400 // one byte per interrupt, lower is higher priority
	GICD_IROUTER    = 0x6000 // 64 bits per SPI: GICD_IROUTER<n> at 0x6000+8n, n >= 32

	// GICD_CTLR bits. With one Security state (DS = 1): EnableGrp0,
	// EnableGrp1, ARE. Non-secure view with two: EnableGrp1 (bit 0,
	// affinity routing off), EnableGrp1A (bit 1), ARE_NS (bit 4).
	// Secure view: EnableGrp0, EnableGrp1NS, EnableGrp1S (bit 2),
	// ARE_S (bit 4), ARE_NS (bit 5).
	GICD_CTLR_EnableGrp0  = 1 << 0
	GICD_CTLR_EnableGrp1  = 1 << 0 // Non-secure view
	GICD_CTLR_EnableGrp1A = 1 << 1 // Non-secure view; EnableGrp1 with DS = 1, EnableGrp1NS in the Secure view
	GICD_CTLR_ARE         = 1 << 4 // ARE with DS = 1, ARE_NS in the Non-secure view, ARE_S in the Secure view
	GICD_CTLR_ARE_NS_S    = 1 << 5 // ARE_NS in the Secure view
	GICD_CTLR_DS          = 1 << 6
	GICD_CTLR_RWP         = 1 << 31

	// GICD_TYPER_ITLinesNumber: the distributor handles
	// 32*(ITLinesNumber+1) interrupt IDs.
	GICD_TYPER_ITLinesNumber = 0x1f

	// GIC_ID_SPI_BASE is the first SPI's INTID (2.2, "INTIDs": 0-15
	// SGIs, 16-31 PPIs, 32-1019 SPIs, 1020-1023 special).
	GIC_ID_SPI_BASE = 32
	// GIC_ID_SPURIOUS is the INTID an acknowledge returns when no
	// interrupt is pending any more.
	GIC_ID_SPURIOUS = 1023
)

// waitRWP waits until the distributor has applied a GICD_CTLR or
// GICD_ICENABLER write (GICD_CTLR.RWP reads 0).
//
//go:nosplit
func (g *GIC) waitRWP() {
	for read32(g.GICD+GICD_CTLR)&GICD_CTLR_RWP != 0 {
	}
}

// initDistributor enables affinity routing and Group 1 (Non-secure Group
// 1 with two Security states) and, with one Security state, puts every SPI
// in Group 1, disabled.
func (g *GIC) initDistributor() {
	lines := read32(g.GICD+GICD_TYPER)&GICD_TYPER_ITLinesNumber + 1
	g.lines = lines * 32
	ctlr := read32(g.GICD + GICD_CTLR)
	g.ds = ctlr&GICD_CTLR_DS != 0
	if g.ds {
		// One Security state: groups are set here (with two, the
		// Non-secure writes are ignored and SecureInit set them).
		write32(g.GICD+GICD_CTLR, 0)
		g.waitRWP()
		for n := uint32(1); n < lines; n++ {
			write32(g.GICD+GICD_ICENABLER+4*uint64(n), ^uint32(0))
			write32(g.GICD+GICD_ICPENDR+4*uint64(n), ^uint32(0))
			write32(g.GICD+GICD_IGROUPR+4*uint64(n), ^uint32(0))
		}
		g.waitRWP()
	}
	// ARE first (it may change only with the groups disabled), then
	// the Group 1 enables (as Linux's GICv3 driver writes them: both
	// bits, which name Group 1 in either view).
	write32(g.GICD+GICD_CTLR, read32(g.GICD+GICD_CTLR)|GICD_CTLR_ARE)
	g.waitRWP()
	write32(g.GICD+GICD_CTLR, read32(g.GICD+GICD_CTLR)|GICD_CTLR_ARE|GICD_CTLR_EnableGrp1|GICD_CTLR_EnableGrp1A)
	g.waitRWP()
}

// enableSPI routes SPI INTID id to this PE, in Group 1, at priority prio,
// and enables it.
//
//go:nosplit
func (g *GIC) enableSPI(id uint32, prio uint8) {
	n := uint64(id / 32)
	if g.ds {
		write32(g.GICD+GICD_IGROUPR+4*n, read32(g.GICD+GICD_IGROUPR+4*n)|1<<(id%32))
	}
	write64(g.GICD+GICD_IROUTER+8*uint64(id), g.affinity)
	setPriority(g.GICD+GICD_IPRIORITYR, id, prio)
	write32(g.GICD+GICD_ISENABLER+4*n, 1<<(id%32))
}

// spiEnabled reports whether SPI INTID id is enabled (GICD_ISENABLER
// reads 1).
//
//go:nosplit
func (g *GIC) spiEnabled(id uint32) bool {
	return read32(g.GICD+GICD_ISENABLER+4*uint64(id/32))&(1<<(id%32)) != 0
}

// disableSPI disables SPI INTID id.
//
//go:nosplit
func (g *GIC) disableSPI(id uint32) {
	write32(g.GICD+GICD_ICENABLER+4*uint64(id/32), 1<<(id%32))
	g.waitRWP()
}

// setPriority writes interrupt id's byte of the priority registers at
// base (GICD_IPRIORITYR or GICR_IPRIORITYR). They are byte-accessible,
// but a word read-modify-write keeps to the accesses every implementation
// must support.
//
//go:nosplit
func setPriority(base uint64, id uint32, prio uint8) {
	reg := base + priorityOffset(id)
	write32(reg, priorityWord(id, read32(reg), prio))
}
