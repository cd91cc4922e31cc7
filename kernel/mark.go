package kernel

import (
	"sync/atomic"
	"unsafe"
)

// Mark is a global the workload rewrites after every batch of array writes
// (with the batch's pseudo-random state), so it keeps changing while a
// snapshot is taken. The pagesnap kernel prints its value at the instant
// with "snap: started" (mark=0x…): a debugger reading the snapshot (pagesnap
// elf, then gdb on the kernel ELF and the core) must print that value.
var Mark uint64

// markAtInstant is Mark as the last snapshot's instant saw it.
var markAtInstant uint64

// noteMark records Mark for MarkAtInstant. Controller.start calls it with
// interrupts off just before the instant: nothing runs in between (one CPU),
// so the value is the one captured.
//
//go:nosplit
func noteMark() { markAtInstant = atomic.LoadUint64(&Mark) }

// MarkAtInstant returns Mark's value at the last snapshot's instant.
func MarkAtInstant() uint64 { return markAtInstant }

// ArrayRange returns the address range of the workload's array (the kernel
// runs identity mapped: these are physical addresses); empty before Start.
func (w *Workload) ArrayRange() Range {
	if len(w.arr) == 0 {
		return Range{}
	}
	return Range{Base: uint64(uintptr(unsafe.Pointer(&w.arr[0]))), Size: uint64(len(w.arr)) * 8}
}
