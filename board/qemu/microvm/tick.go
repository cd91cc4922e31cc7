package microvm

import (
	"errors"
	"math"
	"runtime"

	"github.com/pagesnap/pagesnap/irq"
)

// The periodic tick: the LAPIC timer (lapic.go), re-armed in one-shot mode
// at each interrupt, raises TICK_VECTOR every 1/Hz s (and, when a
// preemption found the goroutine at an unsafe point, once more tens of
// microseconds later to retry). The IDT gate for it is installed by the kernel (package kernel,
// StartTick), with an Interrupt Stack Table index, so that the interrupt is
// taken on a stack of its own (the TSS is the kernel's). tickEntry
// (tick_amd64.s) saves every general-purpose and SSE register and calls
// tick.
const (
	// TICK_VECTOR is the tick's interrupt vector: in the highest
	// priority class (SDM Vol. 3A 11.8.3.1), above tamago's vectors.
	TICK_VECTOR = 0xf0
)

// TickFrame is what tickEntry leaves on the interrupt stack: the
// general-purpose registers it pushed, then the frame the processor pushed
// (Intel SDM Vol. 3A 6.14.2, Figure 6-9; no error code for an interrupt).
// Handlers may change RIP and RSP: IRETQ resumes there.
type TickFrame struct {
	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	BP, DI, SI, DX, CX, BX, AX           uint64
	RIP, CS, RFLAGS, RSP, SS             uint64
}

// tickEntryAddr returns the address of tickEntry (tick_amd64.s).
//
//go:nosplit
func tickEntryAddr() uint64

// TickEntry returns the address of the tick's interrupt entry, for the IDT
// gate of TICK_VECTOR.
func TickEntry() uint64 { return tickEntryAddr() }

//go:nosplit
func spuriousEntryAddr() uint64

// SpuriousEntry returns the address of the handler for the LAPIC's
// spurious-interrupt vector (LAPIC_SPURIOUS_VECTOR), for its IDT gate.
func SpuriousEntry() uint64 { return spuriousEntryAddr() }

// stiHlt enables interrupts and halts until the next one (the STI shadow
// keeps an interrupt from landing between the two); tickSave masks
// interrupts and returns the previous RFLAGS; tickRestore writes them back.
//
//go:nosplit
func stiHlt()

//go:nosplit
func tickSave() uint64

//go:nosplit
func tickRestore(flags uint64)

// tickState is the running tick: its period, the next periodic deadline
// (nanotime), the LAPIC timer's rate and counts. The interrupt handler
// writes it (scalars only).
var tickState struct {
	periodNS  int64
	next      int64
	rate      uint64 // LAPIC timer counts per second
	count     uint64
	preempted uint64
	retries   uint64
}

// StartTick starts the periodic tick at hz interrupts per second
// (irq.DefaultHz if 0) and enables interrupts. The gate for TICK_VECTOR
// must be installed first (kernel.StartTick does both). From now on every
// tick calls irq.Tick, then runtime.TickPreempt, and the idle loop halts
// the processor between ticks. It sets irq.Hz.
func StartTick(hz uint32) error {
	if hz == 0 {
		hz = irq.DefaultHz
	}
	rate := lapicTimerHz()
	if rate == 0 {
		return errors.New("microvm: the LAPIC timer does not count")
	}
	if c := rate / uint64(hz); c == 0 || c > math.MaxUint32 {
		return errors.New("microvm: tick rate out of the LAPIC timer's range")
	}
	flags := tickSave()
	tickState.rate = rate
	tickState.periodNS = int64(1e9 / hz)
	tickState.next = nanotime() + tickState.periodNS
	irq.Hz = hz
	lapicStartOneShot(TICK_VECTOR)
	lapicArm(uint32(rate / uint64(hz)))
	tickRestore(flags | 1<<9) // RFLAGS.IF
	return nil
}

// StopTick stops the periodic tick and sets irq.Hz to 0 (interrupts stay
// enabled: no other source is programmed).
func StopTick() {
	flags := tickSave()
	lapicStopTimer()
	irq.Hz = 0
	tickState.periodNS = 0
	tickRestore(flags)
}

// Ticks returns how many tick interrupts have been taken.
func Ticks() uint64 { return tickState.count }

// Preemptions returns how many ticks injected an asynchronous preemption.
func Preemptions() uint64 { return tickState.preempted }

// Retries returns how many extra timer interrupts retried a preemption
// that found the goroutine at an unsafe point.
func Retries() uint64 { return tickState.retries }

// tick is the interrupt handler, called by tickEntry on the interrupt
// stack with interrupts off: nosplit (the stack is not the goroutine's),
// no allocation, scalar stores only, no locks (the interrupted code may
// hold any); irq.Tick follows the same rules.
//
//go:nosplit
func tick(f *TickFrame) {
	now := nanotime()
	period := tickState.periodNS
	if period == 0 {
		lapicEOI() // stopped meanwhile
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
	if d := deadline - nanotime(); d > 0 {
		count = max(1, uint64(d)*tickState.rate/1e9)
	}
	lapicArm(uint32(count))
	lapicEOI()
}

// idle is the runtime's idle hook (runtime/goos.Idle): with the tick
// running it halts until the next interrupt when the deadline is at
// least one tick period away (a tick, at most a period later, then wakes
// it in time); otherwise it returns at once and the runtime polls its
// clock. Without the tick it is tamago's governor (halt only when there
// is no deadline).
func idle(until int64) {
	period := tickState.periodNS
	if period == 0 {
		AMD64.DefaultIdleGovernor(until)
		return
	}
	flags := tickSave()
	if until-nanotime() >= period {
		stiHlt()
	}
	tickRestore(flags)
}
