//go:build tamago

package kernel

import (
	"sync/atomic"
	"unsafe"
)

// ptr turns a physical address into a pointer through the identity map.
//
//go:nosplit
func ptr(pa uint64) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&pa))
}

// PhysMem is physical memory through the identity map, for the snapshot
// engine and the page-table code. Every method is nosplit, allocation free
// and lock free: the fault path calls them on the fault stack.
type PhysMem struct{}

// Load64 atomically reads the word at pa.
//
//go:nosplit
func (PhysMem) Load64(pa uint64) uint64 { return atomic.LoadUint64((*uint64)(ptr(pa))) }

// Store64 atomically writes v at pa.
//
//go:nosplit
func (PhysMem) Store64(pa uint64, v uint64) { atomic.StoreUint64((*uint64)(ptr(pa)), v) }

// CAS64 atomically replaces old by new at pa.
//
//go:nosplit
func (PhysMem) CAS64(pa uint64, old, new uint64) bool {
	return atomic.CompareAndSwapUint64((*uint64)(ptr(pa)), old, new)
}

// Copy copies n bytes from src to dst (memmove is nosplit assembly and
// uses only general-purpose and SSE registers, which the fault entry saves).
//
//go:nosplit
func (PhysMem) Copy(dst, src, n uint64) {
	copy(unsafe.Slice((*byte)(ptr(dst)), n), unsafe.Slice((*byte)(ptr(src)), n))
}

// Read copies len(b) bytes at pa into b.
func (PhysMem) Read(pa uint64, b []byte) {
	copy(b, unsafe.Slice((*byte)(ptr(pa)), len(b)))
}

// Write copies b to pa.
func (PhysMem) Write(pa uint64, b []byte) {
	copy(unsafe.Slice((*byte)(ptr(pa)), len(b)), b)
}
