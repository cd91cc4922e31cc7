package microvm

import "github.com/pagesnap/pagesnap/board/ioport"

// Intel 8254 Programmable Interval Timer (82C54 datasheet), used only to
// measure the TSC frequency: under TCG neither kvmclock nor CPUID leaf 15H
// gives it.
const (
	PIT_CH0  = 0x40    // counter 0 data port
	PIT_MODE = 0x43    // control word register
	PIT_FREQ = 1193182 // input clock, Hz

	// Control word: counter 0, LSB then MSB, mode 2 (rate generator),
	// binary (82C54 datasheet, Control Word Format).
	PIT_CW_CH0_MODE2 = 0x34
	// Control word: counter 0 latch command.
	PIT_CW_CH0_LATCH = 0x00

	// 8259A interrupt mask registers: all IRQs masked so that the PIT
	// never interrupts (the I/O APIC is used instead).
	PIC1_DATA = 0x21
	PIC2_DATA = 0xa1
)

// calibrationTicks is how long one calibration counts: 10 ms of PIT input.
const calibrationTicks = PIT_FREQ / 100

// calibrationRuns is how many calibrations are made; the lowest frequency
// wins. A run can only err high: if the emulator deschedules the guest for
// longer than one PIT period (55 ms) between two reads, a wrap of the
// counter is missed and fewer PIT ticks are counted.
const calibrationRuns = 5

func pitRead() uint16 {
	ioport.Out8(PIT_MODE, PIT_CW_CH0_LATCH)
	lo := ioport.In8(PIT_CH0)
	hi := ioport.In8(PIT_CH0)
	return uint16(hi)<<8 | uint16(lo)
}

// measureTSC returns the TSC frequency measured over calibrationTicks.
func measureTSC() float64 {
	prev := pitRead()
	t0 := ioport.RDTSC()
	var elapsed uint32
	for elapsed < calibrationTicks {
		cur := pitRead()
		elapsed += uint32(prev - cur) // counts down, wraps at 65536
		prev = cur
	}
	t1 := ioport.RDTSC()
	if t1 <= t0 {
		return 0
	}
	return float64(t1-t0) * PIT_FREQ / float64(elapsed)
}

// calibrateTSC measures the TSC against the PIT and sets the processor's
// timer multiplier (nanoseconds per TSC tick). It keeps the clock
// continuous: the current nanotime is preserved across the change.
func calibrateTSC() {
	ioport.Out8(PIC1_DATA, 0xff)
	ioport.Out8(PIC2_DATA, 0xff)

	// free-running count down from 65536
	ioport.Out8(PIT_MODE, PIT_CW_CH0_MODE2)
	ioport.Out8(PIT_CH0, 0)
	ioport.Out8(PIT_CH0, 0)

	hz := 0.0
	for i := 0; i < calibrationRuns; i++ {
		if f := measureTSC(); f > 0 && (hz == 0 || f < hz) {
			hz = f
		}
	}
	if hz == 0 {
		print("microvm: TSC does not advance; clock left uncalibrated\n")
		return
	}
	now := AMD64.GetTime()
	AMD64.TimerMultiplier = 1e9 / hz
	AMD64.TimerOffset = 0
	AMD64.TimerOffset = now - AMD64.GetTime()
	tscHz = uint64(hz)
}

// tscHz is the measured TSC frequency.
var tscHz uint64

// TSCFrequency returns the TSC frequency measured at boot, in Hz.
func TSCFrequency() uint64 {
	return tscHz
}

// TSCCounter returns the time-stamp counter (ticks since reset).
func TSCCounter() uint64 {
	return ioport.RDTSC()
}
