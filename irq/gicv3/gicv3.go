//go:build tamago && arm64

package gicv3

// GIC is a GICv3 as one processor sees it: the distributor, this PE's
// redistributor and the CPU interface.
type GIC struct {
	// GICD is the distributor's base address.
	GICD uint64

	rd       uint64 // this PE's redistributor (RD_base)
	affinity uint64 // GICD_IROUTER value routing an SPI to this PE
	lines    uint32 // interrupt IDs the distributor handles
	ds       bool   // one Security state (GICD_CTLR.DS)
}

// Init sets the GIC up for this processor: gicd is the distributor, gicr
// and gicrSize the redistributor region (the device tree's arm,gic-v3 reg;
// gicrSize 0 walks to the redistributor marked Last). Every interrupt
// stays disabled until Enable.
func (g *GIC) Init(gicd, gicr, gicrSize uint64) error {
	g.GICD = gicd
	mpidr := readMPIDR()
	g.affinity = routerAffinity(mpidr)
	g.ds = read32(gicd+GICD_CTLR)&GICD_CTLR_DS != 0
	if err := g.findRedistributor(gicr, gicrSize); err != nil {
		return err
	}
	if err := g.initRedistributor(); err != nil {
		return err
	}
	g.initDistributor()
	return initCPUInterface()
}

// SecurityDisabled reports whether the GIC has one Security state
// (GICD_CTLR.DS = 1).
func (g *GIC) SecurityDisabled() bool { return g.ds }

// Enable enables INTID id (a PPI or an SPI) in Group 1 at priority prio
// (lower is more urgent), routed to this processor.
//
//go:nosplit
func (g *GIC) Enable(id uint32, prio uint8) {
	if id < GIC_ID_SPI_BASE {
		g.enablePrivate(id, prio)
	} else {
		g.enableSPI(id, prio)
	}
}

// Enabled reports whether INTID id is enabled. With two Security states
// a Non-secure Enable of an interrupt the firmware left Secure (Group 0
// or Secure Group 1) is ignored (the group registers are Secure: the
// Non-secure driver cannot read or change them); Enabled then reports
// false.
//
//go:nosplit
func (g *GIC) Enabled(id uint32) bool {
	if id < GIC_ID_SPI_BASE {
		return g.privateEnabled(id)
	}
	return g.spiEnabled(id)
}

// Disable disables INTID id.
//
//go:nosplit
func (g *GIC) Disable(id uint32) {
	if id < GIC_ID_SPI_BASE {
		g.disablePrivate(id)
	} else {
		g.disableSPI(id)
	}
}

// Ack acknowledges the highest-priority pending interrupt and returns its
// INTID (GIC_ID_SPURIOUS if none is pending any more); pass it to EOI
// unless spurious.
//
//go:nosplit
func Ack() uint32 {
	return uint32(readICC_IAR1_EL1() & ICC_IAR1_EL1_INTID)
}

// EOI ends interrupt id (returned by Ack).
//
//go:nosplit
func EOI(id uint32) {
	writeICC_EOIR1_EL1(uint64(id))
}
