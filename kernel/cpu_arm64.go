//go:build tamago && arm64

package kernel

// Processor control, in cpu_arm64.s. Every function is nosplit: they are
// used on the fault path and on the snapshot stack.

// cli masks IRQ and FIQ (PSTATE.I, PSTATE.F) and returns the previous
// DAIF (Arm ARM DDI 0487, C5.2.3 DAIF).
//
//go:nosplit
func cli() (daif uint64)

// restoreFlags writes DAIF back.
//
//go:nosplit
func restoreFlags(daif uint64)

// cycles returns the virtual counter CNTVCT_EL0 (Arm ARM D12, "The Generic
// Timer in AArch64 state"), after an ISB so that it is not read early.
//
//go:nosplit
func cycles() uint64

// runOnStack calls fn on the stack whose top is sp (16-byte aligned), with
// the current g's stackguard0 cleared so that no function on the way runs
// the stack-growth check against a stack it is not on. Interrupts must be
// off. The old stackguard0 is restored on return.
//
//go:nosplit
func runOnStack(sp uint64, fn func())

// setSPEL1 makes sp the stack exceptions taken to EL1 run on (SP_EL1): it
// selects SP_EL1 (SPSel = 1), loads it and selects SP_EL0 again, the
// runtime's stack pointer (Arm ARM C5.2.16 SPSel). Interrupts must be off.
//
//go:nosplit
func setSPEL1(sp uint64)

// setVBAR installs the exception vector table at addr (VBAR_EL1, 2 KiB
// aligned) and synchronizes the context.
//
//go:nosplit
func setVBAR(addr uint64)

// switchTables loads MAIR_EL1, TCR_EL1 and TTBR0_EL1 for new translation
// tables with the MMU off for the few instructions it takes (the old and
// new tables map the same identity, but with different block sizes: with
// the MMU on both could be cached at once, a TLB conflict on hardware),
// invalidates every EL1&0 translation (TLBI VMALLE1) and turns the MMU
// back on. No data access happens while the MMU is off. Interrupts must be
// off.
//
//go:nosplit
func switchTables(ttbr0, tcr, mair uint64)

// snapVectorsAddr returns the address of the exception vector table
// (fault_arm64.s).
//
//go:nosplit
func snapVectorsAddr() uint64
