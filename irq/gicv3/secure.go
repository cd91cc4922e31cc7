//go:build tamago && arm64

package gicv3

// The Secure set-up a Non-secure EL1 driver needs from EL3 when the GIC
// has two Security states (IHI 0069H 4.6, "Interrupt grouping and
// security"; firmware such as Trusted Firmware-A does it on a real
// board): affinity routing on for both states (GICD_CTLR.ARE_S and
// ARE_NS, Secure view), every SPI, SGI and PPI in Non-secure Group 1
// (GICD_IGROUPR<n>, GICR_IGROUPR0; GICD_IGRPMODR stays 0), this PE's
// redistributor awake (GICR_WAKER), the System register interface open
// to the lower exception levels (ICC_SRE_EL3 = SRE|DFB|DIB|Enable) and the
// priority mask open (ICC_PMR_EL1: a Non-secure write is ignored while it
// is in the Secure half of the range, where it resets, if Group 0 goes
// to EL3).
const (
	// ICC_SRE_EL3_ALL is SRE, DFB, DIB and Enable.
	ICC_SRE_EL3_ALL = 0xf
)

// SecureInit is called from assembly only, at EL3 before the runtime
// exists (no stack is used): R0 is the distributor's base, R1 this PE's
// redistributor's RD_base; it clobbers R0-R5 and returns to R30.
func SecureInit()
