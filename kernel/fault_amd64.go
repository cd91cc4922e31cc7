//go:build tamago && amd64

package kernel

import (
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
)

// Page-fault error code bits (Intel SDM Vol. 3A 4.7, Figure 4-12).
const (
	PF_P    = 1 << 0 // 0: non-present page; 1: protection violation
	PF_W    = 1 << 1 // 1: the access was a write
	PF_US   = 1 << 2 // 1: user-mode access
	PF_RSVD = 1 << 3 // reserved bit set in a paging-structure entry
	PF_ID   = 1 << 4 // instruction fetch
)

// active is the snapshot whose write faults pageFault dispatches. It is
// read by the fault path (an atomic load of a pointer: no write barrier).
var active atomic.Pointer[snapshot.Snapshot]

// ramLo and ramHi bound the memory fatalFault follows frame pointers in.
var ramLo, ramHi uint64 = 0x1000, 1 << 32

// The fault handler's state, set once by Setup and only read afterwards
// (a snapshot may write-protect the pages these variables are in; reads
// do not fault).
var (
	// faultTables are pagesnap's page tables: fatalFault checks that an
	// address is mapped before it reads it.
	faultTables *mmu.Tables
	// ist1Slot is the address of the TSS's IST1 field; faultStackTop and
	// nestedStackTop are the two values pageFaultEntry stores there.
	ist1Slot, faultStackTop, nestedStackTop uint64
	// faultState is the address of the fault handler's writable state, in
	// the GDT page (reserved, never captured nor protected): see
	// FAULT_DEPTH and the following offsets.
	faultState uint64
	// crashInHandler, when not 0, is an unmapped address pageFault reads
	// on entry: the console's "crash nested" sets it to make the handler
	// fault (a nested fault), and nothing else does.
	crashInHandler uint64
)

// Offsets in the fault handler's state (at faultState).
const (
	FAULT_DEPTH    = 0  // pageFaultEntry invocations in progress (fault_amd64.s)
	FAULT_CR2      = 8  // the outermost fault being handled: CR2,
	FAULT_CODE     = 16 // its error code
	FAULT_RIP      = 24 // and RIP
	faultStateSize = 32
)

// Stack sizes of the fault path. pageFaultEntry uses faultEntryFrame bytes
// below the stack top before it calls Go code (fault_amd64.s: the
// processor's frame of 6 words, 15 general-purpose registers, XAREA (the
// XSAVE or FXSAVE area, XSAVE_AREA+24 to keep it 64-byte aligned) and
// ARGS). The Go code below it gets at least faultGoBudget on the fault
// stack: HandleWriteFault's nosplit chain (engine, mmu, TLB) is a few
// KiB at most; the nested-fault stack needs only the report's
// (nestedFault, fatalFault, mapped: reportGoBudget). The unmapped guard
// page under each stack turns an overflow into a nested fault or a
// double fault, never a silent overwrite.
const (
	faultEntryFrame = 6*8 + 15*8 + XSAVE_AREA + 24 + 48
	faultGoBudget   = 32 << 10
	reportGoBudget  = 4 << 10
)

// A negative array length fails the build if a stack is too small for
// its frame and budget.
var (
	_ [faultStackSize - faultEntryFrame - faultGoBudget]byte
	_ [nestedStackSize - faultEntryFrame - reportGoBudget]byte
	_ [doubleFaultStackSize - 16 - reportGoBudget]byte
)

// handleWriteFault is (*snapshot.Snapshot).HandleWriteFault, called
// through a function value. The call chain below it is nosplit all the way
// (the engine, package mmu, PhysMem, TLB), but it is deeper than the
// linker's nosplit budget, which assumes a goroutine stack with its small
// guard area; the fault path runs on its own 64 KiB stack instead. An
// indirect call ends the linker's static chain analysis at this point; it
// does not add a stack check at run time, since the callee is nosplit.
var handleWriteFault = (*snapshot.Snapshot).HandleWriteFault

// pageFault is called by pageFaultEntry on the IST1 stack with interrupts
// off, for a fault outside the fault handler (a fault inside it goes to
// nestedFault). The rules of the fault path hold here, and why:
//   - nosplit: the stack is not the goroutine's, so a stack-growth check
//     against the interrupted g's bounds is meaningless;
//   - no allocation and no write barriers: the interrupted code may be in
//     the allocator or the garbage collector;
//   - no locks: the interrupted code may hold them (one CPU: deadlock).
//
// HandleWriteFault and everything below it follow the same rules (package
// snapshot, package mmu, PhysMem, TLB).
//
//go:nosplit
func pageFault(cr2, code, rip, rbp, rsp uint64) bool {
	m := PhysMem{}
	m.Store64(faultState+FAULT_CR2, cr2)
	m.Store64(faultState+FAULT_CODE, code)
	m.Store64(faultState+FAULT_RIP, rip)
	if a := crashInHandler; a != 0 {
		m.Load64(a)
	}
	if code&(PF_P|PF_W) == PF_P|PF_W && code&(PF_RSVD|PF_ID) == 0 {
		if s := active.Load(); s != nil && handleWriteFault(s, cr2) {
			return true
		}
	}
	if GoFaultPanic && code&(PF_ID|PF_RSVD) == 0 && goPanic(cr2, rsp) {
		return true
	}
	fatalFault(cr2, code, rip, rbp, rsp)
	return false
}

// GoFaultPanic makes a data page fault in Go code that is not the
// snapshot's (a nil or invalid pointer dereference) a run-time panic that
// recover can catch, as on other systems and on arm64
// (runtime.FaultPanic); faults in runtime code that cannot panic,
// instruction fetches from unmapped pages and faults in the handler stay
// fatal with fatalFault's decoded report. Set before Setup; the pagesnap
// kernel turns it off to keep "crash nil" a fatal-report check.
var GoFaultPanic = true

// goPanic makes the interrupted goroutine call runtime.sigpanic
// (runtime.FaultPanic rewrites the processor's frame at the top of the
// IST1 stack: RIP at faultStackTop-40, RSP at faultStackTop-16, Intel SDM
// Vol. 3A 6.14.2). The return address is pushed below the interrupted
// RSP: during a snapshot that stack page may be write-protected, so the
// snapshot prepares it first (prepareWrite). Same rules as pageFault.
//
//go:nosplit
func goPanic(cr2, rsp uint64) bool {
	if !prepareWrite(rsp - 8) {
		return false
	}
	return faultPanicFn(uintptr(faultStackTop-40), cr2)
}

// faultPanicFn is runtime.FaultPanic (the toolchain's
// os_tamago_amd64.go: nosplit, no allocation, scalar stores), called
// through a function value as handleWriteFault is: the fault path's
// checks (internal/faultcheck) cover this module's code, and the runtime's
// rules are the port's.
var faultPanicFn = runtime.FaultPanic

// nestedFault is called by pageFaultEntry for a page fault taken while the
// handler runs (depth 2 or more), on the nested-fault stack: IST1 points
// there while the handler runs, so the outer frame is kept. It reports the
// outer fault on one line, then the inner one as fatalFault does, and stops
// the machine with FaultExitCode. A fault while it reports (depth 3) only
// prints a last line. Same rules as pageFault.
//
//go:nosplit
func nestedFault(cr2, code, rip, rbp, rsp, depth uint64) {
	if depth > 2 {
		rawString("\npagesnap: FATAL page fault while reporting a nested page fault\n")
		exitNoSplit(FaultExitCode)
	}
	m := PhysMem{}
	rawString("\npagesnap: FATAL nested page fault: the page-fault handler faulted while handling cr2=")
	rawHex(m.Load64(faultState + FAULT_CR2))
	rawString(" error=")
	rawHex(m.Load64(faultState + FAULT_CODE))
	rawString(" rip=")
	rawHex(m.Load64(faultState + FAULT_RIP))
	fatalFault(cr2, code, rip, rbp, rsp)
}

// doubleFault is the double-fault handler (#DF, vector 8, on IST3): a
// fault while delivering a fault, e.g. a stack that ran into its guard
// page. The saved RIP is undefined for #DF (Intel SDM Vol. 3A 6.15,
// "Interrupt 8"): it reports the fault handler's depth and stops.
//
//go:nosplit
func doubleFault() {
	rawString("\npagesnap: FATAL double fault: fault-handler depth ")
	rawHex(PhysMem{}.Load64(faultState + FAULT_DEPTH))
	rawString("\n")
	exitNoSplit(FaultExitCode)
}

// leafSizeFn is (*mmu.Tables).LeafSize called through a function value:
// the walker below it is nosplit but deeper than the linker's nosplit
// budget counts from pageFaultEntry (the fault stack is large enough: see
// handleWriteFault).
var leafSizeFn = (*mmu.Tables).LeafSize

// mapped reports whether the 8 bytes at va are mapped by pagesnap's
// tables (nosplit, no allocation: LeafSize fails with a preallocated
// error).
//
//go:nosplit
func mapped(va uint64) bool {
	if faultTables == nil {
		return false
	}
	if _, err := leafSizeFn(faultTables, mmu.VA(va)); err != nil {
		return false
	}
	_, err := leafSizeFn(faultTables, mmu.VA(va+7))
	return err == nil
}

// fatalFault reports a fault that is not the snapshot's and stops the
// machine with FaultExitCode. It writes to the serial port directly
// (nosplit, no allocation, no locks: the console driver may be the
// interrupted code) and reads only memory the tables map (it must not
// fault itself). The harness decodes the instruction bytes it prints.
//
//go:nosplit
func fatalFault(cr2, code, rip, rbp, rsp uint64) {
	rawString("\npagesnap: FATAL page fault: cr2=")
	rawHex(cr2)
	rawString(" error=")
	rawHex(code)
	rawString(" (")
	if code&PF_P != 0 {
		rawString("protection")
	} else {
		rawString("not-present")
	}
	if code&PF_W != 0 {
		rawString(",write")
	} else {
		rawString(",read")
	}
	if code&PF_ID != 0 {
		rawString(",fetch")
	}
	if code&PF_RSVD != 0 {
		rawString(",reserved-bit")
	}
	rawString(") rip=")
	rawHex(rip)
	rawString(" code=")
	// An instruction fetch from an unmapped page faults with rip in that
	// page (cr2 is rip, or the next page for an instruction that spans
	// two): then its bytes cannot be read.
	m := PhysMem{}
	if mapped(rip&^7) && mapped((rip+15)&^7) {
		for i := uint64(0); i < 16; i++ {
			b := m.Load64((rip+i)&^7) >> (8 * ((rip + i) & 7))
			rawHexByte(byte(b))
		}
	} else {
		rawString(unreadableCode)
	}
	// Return addresses: for a fetch fault, the word at the interrupted
	// RSP first (the return address when a CALL reached rip); then the
	// frame-pointer chain (Go keeps RBP as a frame pointer on amd64):
	// [rbp] is the caller's rbp, [rbp+8] the return address. Only mapped
	// addresses inside the runtime's RAM are read.
	rawString(" frames=")
	if cr2-rip < 16 && rsp&7 == 0 && mapped(rsp) {
		rawHex(m.Load64(rsp))
		rawByte(' ')
	}
	for i := 0; i < 24 && rbp >= ramLo && rbp+16 <= ramHi && rbp&7 == 0 && mapped(rbp) && mapped(rbp+8); i++ {
		rawHex(m.Load64(rbp + 8))
		rawByte(' ')
		rbp = m.Load64(rbp)
	}
	rawString("\n")
	exitNoSplit(FaultExitCode)
}

// unreadableCode stands for the instruction bytes in a fatal report when
// the page at rip is not mapped (qemu/live.ParseFatalFault reads it).
const unreadableCode = "none(instruction-bytes-unreadable)"

// CrashFetch jumps to addr (the console's "crash fetch"): with addr in an
// unmapped page, an instruction-fetch fault that is not the snapshot's.
// Not inlined: the report's first frame (the call's return address) is
// here.
//
//go:noinline
func CrashFetch(addr uint64) {
	p := &addr
	f := *(*func())(unsafe.Pointer(&p))
	f()
}

// CrashNested makes the next page fault's handler read addr (the
// console's "crash nested"): with addr in an unmapped page, a page fault
// inside the page-fault handler. It then takes a fault (a nil read), here
// (not inlined).
//
//go:noinline
func CrashNested(addr uint64) {
	crashInHandler = addr
	PhysMem{}.Load64(0)
}
