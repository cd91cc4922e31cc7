//go:build tamago && amd64

package kernel

import (
	"sync/atomic"

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

// handleWriteFault is (*snapshot.Snapshot).HandleWriteFault, called
// through a function value. The call chain below it is nosplit all the way
// (the engine, package mmu, PhysMem, TLB), but it is deeper than the
// linker's nosplit budget, which assumes a goroutine stack with its small
// guard area; the fault path runs on its own 64 KiB stack instead. An
// indirect call ends the linker's static chain analysis at this point; it
// does not add a stack check at run time, since the callee is nosplit.
var handleWriteFault = (*snapshot.Snapshot).HandleWriteFault

// pageFault is called by pageFaultEntry on the IST1 stack with interrupts
// off. The rules of the fault path hold here, and why:
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
func pageFault(cr2, code, rip, rbp uint64) bool {
	if code&(PF_P|PF_W) == PF_P|PF_W && code&(PF_RSVD|PF_ID) == 0 {
		if s := active.Load(); s != nil && handleWriteFault(s, cr2) {
			return true
		}
	}
	fatalFault(cr2, code, rip, rbp)
	return false
}

// fatalFault reports a fault that is not the snapshot's and stops the
// machine with FaultExitCode. It writes to the serial port directly
// (nosplit, no allocation, no locks: the console driver may be the
// interrupted code). The harness decodes the instruction bytes it prints.
//
//go:nosplit
func fatalFault(cr2, code, rip, rbp uint64) {
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
	// The instruction was fetched from rip, so its bytes are mapped.
	m := PhysMem{}
	for i := uint64(0); i < 16; i++ {
		b := m.Load64((rip+i)&^7) >> (8 * ((rip + i) & 7))
		rawHexByte(byte(b))
	}
	// Return addresses through the frame-pointer chain (Go keeps RBP as
	// a frame pointer on amd64): [rbp] is the caller's rbp, [rbp+8] the
	// return address. Only addresses inside the runtime's RAM are read.
	rawString(" frames=")
	for i := 0; i < 24 && rbp >= ramLo && rbp+16 <= ramHi && rbp&7 == 0; i++ {
		rawHex(m.Load64(rbp + 8))
		rawByte(' ')
		rbp = m.Load64(rbp)
	}
	rawString("\n")
	exitNoSplit(FaultExitCode)
}
