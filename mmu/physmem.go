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
//
// Seal marks the pages allocated so far (the boot mapping's tables) as
// permanent; the pages allocated after it hold split tables, which Merge
// joins back into large leaves and returns to the pool.
type Pool struct {
	base   uint64
	n      uint64
	next   atomic.Uint64
	floor  uint64 // pages allocated when Seal ran
	sealed bool
	// busy counts splits between their alloc and their link (or unalloc),
	// links the tables linked: Merge returns the pages only if no split
	// was under way when it started and none linked a table meanwhile.
	busy, links atomic.Uint64
}

// NewPool returns a pool of the size/4096 pages at base (4 KiB aligned).
func NewPool(base, size uint64) *Pool {
	return &Pool{base: base, n: size / PageSize}
}

// Used returns the number of pages allocated so far.
func (p *Pool) Used() uint64 { return min(p.next.Load(), p.n) }

// Seal records the pages allocated so far as permanent: Merge joins and
// returns only tables allocated after it (a pool never sealed has none).
// Only the first call counts.
func (p *Pool) Seal() {
	if !p.sealed {
		p.floor, p.sealed = p.Used(), true
	}
}

// Sealed returns the pages allocated when Seal ran.
func (p *Pool) Sealed() uint64 { return p.floor }

// Cap returns the number of pages in the pool.
func (p *Pool) Cap() uint64 { return p.n }

// alloc returns the index and address of a free page.
//
//go:nosplit
func (p *Pool) alloc() (uint64, uint64, bool) {
	if p == nil {
		return 0, 0, false
	}
	p.busy.Add(1)
	i := p.next.Add(1) - 1
	if i >= p.n {
		p.busy.Add(^uint64(0))
		return 0, 0, false
	}
	return i, p.base + i*PageSize, true
}

// allocFree is alloc for a table linked later or never (Prepare): it is
// not a split under way, which would keep Merge from returning the pool.
func (p *Pool) allocFree() (uint64, uint64, bool) {
	i, pa, ok := p.alloc()
	if ok {
		p.busy.Add(^uint64(0))
	}
	return i, pa, ok
}

// linked ends an alloc whose table is now linked into the tables.
//
//go:nosplit
func (p *Pool) linked() {
	p.links.Add(1)
	p.busy.Add(^uint64(0))
}

// unalloc returns page i if it is still the most recent allocation.
//
//go:nosplit
func (p *Pool) unalloc(i uint64) {
	p.next.CompareAndSwap(i+1, i)
	p.busy.Add(^uint64(0))
}

// split reports whether the table at pa is a pool page allocated after
// Seal (by a split).
//
//go:nosplit
func (p *Pool) split(pa uint64) bool {
	if p == nil || !p.sealed {
		return false
	}
	lo := p.base + p.floor*PageSize
	return pa >= lo && pa < p.base+p.n*PageSize
}

// mark is what reclaim needs to know of the pool when a Merge starts.
type mark struct{ next, links uint64 }

// markStart reads the pool for reclaim; ok is false while a split is
// under way (between its alloc and its link).
func (p *Pool) markStart() (m mark, ok bool) {
	m.next = p.next.Load()
	m.links = p.links.Load()
	return m, p.busy.Load() == 0
}

// reclaim returns the pages from top on (top >= the sealed count) to the
// pool if no table was allocated or linked since m (the caller found no
// table left in those pages).
func (p *Pool) reclaim(m mark, top uint64) bool {
	if p.links.Load() != m.links || top >= m.next {
		return false
	}
	return p.next.CompareAndSwap(m.next, top)
}

// after returns the pool index after the page at pa (a pool page).
func (p *Pool) after(pa uint64) uint64 { return (pa-p.base)/PageSize + 1 }
