//go:build amd64

package lapic

// The LAPIC timer (Intel SDM Vol. 3A 11.5.4 "APIC Timer"), counting the
// bus clock divided by 16, in one-shot mode: writing the initial count
// starts a count down that raises the LVT timer's vector at zero.

// LVT timer fields (Intel SDM Vol. 3A Figure 11-8 "Local Vector Table").
const (
	// LVT_MASKED is bit 16, interrupt masked.
	LVT_MASKED = 1 << 16
)

// DCR values (Intel SDM Vol. 3A Figure 11-10 "Divide Configuration
// Register").
const (
	// TIMER_DIV16 (0b0011) divides the bus clock by 16.
	TIMER_DIV16 = 0x3
)

// TimerRate measures the timer's count rate in counts per second (bus
// clock / 16) against nanotime, over 10 ms, with the timer masked. It
// returns 0 if the timer does not count. The timer is left stopped.
func (l *LAPIC) TimerRate(nanotime func() int64) uint64 {
	l.Write(LAPIC_TIMER_DCR, TIMER_DIV16)
	l.Write(LAPIC_LVT_TIMER, LVT_MASKED)
	l.Write(LAPIC_TIMER_ICR, 0xffffffff)
	t0 := nanotime()
	c0 := l.Read(LAPIC_TIMER_CCR)
	for nanotime()-t0 < 10e6 {
	}
	t1 := nanotime()
	c1 := l.Read(LAPIC_TIMER_CCR)
	l.Write(LAPIC_TIMER_ICR, 0)
	if t1 <= t0 || c0 <= c1 {
		return 0
	}
	return uint64(c0-c1) * 1e9 / uint64(t1-t0)
}

// StartOneShot sets the timer to raise vector once, when a count written
// by Arm runs out (one-shot mode, divide by 16). The LAPIC must be
// enabled.
func (l *LAPIC) StartOneShot(vector uint8) {
	l.Write(LAPIC_TIMER_DCR, TIMER_DIV16)
	l.Write(LAPIC_LVT_TIMER, uint32(vector))
}

// Arm (re)starts the one-shot count (Intel SDM Vol. 3A 11.5.4: writing the
// initial count starts it): interrupt context, nosplit.
//
//go:nosplit
func (l *LAPIC) Arm(count uint32) {
	l.Write(LAPIC_TIMER_ICR, count)
}

// StopTimer masks the timer and stops its count.
func (l *LAPIC) StopTimer() {
	l.Write(LAPIC_LVT_TIMER, LVT_MASKED)
	l.Write(LAPIC_TIMER_ICR, 0)
}
