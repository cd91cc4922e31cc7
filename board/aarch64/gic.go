//go:build tamago && arm64

package aarch64

// Arm Generic Interrupt Controller v2 (Arm IHI 0048B, "ARM Generic
// Interrupt Controller Architecture Specification, version 2.0"), as QEMU
// virt provides it by default (gic-version=2): the distributor routes
// interrupts, the CPU interface signals them to the processor. QEMU's GIC
// for virt has no Security Extensions unless secure=on, so every interrupt
// is in Group 0 and signalled as IRQ; with secure=on cpuinit (at EL3) puts
// every interrupt in Group 1 (Non-secure) before it drops to EL1, and this
// driver's writes to GICD_CTLR and GICC_CTLR bit 0 enable Group 1 in the
// Non-secure view (4.3.1, 4.4.1). cpuinit also sets GICC_PMR from the
// Secure side: a Non-secure write of GICC_PMR is ignored while the mask is
// in the Secure half of the priority range, where it resets (4.4.2; QEMU
// implements it so: without it no interrupt reaches EL1). The register blocks are the
// board's (intc.go).
const (
	// Distributor registers (4.3, Table 4-1).
	GICD_CTLR       = 0x000 // bit 0: forward interrupts to the CPU interfaces
	GICD_TYPER      = 0x004 // bits 4:0 ITLinesNumber: 32*(N+1) interrupts
	GICD_IGROUPR    = 0x080 // one bit per interrupt: 1 is Group 1 (Non-secure)
	GICD_ISENABLER  = 0x100 // set-enable, one bit per interrupt
	GICD_ICENABLER  = 0x180 // clear-enable
	GICD_IPRIORITYR = 0x400 // one byte per interrupt, lower is higher priority

	// CPU interface registers (4.4, Table 4-2).
	GICC_CTLR = 0x0000 // bit 0: signal interrupts to the processor
	GICC_PMR  = 0x0004 // priority mask: interrupts with a lower value pass
	GICC_IAR  = 0x000c // acknowledge: bits 9:0 the interrupt ID
	GICC_EOIR = 0x0010 // end of interrupt: write the IAR value

	GICD_CTLR_ENABLE = 1
	GICC_CTLR_ENABLE = 1
	// GICC_IAR_ID is the interrupt ID field; ID 1023 is spurious (no
	// interrupt pending any more, 3.2.4).
	GICC_IAR_ID     = 0x3ff
	GIC_ID_SPURIOUS = 1023
	// GIC_SPI_BASE is the interrupt ID of SPI 0 (GICv2 architecture
	// specification 2.2.1: IDs 32-1019 are SPIs).
	GIC_SPI_BASE      = 32
	GIC_PRIORITY_TICK = 0x80
	GIC_PMR_ALL       = 0xff
)

// gic2Init enables the distributor and this processor's CPU interface,
// letting every priority through.
//
//go:nosplit
func gic2Init() {
	Write32(gic.dist+GICD_CTLR, GICD_CTLR_ENABLE)
	Write32(gic.cpu+GICC_PMR, GIC_PMR_ALL)
	Write32(gic.cpu+GICC_CTLR, GICC_CTLR_ENABLE)
}

// gic2Enable enables interrupt id (a PPI or SPI) at priority prio.
//
//go:nosplit
func gic2Enable(id uint32, prio uint8) {
	// IPRIORITYR is byte-accessible (4.3.11), but Write32 keeps to the
	// word accesses every GIC implementation must support.
	reg := gic.dist + GICD_IPRIORITYR + uint64(id&^3)
	shift := (id & 3) * 8
	v := Read32(reg)
	v = v&^(0xff<<shift) | uint32(prio)<<shift
	Write32(reg, v)
	Write32(gic.dist+GICD_ISENABLER+uint64(id/32*4), 1<<(id%32))
}

// gic2Disable disables interrupt id.
//
//go:nosplit
func gic2Disable(id uint32) {
	Write32(gic.dist+GICD_ICENABLER+uint64(id/32*4), 1<<(id%32))
}

// gic2Ack acknowledges the highest-priority pending interrupt and returns
// the IAR value (pass it to gic2EOI; its ID is GIC_ID_SPURIOUS if none).
//
//go:nosplit
func gic2Ack() uint32 {
	return Read32(gic.cpu + GICC_IAR)
}

// gic2EOI ends the interrupt acknowledged with iar.
//
//go:nosplit
func gic2EOI(iar uint32) {
	Write32(gic.cpu+GICC_EOIR, iar)
}
