//go:build tamago && arm64

package kernel

import (
	"sync/atomic"

	"github.com/pagesnap/pagesnap/snapshot"
)

// ISS of a data abort (Arm ARM DDI 0487, D19.2 ESR_EL1, "ISS encoding for
// an exception from a Data Abort").
const (
	ISS_DFSC = 0x3f    // bits 5:0: data fault status code
	ISS_WNR  = 1 << 6  // write not read: the access was a write
	ISS_CM   = 1 << 8  // cache maintenance
	ISS_FNV  = 1 << 10 // FAR not valid
	// DFSC_PERM_L1..L3 are permission faults at translation levels 1-3.
	DFSC_PERM_L1 = 0b001101
	DFSC_PERM_L2 = 0b001110
	DFSC_PERM_L3 = 0b001111
)

// active is the snapshot whose write faults dataAbort dispatches. It is
// read by the fault path (an atomic load of a pointer: no write barrier).
var active atomic.Pointer[snapshot.Snapshot]

// handleWriteFault is (*snapshot.Snapshot).HandleWriteFault, called
// through a function value: the call chain below it is nosplit all the way
// but deeper than the linker's nosplit budget, which assumes a goroutine
// stack; the fault path runs on its own 64 KiB stack instead. The indirect
// call ends the static chain analysis; the callee, nosplit, adds no stack
// check at run time.
var handleWriteFault = (*snapshot.Snapshot).HandleWriteFault

// dataAbort is called by abortEntry (fault_arm64.s) for a permission fault
// on a write (EC 0x25, WnR = 1) from the Go code, on the fault stack in the
// reserved region, with interrupts masked and every register of the
// interrupted code saved (general-purpose and SIMD). It returns true when
// the active snapshot resolved the fault: the page is copied, writable
// again and its stale read-only translation invalidated (TLBI VAAE1IS in
// mmu.TLB), so the store re-executes. The rules of the fault path hold
// here, and why:
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
func dataAbort(esr, far uint64) bool {
	if esr&ISS_WNR == 0 || esr&ISS_FNV != 0 {
		return false
	}
	switch esr & ISS_DFSC {
	case DFSC_PERM_L1, DFSC_PERM_L2, DFSC_PERM_L3:
	default:
		return false
	}
	s := active.Load()
	return s != nil && handleWriteFault(s, far)
}
