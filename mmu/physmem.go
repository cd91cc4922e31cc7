package mmu

import (
	"errors"
	"sync/atomic"
)

// PhysMem is physical memory as seen by page-table code. Addresses are
// physical and 8-byte aligned. Implementations must be safe for concurrent
// use, atomic per 64-bit word, and their methods //go:nosplit, allocation
// free and lock free, because they are called from the write-fault handler.
type PhysMem interface {
	// Load64 atomically reads the word at pa.
	Load64(pa uint64) uint64
	// Store64 atomically writes v at pa.
	Store64(pa uint64, v uint64)
	// CAS64 atomically replaces old by new at pa and reports success.
	CAS64(pa uint64, old, new uint64) bool
}

// Errors returned by page-table operations. They are preallocated values, so
// returning them from the fault path allocates nothing.
var (
	ErrNotMapped = errors.New("mmu: address not mapped")
	ErrPoolEmpty = errors.New("mmu: table-page pool exhausted")
	ErrReadOnly  = errors.New("mmu: page was read-only before Protect")
	ErrRange     = errors.New("mmu: range not aligned to 4 KiB or out of the 48-bit address space")
)

// Pool hands out 4 KiB pages for new page tables (splits of large pages).
// The pages must be mapped writable and stay writable: never put them in a
// protected range. Allocation is a lock-free bump of an index; a page whose
// CAS lost a race is returned only if nothing was allocated after it.
//
// Sizing: Protect splits at most two large pages per level at each range
// boundary that cuts one (so about 4 per captured or eager range); after
// that each large page that takes a fault, or that the drain unprotects
// only in part, costs one page (a 1 GiB page written everywhere: 1 + 512).
// When the pool is empty the snapshot engine falls back to copying the
// whole large page in the fault handler, which is correct but slow.
// Mapping captured RAM with 2 MiB pages, a pool of one page per 2 MiB
// region that the workload writes during a snapshot avoids the fallback.
type Pool struct {
	base uint64
	n    uint64
	next atomic.Uint64
}

// NewPool returns a pool of the size/4096 pages at base (4 KiB aligned).
func NewPool(base, size uint64) *Pool {
	return &Pool{base: base, n: size / PageSize}
}

// Used returns the number of pages allocated so far.
func (p *Pool) Used() uint64 { return min(p.next.Load(), p.n) }

// Cap returns the number of pages in the pool.
func (p *Pool) Cap() uint64 { return p.n }

// alloc returns the index and address of a free page.
//
//go:nosplit
func (p *Pool) alloc() (uint64, uint64, bool) {
	if p == nil {
		return 0, 0, false
	}
	i := p.next.Add(1) - 1
	if i >= p.n {
		return 0, 0, false
	}
	return i, p.base + i*PageSize, true
}

// unalloc returns page i if it is still the most recent allocation.
//
//go:nosplit
func (p *Pool) unalloc(i uint64) {
	p.next.CompareAndSwap(i+1, i)
}
