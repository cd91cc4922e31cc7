//go:build tamago && amd64

package kernel

// Global Descriptor Table and 64-bit Task-State Segment, installed so that
// the page-fault gate can switch to a dedicated stack through the Interrupt
// Stack Table (Intel SDM Vol. 3A 6.14.5 "Interrupt Stack Table", 8.7
// "Task Management in 64-bit Mode", Figure 8-11 "64-Bit TSS Format").
const (
	// Selectors: code and data as in tamago's boot GDT, then the TSS.
	SEL_CODE = 1 << 3
	SEL_DATA = 2 << 3
	SEL_TSS  = 3 << 3

	// Descriptors with the accessed bit already set, so that the processor
	// never writes the GDT when it loads them (SDM Vol. 3A 3.4.5.1).
	GDT_CODE64 = 0x00209b0000000000 // L, P, DPL0, code execute/read accessed
	GDT_DATA   = 0x0000930000000000 // P, DPL0, data read/write accessed

	// System descriptor type 9: available 64-bit TSS (Table 3-2).
	TSS_TYPE_AVAILABLE = 0x9
	TSS_SIZE           = 104
	TSS_IST1           = 36 // offset of IST1 in the TSS
	TSS_IST2           = 44 // offset of IST2
	TSS_IST3           = 52 // offset of IST3
	TSS_IOMAP          = 102

	// GDT size: null, code, data, 16-byte TSS descriptor.
	gdtEntries = 5
)

// gdtPage is the layout of the page that holds pagesnap's GDT, GDTR and TSS.
const (
	gdtOff  = 0
	gdtrOff = 64
	tssOff  = 128
	// faultStateOff: the fault handler's writable state (fault_amd64.go
	// FAULT_DEPTH...): the GDT page is reserved memory, never captured
	// nor write-protected, so the handler can write it during a snapshot.
	faultStateOff = 256
)

// A negative array length fails the build if the TSS overlaps the fault
// state or the fault state does not fit the page.
var (
	_ [faultStateOff - (tssOff + TSS_SIZE)]byte
	_ [gdtPageSize - (faultStateOff + faultStateSize)]byte
)

// installGDT writes a GDT and a TSS whose IST1 is ist1Top (the fault
// stack), IST2 ist2Top (the tick's) and IST3 ist3Top (the double fault's)
// into the page at page (outside captured memory: the processor writes
// the TSS descriptor's busy bit at LTR), loads them, and reloads the data
// segment registers (not FS or GS: the runtime's TLS lives in the FS
// base). It returns the address of the TSS's IST1 slot, which the fault
// handler rewrites while it runs (fault_amd64.s).
func installGDT(page, ist1Top, ist2Top, ist3Top uint64) (ist1Slot uint64) {
	m := PhysMem{}
	for off := uint64(0); off < 4096; off += 8 {
		m.Store64(page+off, 0)
	}
	tss := page + tssOff
	m.Store64(tss+TSS_IST1, ist1Top)
	m.Store64(tss+TSS_IST2, ist2Top)
	m.Store64(tss+TSS_IST3, ist3Top)
	// I/O map base beyond the limit: no I/O permission bitmap.
	w := m.Load64(tss + 96)
	m.Store64(tss+96, w&^(0xffff<<48)|uint64(TSS_SIZE)<<48)

	gdt := page + gdtOff
	m.Store64(gdt+8, GDT_CODE64)
	m.Store64(gdt+16, GDT_DATA)
	limit := uint64(TSS_SIZE - 1)
	lo := limit&0xffff | (tss&0xffffff)<<16 | uint64(TSS_TYPE_AVAILABLE)<<40 | 1<<47 |
		(limit>>16&0xf)<<48 | (tss>>24&0xff)<<56
	m.Store64(gdt+24, lo)
	m.Store64(gdt+32, tss>>32)

	gdtr := page + gdtrOff
	m.Store64(gdtr, uint64(gdtEntries*8-1)|gdt<<16)
	m.Store64(gdtr+8, gdt>>48)
	lgdt(gdtr)
	reloadDataSegments(SEL_DATA)
	ltr(SEL_TSS)
	return tss + TSS_IST1
}

//go:nosplit
func reloadDataSegments(sel uint16)
