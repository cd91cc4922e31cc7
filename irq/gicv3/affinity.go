package gicv3

// This file has no build constraint: the host tests check the register
// arithmetic.

// GICD_IROUTER_AFF selects GICD_IROUTER's affinity fields (IHI 0069H
// 12.9, GICD_IROUTER<n>): Aff3 in 39:32, Aff2-Aff0 in 23:0, as in
// MPIDR_EL1; IRM (bit 31) stays 0, routing to that one PE. (MPIDR_EL1's
// bit 31 is RES1 and must not reach IRM.)
const GICD_IROUTER_AFF = 0xff_00ff_ffff

// routerAffinity returns the GICD_IROUTER value that routes an SPI to the
// PE whose MPIDR_EL1 is mpidr.
//
//go:nosplit
func routerAffinity(mpidr uint64) uint64 { return mpidr & GICD_IROUTER_AFF }

// typerAffinity returns the Affinity_Value a redistributor's GICR_TYPER
// (bits 63:32: Aff3.Aff2.Aff1.Aff0) holds for the PE whose MPIDR_EL1 is
// mpidr.
//
//go:nosplit
func typerAffinity(mpidr uint64) uint64 { return mpidr>>32&0xff<<24 | mpidr&0xffffff }

// priorityOffset returns the offset of the word that holds interrupt id's
// byte in a priority register block (GICD_IPRIORITYR<n>,
// GICR_IPRIORITYR<n>: four interrupts a word, one byte each).
//
//go:nosplit
func priorityOffset(id uint32) uint64 { return uint64(id &^ 3) }

// priorityWord returns the priority word old with interrupt id's byte set
// to prio.
//
//go:nosplit
func priorityWord(id uint32, old uint32, prio uint8) uint32 {
	shift := (id & 3) * 8
	return old&^(0xff<<shift) | uint32(prio)<<shift
}
