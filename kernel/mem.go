//go:build tamago

package kernel

import (
	"unsafe"

	"github.com/pagesnap/pagesnap/mmu"
)

// PhysMem is physical memory through the identity map (nosplit,
// allocation free and lock free: the fault path uses it).
type PhysMem = mmu.Direct

// TLB invalidates this processor's translations (fault path too).
type TLB = mmu.TLB

// engineMem is the physical memory the engine and the page tables are
// given (snapshot.PhysMem, mmu.PhysMem): PhysMem's methods behind pointer
// receivers of its own, nosplit, for the reason given at engineTLB (on
// arm64 the compiler's (*mmu.Direct) wrappers of Load64, Store64, CAS64
// and Copy have a stack check).
type engineMem struct{}

// Load64 is PhysMem.Load64.
//
//go:nosplit
func (*engineMem) Load64(pa uint64) uint64 { return PhysMem{}.Load64(pa) }

// Store64 is PhysMem.Store64.
//
//go:nosplit
func (*engineMem) Store64(pa uint64, v uint64) { PhysMem{}.Store64(pa, v) }

// CAS64 is PhysMem.CAS64.
//
//go:nosplit
func (*engineMem) CAS64(pa uint64, old, new uint64) bool { return PhysMem{}.CAS64(pa, old, new) }

// Copy is PhysMem.Copy.
//
//go:nosplit
func (*engineMem) Copy(dst, src, n uint64) { PhysMem{}.Copy(dst, src, n) }

// Read is PhysMem.Read (not on the fault path).
func (*engineMem) Read(pa uint64, b []byte) { PhysMem{}.Read(pa, b) }

// Write is PhysMem.Write (not on the fault path).
func (*engineMem) Write(pa uint64, b []byte) { PhysMem{}.Write(pa, b) }

// View returns the n bytes at physical address pa in place (identity
// mapped; snapshot.PhysView): the drain hashes pages where they lie. Not
// on the fault path.
func (*engineMem) View(pa, n uint64) []byte {
	var p unsafe.Pointer
	return unsafe.Slice((*byte)(unsafe.Add(p, pa)), n)
}

// engineTLB is the snapshot.TLB the engine is given: TLB's methods behind
// pointer receivers of its own, nosplit. An interface holding TLB{} (a
// struct) calls through the compiler's (*mmu.TLB) wrappers, which are not
// nosplit: their stack check runs against the interrupted goroutine's
// stackguard0, which the timer tick sets to stackPreempt before the fault
// path runs (runtime.TickPreempt, then PrepareWrite); morestack then
// switched to g0 from inside the fault handler (a nested fault, seen by
// the snapshot tests under load).
type engineTLB struct{}

// InvalidatePage is TLB.InvalidatePage.
//
//go:nosplit
func (*engineTLB) InvalidatePage(va uint64) { TLB{}.InvalidatePage(va) }

// InvalidateAll is TLB.InvalidateAll.
//
//go:nosplit
func (*engineTLB) InvalidateAll() { TLB{}.InvalidateAll() }
