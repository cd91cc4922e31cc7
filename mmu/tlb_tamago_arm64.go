//go:build tamago

package mmu

// TLB invalidates EL1&0 translations, broadcast to the Inner Shareable
// domain. It implements the snapshot package's TLB; its methods are nosplit
// assembly.
type TLB struct{}

// InvalidatePage executes DSB ISHST; TLBI VAAE1IS, va>>12; DSB ISH; ISB
// (Arm ARM D8.13, C5.5): all ASIDs, last and non-last levels, so a split
// block is dropped too.
//
//go:nosplit
func (TLB) InvalidatePage(va uint64) { tlbiVA(va >> 12) }

// InvalidateAll executes DSB ISHST; TLBI VMALLE1IS; DSB ISH; ISB.
//
//go:nosplit
func (TLB) InvalidateAll() { tlbiAll() }

// Root returns the level-0 table address from TTBR0_EL1 (BADDR, bits 47:1;
// ASID in 63:48; Arm ARM D19.2).
func Root() uint64 { return readTTBR0() & ARM_ADDR }

func tlbiVA(page uint64)
func tlbiAll()
func readTTBR0() uint64
