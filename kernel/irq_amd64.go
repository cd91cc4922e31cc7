//go:build tamago && amd64

package kernel

import (
	"errors"
	"math"
	"runtime"
	"runtime/goos"

	"github.com/pagesnap/pagesnap/irq"
	"github.com/pagesnap/pagesnap/lapic"
)

// The periodic tick on amd64: the local APIC timer (package lapic),
// re-armed in one-shot mode at each interrupt, raises TICK_VECTOR every
// 1/Hz s (and, when a preemption found the goroutine at an unsafe point,
// once more tens of microseconds later to retry). Its IDT gate has an
// Interrupt Stack Table index (TICK_IST), so that the interrupt is taken on
// a stack of its own (the TSS is the kernel's, from Setup). tickEntry
// (tick_amd64.s) saves every general-purpose register and the extended
// state (XSAVE, or FXSAVE without CR4.OSXSAVE: xsave_amd64.go) and calls
// timerInterrupt.
const (
	// TICK_VECTOR is the tick's interrupt vector: in the highest
	// priority class (Intel SDM Vol. 3A 11.8.3.1), above tamago's vectors.
	TICK_VECTOR = 0xf0
	// DEVICE_VECTOR is the vector of the device interrupt (irq.Device),
	// which an I/O APIC routes to it (EnableDeviceIRQ): below the tick's
	// priority class.
	DEVICE_VECTOR = 0xe0
	// SPURIOUS_VECTOR is the local APIC's spurious-interrupt vector
	// (Intel SDM Vol. 3A 11.9).
	SPURIOUS_VECTOR = 0xff

	// rflagsIF is RFLAGS.IF, interrupt enable (Intel SDM Vol. 1 3.4.3.3).
	rflagsIF = 1 << 9
)

// LAPIC is the local APIC whose timer drives the tick: the board's
// instance (e.g. microvm.LAPIC), set by the board glue before StartTick.
var LAPIC *lapic.LAPIC

// TickFrame is what tickEntry leaves on the interrupt stack: the
// general-purpose registers it pushed, then the frame the processor pushed
// (Intel SDM Vol. 3A 6.14.2, Figure 6-9; no error code for an interrupt).
// The handler may change RIP and RSP: IRETQ resumes there.
type TickFrame struct {
	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	BP, DI, SI, DX, CX, BX, AX           uint64
	RIP, CS, RFLAGS, RSP, SS             uint64
}

// tickEntryAddr and spuriousEntryAddr return the addresses of tickEntry
// and spuriousEntry (tick_amd64.s), for their IDT gates.
//
//go:nosplit
func tickEntryAddr() uint64

//go:nosplit
func spuriousEntryAddr() uint64

//go:nosplit
func deviceEntryAddr() uint64

// stiHlt enables interrupts and halts until the next one (the STI shadow
// keeps an interrupt from landing between the two).
//
//go:nosplit
func stiHlt()

// tickState is the running tick: its local APIC, period, the next periodic
// deadline (nanotime), the LAPIC timer's rate and counts. The interrupt
// handler writes it (scalars only).
var tickState struct {
	lapic     *lapic.LAPIC
	periodNS  int64
	next      int64
	rate      uint64 // LAPIC timer counts per second
	count     uint64
	preempted uint64
	retries   uint64
}

// startTick installs the tick's gates (IST2: the tick stack in the
// reserved region, set by Setup), starts LAPIC's timer at hz interrupts per
// second (irq.DefaultHz if 0) and enables interrupts. From now on every
// tick calls irq.Tick, then runtime.TickPreempt. It sets irq.Hz.
func startTick(hz uint32) error {
	if !setupDone {
		return errors.New("tick: kernel.Setup must run first (the tick's stack is in the reserved region)")
	}
	l := LAPIC
	if l == nil {
		return errors.New("tick: no local APIC: the board glue sets kernel.LAPIC")
	}
	if hz == 0 {
		hz = irq.DefaultHz
	}
	rate := l.TimerRate(goos.Nanotime)
	if rate == 0 {
		return errors.New("tick: the LAPIC timer does not count")
	}
	if c := rate / uint64(hz); c == 0 || c > math.MaxUint32 {
		return errors.New("tick: tick rate out of the LAPIC timer's range")
	}
	installGate(TICK_VECTOR, tickEntryAddr(), TICK_IST)
	installGate(SPURIOUS_VECTOR, spuriousEntryAddr(), TICK_IST)
	flags := cli()
	tickState.lapic = l
	tickState.rate = rate
	tickState.periodNS = int64(1e9 / hz)
	tickState.next = goos.Nanotime() + tickState.periodNS
	irq.Hz = hz
	l.Enable(SPURIOUS_VECTOR)
	l.StartOneShot(TICK_VECTOR)
	l.Arm(uint32(rate / uint64(hz)))
	restoreFlags(flags | rflagsIF)
	return nil
}

// stopTick stops the periodic tick and sets irq.Hz to 0 (interrupts stay
// enabled).
func stopTick() {
	flags := cli()
	if l := tickState.lapic; l != nil {
		l.StopTimer()
	}
	irq.Hz = 0
	tickState.periodNS = 0
	restoreFlags(flags)
}

// Ticks returns how many tick interrupts have been taken.
func Ticks() uint64 { return tickState.count }

// Preemptions returns how many ticks injected an asynchronous preemption.
func Preemptions() uint64 { return tickState.preempted }

// Retries returns how many extra timer interrupts retried a preemption
// that found the goroutine at an unsafe point.
func Retries() uint64 { return tickState.retries }

// timerInterrupt is the tick's interrupt handler, called by tickEntry on
// the interrupt stack with interrupts off: nosplit (the stack is not the
// goroutine's), no allocation, scalar stores only, no locks (the
// interrupted code may hold any); irq.Tick follows the same rules.
//
//go:nosplit
func timerInterrupt(f *TickFrame) {
	if ymmProbe.armed != 0 {
		ymmProbe.clobber()
	}
	l := tickState.lapic
	now := goos.Nanotime()
	period := tickState.periodNS
	if period == 0 {
		l.EOI() // stopped meanwhile
		return
	}
	// The LAPIC timer and the clock are calibrated separately: an
	// interrupt up to period/16 early is still the periodic tick.
	if now+period/16 >= tickState.next {
		// The next tick a period on, without drift; after a long
		// stall skip the missed ticks instead of taking them back to
		// back.
		next := tickState.next + period
		if next <= now {
			next = now + period
		}
		tickState.next = next
		tickState.count++
		if t := irq.Tick; t != nil {
			t()
		}
	} else {
		// A retry (below): preemption only.
		tickState.retries++
	}
	injected, retry := runtime.TickPreempt(&f.RIP, &f.RSP, nil, nil, irq.PrepareWrite)
	if injected {
		tickState.preempted++
	}
	deadline := tickState.next
	if retry {
		// Due for preemption but not at a safe point: try again in 20
		// to 90 us (varied, so that a loop is not caught at the same
		// instruction every time).
		deadline = min(deadline, now+int64(20+tickState.retries*37%71)*1000)
	}
	count := uint64(1)
	if d := deadline - goos.Nanotime(); d > 0 {
		count = max(1, uint64(d)*tickState.rate/1e9)
	}
	l.Arm(uint32(count))
	l.EOI()
}

// EnableDeviceIRQ installs the gate of DEVICE_VECTOR, whose handler calls
// irq.Device and signals the end of interrupt to LAPIC; the caller then
// routes the device's line to DEVICE_VECTOR (e.g. ioapic.IOAPIC.Route). The
// gate uses the tick's stack (IST2): both gates clear IF, so neither
// handler interrupts the other. StartTick must have run (LAPIC enabled).
func EnableDeviceIRQ() (vector uint8, err error) {
	if tickState.lapic == nil {
		return 0, errors.New("irq: the tick must run first (kernel.StartTick enables the local APIC)")
	}
	installGate(DEVICE_VECTOR, deviceEntryAddr(), TICK_IST)
	return DEVICE_VECTOR, nil
}

// deviceInterrupt is the device interrupt's handler, called by deviceEntry
// on the interrupt stack with interrupts off: the same rules as
// timerInterrupt. irq.Device acknowledges the device, so that its line
// is low before the end of interrupt (a level-triggered line still high
// would interrupt again at once).
//
//go:nosplit
func deviceInterrupt(f *TickFrame) {
	if d := irq.Device; d != nil {
		d()
	}
	tickState.lapic.EOI()
}

// TickIdle returns the runtime idle hook (runtime/goos.Idle) for a board
// whose idle hook is next: with the tick running it halts until the next
// interrupt when the deadline until is at least one tick period away (a
// tick, at most a period later, then wakes it in time) and otherwise
// returns at once (the runtime polls its clock); without the tick it calls
// next.
func TickIdle(next func(until int64)) func(until int64) {
	return func(until int64) {
		period := tickState.periodNS
		if period == 0 {
			if next != nil {
				next(until)
			}
			return
		}
		flags := cli()
		if until-goos.Nanotime() >= period {
			stiHlt()
		}
		restoreFlags(flags)
	}
}
