//go:build tamago && arm64

package aarch64

import (
	"runtime"
	"runtime/goos"
)

// Exception vectors (Arm ARM DDI 0487, chapter D1, "Exception vectors":
// VBAR_EL1+0x000 to +0x780): four groups of four 128-byte entries. The runtime runs on
// SP_EL0, so its exceptions use the first group and the SP_EL1 stack.
const (
	// ESR_EL1.EC, bits 31:26: the exception class.
	ESR_EL1_EC_SHIFT = 26
	EC_UNKNOWN       = 0x00 // undefined instruction (and HLT outside debug)
	EC_SVC64         = 0x15
	EC_IABT_CUR      = 0x21 // instruction abort, same EL
	EC_PC_ALIGN      = 0x22
	EC_DABT_CUR      = 0x25 // data abort, same EL
	EC_SP_ALIGN      = 0x26
	EC_BRK64         = 0x3c

	// vectorSyncSP0 is the entry for synchronous exceptions from EL1 on
	// SP_EL0: from the runtime's code.
	vectorSyncSP0 = 0
)

// ExceptionFrame is the interrupted context the vector saves on the SP_EL1
// stack (layout shared with vectors_arm64.s). Handlers may change X, SP
// and ELR: the exception return restores them.
type ExceptionFrame struct {
	X      [31]uint64 // X0-X30 (X28 is the interrupted g, X30 its LR)
	SP     uint64     // SP_EL0 at the exception
	ELR    uint64     // ELR_EL1: the faulting or returning PC
	SPSR   uint64     // SPSR_EL1
	ESR    uint64     // ESR_EL1: syndrome
	FAR    uint64     // FAR_EL1: faulting address (aborts)
	Vector uint64     // vector entry index 0-15
	_      uint64
}

// AbortHandler, if set, is offered every data abort taken from Go code
// (EL1 on SP_EL0) before the board turns it into a panic: for example a
// write to a page that a snapshot write-protected. It runs on the
// exception stack with interrupts masked, in the middle of whatever the
// interrupted code was doing, so it must be nosplit, allocate nothing,
// write no pointers and take no lock the interrupted code may hold. It
// returns true when it resolved the fault: the exception returns to
// f.ELR (the faulting instruction, to retry it, unless the handler moved
// it) with the registers in f. ESR_EL1.ISS (f.ESR) tells the kind of
// fault (DFSC, bits 5:0) and WnR (bit 6: a write); f.FAR is the address.
var AbortHandler func(f *ExceptionFrame) bool

// semihostingCallPC returns the address of semihostingCall's HLT
// (exit_arm64.s).
//
//go:nosplit
func semihostingCallPC() uintptr

var vectorNames = [16]string{
	"synchronous (EL1, SP_EL0)", "IRQ (EL1, SP_EL0)", "FIQ (EL1, SP_EL0)", "SError (EL1, SP_EL0)",
	"synchronous (EL1, SP_EL1)", "IRQ (EL1, SP_EL1)", "FIQ (EL1, SP_EL1)", "SError (EL1, SP_EL1)",
	"synchronous (EL0)", "IRQ (EL0)", "FIQ (EL0)", "SError (EL0)",
	"synchronous (EL0, AArch32)", "IRQ (EL0, AArch32)", "FIQ (EL0, AArch32)", "SError (EL0, AArch32)",
}

// exception handles an exception taken to EL1 (called by the vectors with
// the frame on the SP_EL1 stack). It returns true to resume at f.ELR with
// SP_EL0 = f.SP. Aborts in Go code become panics (runtime.FaultPanic); an
// undefined semihosting HLT is skipped; anything else is reported on the
// console and ends the machine with ExceptionExitCode.
// The interrupted code may hold any lock and be in the middle of any
// allocation, so it runs nosplit (no stack check: the stack is not a
// goroutine's), allocates nothing and takes no lock; it writes no pointers,
// so no write barrier is emitted.
//
//go:nosplit
func exception(f *ExceptionFrame) (resume bool) {
	if f.Vector == vectorIRQSP0 {
		// The periodic tick (or a spurious interrupt): resume, or
		// enter asyncPreempt if the tick preempted the goroutine.
		tickIRQ(f)
		return true
	}
	ec := (f.ESR >> ESR_EL1_EC_SHIFT) & 0x3f
	if ec == EC_UNKNOWN && uintptr(f.ELR) == semihostingCallPC() {
		// Semihosting is off: skip the HLT, let Exit fall back.
		semihostingFailed = 1
		f.ELR += 4
		return true
	}
	if f.Vector == vectorSyncSP0 && ec == EC_DABT_CUR && AbortHandler != nil && AbortHandler(f) {
		return true
	}
	if f.Vector == vectorSyncSP0 && (ec == EC_DABT_CUR || ec == EC_IABT_CUR) &&
		runtime.FaultPanic(uintptr(f.X[28]), &f.ELR, &f.X[30], &f.SP, f.FAR) {
		// A fault in Go code: resume in runtime.sigpanic, which
		// panics (nil dereference, recoverable) or throws.
		return true
	}
	puts("\naarch64: unhandled exception: ")
	puts(vectorNames[f.Vector&15])
	puts("\n  ESR_EL1 ")
	putHex(f.ESR)
	puts(" (EC ")
	putHex(ec)
	puts(")  ELR_EL1 ")
	putHex(f.ELR)
	puts("  FAR_EL1 ")
	putHex(f.FAR)
	puts("\n  SPSR_EL1 ")
	putHex(f.SPSR)
	puts("  SP_EL0 ")
	putHex(f.SP)
	puts("  LR ")
	putHex(f.X[30])
	puts("  g ")
	putHex(f.X[28])
	puts("\n")
	if (ec == EC_DABT_CUR || ec == EC_IABT_CUR) && f.FAR < 2<<20 {
		puts("  (nil pointer dereference)\n")
	}
	Exit(ExceptionExitCode)
	return false
}

//go:nosplit
func puts(s string) {
	for i := 0; i < len(s); i++ {
		goos.Printk(s[i])
	}
}

//go:nosplit
func putDec(v uint64) {
	p := uint64(1)
	for v/p >= 10 {
		p *= 10
	}
	for ; p > 0; p /= 10 {
		goos.Printk(byte('0' + v/p%10))
	}
}

//go:nosplit
func putHex(v uint64) {
	const digits = "0123456789abcdef"
	puts("0x")
	for shift := 60; shift >= 0; shift -= 4 {
		goos.Printk(digits[(v>>uint(shift))&0xf])
	}
}
