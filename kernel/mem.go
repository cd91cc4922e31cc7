//go:build tamago

package kernel

import "github.com/pagesnap/pagesnap/mmu"

// PhysMem is physical memory through the identity map (nosplit,
// allocation free and lock free: the fault path uses it).
type PhysMem = mmu.Direct

// TLB invalidates this processor's translations (fault path too).
type TLB = mmu.TLB

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
