//go:build tamago && arm64

package aarch64

// Tick is the generic timer's tick as a board gives it to the pagesnap
// kernel (the tick part of kernel.Board): a board type embeds it.
type Tick struct{}

// StartTick starts the tick (StartTick).
func (Tick) StartTick(hz uint32) error { return StartTick(hz) }

// StopTick stops the tick (StopTick).
func (Tick) StopTick() { StopTick() }

// Ticks counts the tick interrupts (Ticks).
func (Tick) Ticks() uint64 { return Ticks() }

// Preemptions counts the ticks that preempted (Preemptions).
func (Tick) Preemptions() uint64 { return Preemptions() }

// Retries counts the extra interrupts that retried a preemption (Retries).
func (Tick) Retries() uint64 { return Retries() }
