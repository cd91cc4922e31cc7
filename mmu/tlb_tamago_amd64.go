//go:build tamago

package mmu

// TLB invalidates this CPU's translations (the kernel runs on one CPU). It
// implements the snapshot package's TLB; its methods are nosplit assembly.
type TLB struct{}

// InvalidatePage executes INVLPG va (SDM Vol. 3A 4.10.4.1): drops the TLB
// entries of the page (of any size) containing va and the paging-structure
// caches.
//
//go:nosplit
func (TLB) InvalidatePage(va uint64) { invlpg(va) }

// InvalidateAll toggles CR4.PGE twice, which invalidates every TLB entry,
// global ones included, and all paging-structure caches (SDM 4.10.4.1).
//
//go:nosplit
func (TLB) InvalidateAll() { flushAll() }

// Root returns the physical address of the PML4 table from CR3 (bits 51:12;
// SDM 4.5.2).
func Root() uint64 { return readCR3() & X86_ADDR }

func invlpg(va uint64)
func flushAll()
func readCR3() uint64
