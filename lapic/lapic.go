//go:build amd64

package lapic

// LAPIC_BASE is the local APIC's register base after reset (Intel SDM Vol.
// 3A 11.4.1 "The Local APIC Block Diagram", IA32_APIC_BASE default).
const LAPIC_BASE = 0xfee00000

// Register offsets (Intel SDM Vol. 3A Table 11-1 "Local APIC Register
// Address Map").
const (
	LAPIC_ID        = 0x020
	LAPIC_EOI       = 0x0b0
	LAPIC_SVR       = 0x0f0 // spurious interrupt vector register
	LAPIC_LVT_TIMER = 0x320
	LAPIC_TIMER_ICR = 0x380 // initial count
	LAPIC_TIMER_CCR = 0x390 // current count
	LAPIC_TIMER_DCR = 0x3e0 // divide configuration
)

// SVR fields (Intel SDM Vol. 3A 11.9 "Spurious Interrupt", Figure 11-23).
const (
	// SVR_ENABLE is bit 8, APIC software enable.
	SVR_ENABLE = 1 << 8
)

// LAPIC is one local APIC, memory-mapped at Base.
type LAPIC struct {
	// Base is the register block's physical address (identity mapped).
	Base uint64
}

// Read returns register reg (an offset from Base).
//
//go:nosplit
func (l *LAPIC) Read(reg uint32) uint32 {
	return read32(l.Base + uint64(reg))
}

// Write sets register reg (an offset from Base) to val.
//
//go:nosplit
func (l *LAPIC) Write(reg uint32, val uint32) {
	write32(l.Base+uint64(reg), val)
}

// Enable software-enables the local APIC with spurious as its spurious
// interrupt vector (Intel SDM Vol. 3A 11.4.7.2, 11.9). A spurious
// interrupt is not in service: its handler returns without EOI.
func (l *LAPIC) Enable(spurious uint8) {
	l.Write(LAPIC_SVR, SVR_ENABLE|uint32(spurious))
}

// EOI signals the end of the interrupt being serviced (Intel SDM Vol. 3A
// 11.8.5 "Signaling Interrupt Servicing Completion"): interrupt context,
// nosplit.
//
//go:nosplit
func (l *LAPIC) EOI() {
	l.Write(LAPIC_EOI, 0)
}

// Device register access, in mmio_amd64.s: single 32-bit loads and stores
// that the compiler can neither merge, split nor remove.

//go:nosplit
func read32(addr uint64) uint32

//go:nosplit
func write32(addr uint64, val uint32)
