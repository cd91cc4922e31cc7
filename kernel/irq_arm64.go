//go:build tamago && arm64

package kernel

// startTick starts the board's generic-timer tick. Its IRQ is taken on
// SP_EL1: after Setup the fault stack in the reserved region (nested write
// faults the handler takes go below its frame, see fault_arm64.s), before
// it the board's exception stack.
func startTick(hz uint32) error {
	if board == nil {
		return errNoBoard
	}
	return board.StartTick(hz)
}

func stopTick() {
	if board != nil {
		board.StopTick()
	}
}

// Ticks returns how many tick interrupts the board has taken.
func Ticks() uint64 {
	if board == nil {
		return 0
	}
	return board.Ticks()
}

// Preemptions returns how many ticks injected an asynchronous preemption.
func Preemptions() uint64 {
	if board == nil {
		return 0
	}
	return board.Preemptions()
}

// Retries returns how many extra timer interrupts retried a preemption.
func Retries() uint64 {
	if board == nil {
		return 0
	}
	return board.Retries()
}

// TickIdle returns next: the arm64 boards' idle hook halts between ticks
// itself.
func TickIdle(next func(until int64)) func(until int64) { return next }
