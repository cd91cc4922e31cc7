//go:build tamago && arm64

package aarch64

import (
	"math/bits"
	_ "unsafe"
)

// Arm generic timer (Arm ARM DDI 0487, chapter "The Generic Timer in
// AArch64 state"): the virtual count CNTVCT_EL0 at CNTFRQ_EL0 Hz is the
// clock; its event stream (CNTKCTL_EL1.EVNTEN) bounds how long WFE waits,
// so that idling needs no interrupt controller.
const (
	// CNTKCTL_EL1 fields (Arm ARM, CNTKCTL_EL1 register description).
	CNTKCTL_EL1_EVNTI_SHIFT = 4      // bits 7:4: counter bit that triggers an event
	CNTKCTL_EL1_EVNTDIR     = 1 << 3 // 0: event on the bit's 0 to 1 transition
	CNTKCTL_EL1_EVNTEN      = 1 << 2 // event stream enable

	// eventPeriodNS is the event stream's target period: the idle
	// loop's longest wait past a deadline.
	eventPeriodNS = 20_000
)

// Timer registers, in timer_arm64.s.
func read_cntfrq() uint64
func read_cntvct() uint64
func write_cntkctl(val uint64)
func read_cntkctl() uint64
func wfe()

// clock converts counter ticks to nanoseconds: ns = ticks*mult >> 32.
var clock struct {
	freq uint64
	mult uint64
}

// InitTimer reads the counter frequency and starts the event stream. The
// board calls it from Hwinit0 (before the runtime: nosplit, no
// allocation).
//
//go:nosplit
func InitTimer() {
	freq := read_cntfrq()
	if freq == 0 {
		// The register is set by firmware; QEMU always sets it.
		freq = 62_500_000
	}
	clock.freq = freq
	clock.mult = (1e9 << 32) / freq

	// Event on the transition of counter bit n, every 2^(n+1) ticks:
	// pick the largest n with a period at most eventPeriodNS.
	n := uint64(0)
	for n < 15 && (uint64(2)<<(n+1))*1e9/freq <= eventPeriodNS {
		n++
	}
	k := read_cntkctl()
	k &^= 0xf<<CNTKCTL_EL1_EVNTI_SHIFT | CNTKCTL_EL1_EVNTDIR
	k |= n<<CNTKCTL_EL1_EVNTI_SHIFT | CNTKCTL_EL1_EVNTEN
	write_cntkctl(k)
}

// Counter returns the virtual counter (CNTVCT_EL0): ticks since the
// machine started.
//
//go:nosplit
func Counter() uint64 {
	return read_cntvct()
}

// CounterFrequency returns the counter's frequency in Hz (CNTFRQ_EL0).
func CounterFrequency() uint64 {
	return clock.freq
}

//go:linkname nanotime runtime/goos.Nanotime
//go:nosplit
func nanotime() int64 {
	if clock.mult == 0 {
		InitTimer()
	}
	hi, lo := bits.Mul64(read_cntvct(), clock.mult)
	return int64(hi<<32 | lo>>32)
}

// Idle waits for an event (runtime/goos.Idle; the board installs it): at the latest the next
// event-stream tick, so the runtime re-checks its deadline every
// eventPeriodNS at most. Under QEMU's TCG, WFE returns at once.
func Idle(until int64) {
	if nanotime() < until {
		wfe()
	}
}
