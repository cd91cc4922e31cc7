package dma

import (
	"sync"
)

// Guard is called with page-aligned ranges that a device may be told about
// next: while a snapshot is capturing it must copy those pages into the
// snapshot (if not yet copied) before returning. It runs with the package
// lock held, so it must not allocate or release DMA memory through this
// package.
type Guard func(base, size uint64)

var (
	// mu orders allocations, releases and guard changes: a block is
	// either allocated before a Begin callback runs (and so is in InUse) or
	// passed to the guard that callback installs.
	mu sync.Mutex
	// guard is the installed guard, nil for none. Guarded by mu.
	guard Guard
)

// SetGuard installs g (nil removes the guard) and returns the previous one.
// When it returns no call of the previous guard is in progress.
func SetGuard(g Guard) (prev Guard) {
	mu.Lock()
	defer mu.Unlock()
	prev, guard = guard, g
	return prev
}

// Begin runs start with every allocation and release of this
// package blocked, then installs the guard start returns (nil removes it).
// start computes the DMA ranges in use (InUse) and starts the snapshot with
// them as eager ranges, so that every DMA block is either in that eager set
// or passed to the returned guard before any device can learn its address.
// When start fails the installed guard is left unchanged and its error is
// returned. start must not call this package's allocation functions or
// SetGuard (they would deadlock).
func Begin(start func() (Guard, error)) error {
	mu.Lock()
	defer mu.Unlock()
	g, err := start()
	if err != nil {
		return err
	}
	guard = g
	return nil
}

// expose calls the guard on the pages of [base, base+size); mu is held.
func expose(base, size uint64) {
	if guard == nil || size == 0 {
		return
	}
	if p := Page(base, size); p.Size != 0 {
		guard(p.Base, p.Size)
	}
}

// allocate runs alloc under the lock and exposes the block it returns
// before returning it.
func allocate(alloc func() (addr uint, size int)) uint {
	mu.Lock()
	defer mu.Unlock()
	addr, size := alloc()
	if size > 0 {
		expose(uint64(addr), uint64(size))
	}
	return addr
}

// release runs free under the lock, so that no release happens while a
// Begin callback computes the ranges in use.
func release(free func()) {
	mu.Lock()
	defer mu.Unlock()
	free()
}
