//go:build tamago && amd64

package kernel

import "unsafe"

// Interrupt gates pagesnap installs in the current IDT (tamago's): the page
// fault (#PF, vector 14) and the periodic tick (TICK_VECTOR), each
// on a stack of its own from the Interrupt Stack Table. Intel SDM Vol. 3A
// 6.14.1 "64-Bit Mode IDT", Figure 6-8 "64-Bit IDT Gate Descriptors";
// 6.14.5 "Interrupt Stack Table".
const (
	VECTOR_DF = 8 // double fault (6.15, "Interrupt 8")
	VECTOR_PF = 14

	// Gate type 0xE (64-bit interrupt gate: IF cleared on entry), P, DPL0.
	IDT_INTERRUPT_GATE = 0x8e
	// IST index used for #PF: the dedicated fault stack.
	PF_IST = 1
	// IST index used for the tick: its own stack, so that a write fault
	// the tick handler takes (it writes the interrupted goroutine's g
	// and stack, which a snapshot may protect) does not reuse it.
	TICK_IST = 2
	// IST index used for #DF: a stack of its own, so that a double fault
	// caused by an overflowing fault stack can still report.
	DF_IST = 3
)

// doubleFaultEntryAddr returns the address of doubleFaultEntry
// (fault_amd64.s).
//
//go:nosplit
func doubleFaultEntryAddr() uint64

// pageFaultEntryAddr returns the address of pageFaultEntry (fault_amd64.s).
//
//go:nosplit
func pageFaultEntryAddr() uint64

// installPageFaultGate points the current IDT's vector 14 at pagesnap's
// resumable handler, on IST1, and vector 8 at the double-fault report, on
// IST3.
func installPageFaultGate() {
	installGate(VECTOR_PF, pageFaultEntryAddr(), PF_IST)
	installGate(VECTOR_DF, doubleFaultEntryAddr(), DF_IST)
}

// installGate points the current IDT's vector at off, an interrupt gate
// on stack ist of the TSS.
func installGate(vector, off uint64, ist uint64) {
	var idtr [2]uint64
	sidt(uint64(uintptr(unsafe.Pointer(&idtr[0]))))
	base := idtr[0]>>16 | idtr[1]<<48
	lo := off&0xffff | uint64(SEL_CODE)<<16 | ist<<32 | uint64(IDT_INTERRUPT_GATE)<<40 | (off>>16&0xffff)<<48
	hi := off >> 32
	gate := base + vector*16
	m := PhysMem{}
	m.Store64(gate+8, hi)
	m.Store64(gate, lo)
}
