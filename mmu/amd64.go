package mmu

// amd64 4-level paging entry bits, Intel SDM Vol. 3A 4.5 "4-Level Paging",
// Tables 4-15 (PML4E), 4-16 (PDPTE, 1 GiB page), 4-17 (PDPTE, table),
// 4-18 (PDE, 2 MiB page), 4-19 (PDE, table), 4-20 (PTE).
const (
	X86_P    = 1 << 0  // present
	X86_RW   = 1 << 1  // read/write; 0 forbids writes to the region (4.6.1)
	X86_US   = 1 << 2  // user/supervisor
	X86_PWT  = 1 << 3  // page-level write-through
	X86_PCD  = 1 << 4  // page-level cache disable
	X86_A    = 1 << 5  // accessed
	X86_D    = 1 << 6  // dirty (leaf only)
	X86_PS   = 1 << 7  // page size: 1 in a PDPTE/PDE maps a 1 GiB/2 MiB page
	X86_PAT4 = 1 << 7  // PAT bit of a 4 KiB PTE
	X86_G    = 1 << 8  // global (leaf only)
	X86_PATL = 1 << 12 // PAT bit of a 1 GiB/2 MiB page
	// X86_SWPROT (bit 9, ignored by the processor at every level) marks an
	// entry made read-only by Protect.
	X86_SWPROT = 1 << 9
	X86_XD     = 1 << 63 // execute disable

	// X86_ADDR selects bits 51:12, the physical address of a table or page.
	X86_ADDR = 0x000ffffffffff000
)

//go:nosplit
func x86Leaf(e uint64, level int) bool {
	return level == 3 || (level > 0 && e&X86_PS != 0)
}

// x86Split returns child i of the large-page entry e at level (1 or 2).
// Attributes are kept; for a 4 KiB child the PAT bit moves from bit 12 to 7
// and PS is dropped (Table 4-18 vs 4-20).
//
//go:nosplit
func x86Split(e uint64, level int, i uint64) uint64 {
	size := levelSize(level + 1)
	base := e & X86_ADDR &^ (levelSize(level) - 1)
	attrs := e &^ X86_ADDR
	if level == 2 {
		attrs &^= X86_PS
		if e&X86_PATL != 0 {
			attrs |= X86_PAT4
		}
	} else {
		attrs |= e & X86_PATL
	}
	return base + i*size | attrs
}

// x86Table returns a writable table entry for table t replacing leaf e.
// US comes from e; XD moves to the children (x86Split keeps it there).
//
//go:nosplit
func x86Table(t, e uint64) uint64 {
	return t | X86_P | X86_RW | X86_A | e&X86_US
}
