//go:build tamago

package kernel

import "github.com/pagesnap/pagesnap/mmu"

// PhysMem is physical memory through the identity map (nosplit,
// allocation free and lock free: the fault path uses it).
type PhysMem = mmu.Direct

// TLB invalidates this processor's translations (fault path too).
type TLB = mmu.TLB

// faultMem and faultTLB are PhysMem and TLB with pointer receivers: the
// values the engine (snapshot.Config Mem, TLB) and the page tables
// (mmu.Tables.Mem) call through their interfaces, on the fault path and
// from the timer interrupt. An interface holding a value type (PhysMem{},
// TLB{}) calls its methods through compiler-generated (*T).M wrappers,
// which are not nosplit: their stack check, run on the fault stack against
// the interrupted goroutine's stackguard0, calls morestack whenever a
// preemption is pending (stackguard0 = stackPreempt), and the runtime then
// preempts the goroutine from inside the fault handler with its context on
// the fault stack (the next GC dies: "traceback: unexpected SPWRITE
// function kernel.pageFaultEntry"). Pointer-receiver methods are the
// interfaces' targets themselves; each is nosplit and calls the value
// method directly. TestFaultPathNosplit (qemu/live) checks every target in
// the kernel ELF.
type (
	faultMem struct{}
	faultTLB struct{}
)

var (
	fMem = &faultMem{}
	fTLB = &faultTLB{}
)

//go:nosplit
func (*faultMem) Load64(pa uint64) uint64 { return PhysMem{}.Load64(pa) }

//go:nosplit
func (*faultMem) Store64(pa uint64, v uint64) { PhysMem{}.Store64(pa, v) }

//go:nosplit
func (*faultMem) CAS64(pa uint64, old, new uint64) bool { return PhysMem{}.CAS64(pa, old, new) }

//go:nosplit
func (*faultMem) Copy(dst, src, n uint64) { PhysMem{}.Copy(dst, src, n) }

func (*faultMem) Read(pa uint64, b []byte) { PhysMem{}.Read(pa, b) }

func (*faultMem) Write(pa uint64, b []byte) { PhysMem{}.Write(pa, b) }

//go:nosplit
func (*faultTLB) InvalidatePage(va uint64) { TLB{}.InvalidatePage(va) }

//go:nosplit
func (*faultTLB) InvalidateAll() { TLB{}.InvalidateAll() }
