package microvm

// Local APIC timer (Intel SDM Vol. 3A 11.5.4 "APIC Timer"), the source of
// the periodic tick. The LAPIC is memory-mapped at its reset base (SDM
// Vol. 3A 11.4.1, IA32_APIC_BASE); microvm has one, with an I/O APIC that
// this board does not use.
const (
	LAPIC_BASE = 0xfee00000

	// Register offsets (SDM Vol. 3A Table 11-1 "Local APIC Register
	// Address Map").
	LAPIC_EOI       = 0x0b0
	LAPIC_SVR       = 0x0f0 // spurious interrupt vector register
	LAPIC_LVT_TIMER = 0x320
	LAPIC_TIMER_ICR = 0x380 // initial count
	LAPIC_TIMER_CCR = 0x390 // current count
	LAPIC_TIMER_DCR = 0x3e0 // divide configuration

	// SVR bit 8: APIC software enable (SDM Vol. 3A 11.9, Figure 11-23).
	LAPIC_SVR_ENABLE = 1 << 8
	// LAPIC_SPURIOUS_VECTOR is the vector a spurious interrupt uses.
	LAPIC_SPURIOUS_VECTOR = 0xff

	// LVT timer fields (SDM Vol. 3A Figure 11-8 "Local Vector Table").
	LVT_MASKED = 1 << 16

	// DCR value 0b0011: divide the bus clock by 16 (Figure 11-10).
	LAPIC_TIMER_DIV16 = 0x3
)

//go:nosplit
func lapicRead(reg uint32) uint32 {
	return read32(LAPIC_BASE + uint64(reg))
}

//go:nosplit
func lapicWrite(reg uint32, val uint32) {
	write32(LAPIC_BASE+uint64(reg), val)
}

// lapicEOI signals the end of the interrupt being serviced.
//
//go:nosplit
func lapicEOI() {
	lapicWrite(LAPIC_EOI, 0)
}

// lapicTimerHz measures the LAPIC timer's count rate (bus clock / 16)
// against the calibrated clock, over 10 ms.
func lapicTimerHz() uint64 {
	lapicWrite(LAPIC_TIMER_DCR, LAPIC_TIMER_DIV16)
	lapicWrite(LAPIC_LVT_TIMER, LVT_MASKED)
	lapicWrite(LAPIC_TIMER_ICR, 0xffffffff)
	t0 := nanotime()
	c0 := lapicRead(LAPIC_TIMER_CCR)
	for nanotime()-t0 < 10e6 {
	}
	t1 := nanotime()
	c1 := lapicRead(LAPIC_TIMER_CCR)
	lapicWrite(LAPIC_TIMER_ICR, 0)
	if t1 <= t0 || c0 <= c1 {
		return 0
	}
	return uint64(c0-c1) * 1e9 / uint64(t1-t0)
}

// lapicStartOneShot enables the LAPIC and sets its timer to raise vector
// once, when a count written by lapicArm runs out.
func lapicStartOneShot(vector uint8) {
	lapicWrite(LAPIC_SVR, LAPIC_SVR_ENABLE|LAPIC_SPURIOUS_VECTOR)
	lapicWrite(LAPIC_TIMER_DCR, LAPIC_TIMER_DIV16)
	lapicWrite(LAPIC_LVT_TIMER, uint32(vector))
}

// lapicArm (re)starts the one-shot count (SDM Vol. 3A 11.5.4: writing the
// initial count starts it).
//
//go:nosplit
func lapicArm(count uint32) {
	lapicWrite(LAPIC_TIMER_ICR, count)
}

// lapicStopTimer masks the timer and stops its count.
func lapicStopTimer() {
	lapicWrite(LAPIC_LVT_TIMER, LVT_MASKED)
	lapicWrite(LAPIC_TIMER_ICR, 0)
}
