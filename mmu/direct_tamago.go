//go:build tamago

package mmu

import (
	"sync/atomic"
	"unsafe"
)

// Direct is physical memory accessed through identity-mapped pointers, for
// the bare-metal kernel (virtual == physical). It implements PhysMem and
// the snapshot package's PhysMem. Its methods are nosplit, allocate nothing
// and take no locks (fault path). Aligned 64-bit accesses are single-copy
// atomic on amd64 (SDM Vol. 3A 9.1.1) and arm64 (Arm ARM B2.2.1).
type Direct struct{}

// ptr returns pa as a pointer. The bits are reinterpreted through memory
// rather than converted from uintptr: pa is not a Go heap address, and
// this keeps go vet's unsafe.Pointer check meaningful elsewhere.
//
//go:nosplit
func ptr(pa uint64) *uint64 { return *(**uint64)(unsafe.Pointer(&pa)) }

// bytesAt returns the n bytes at pa as a slice (not for the fault path).
func bytesAt(pa uint64, n int) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(ptr(pa))), n) }

// Load64 atomically reads the word at pa.
//
//go:nosplit
func (Direct) Load64(pa uint64) uint64 { return atomic.LoadUint64(ptr(pa)) }

// Store64 atomically writes the word at pa.
//
//go:nosplit
func (Direct) Store64(pa uint64, v uint64) { atomic.StoreUint64(ptr(pa), v) }

// CAS64 atomically compares and swaps the word at pa.
//
//go:nosplit
func (Direct) CAS64(pa uint64, old, new uint64) bool {
	return atomic.CompareAndSwapUint64(ptr(pa), old, new)
}

// Copy copies n bytes (a multiple of 8) from src to dst with copyWords,
// nosplit assembly using general-purpose registers only (REP MOVSQ on
// amd64, LDP/STP on arm64): as fast as the runtime's memmove for a page,
// without calling into the runtime from the fault path, whose memmove may
// use AVX registers the amd64 fault entry does not save. (A Go loop of
// 8-byte loads and stores took 6 to 8 times memmove's time: docs/bench.)
//
//go:nosplit
func (Direct) Copy(dst, src, n uint64) { copyWords(dst, src, n) }

// copyWords copies n bytes (a multiple of 8) from src to dst; the regions
// do not overlap. Assembly: copy_tamago_ARCH.s.
//
//go:noescape
func copyWords(dst, src, n uint64)

// Read copies len(b) bytes at pa into b.
func (Direct) Read(pa uint64, b []byte) {
	copy(b, bytesAt(pa, len(b)))
}

// Write copies b to pa.
func (Direct) Write(pa uint64, b []byte) {
	copy(bytesAt(pa, len(b)), b)
}
