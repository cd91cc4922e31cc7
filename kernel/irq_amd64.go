//go:build tamago && amd64

package kernel

import (
	"errors"

	"github.com/pagesnap/pagesnap/board/qemu/microvm"
)

// startTick installs the tick's gate (IST2: the tick stack in the reserved
// region, set by Setup) and starts the board's LAPIC timer.
func startTick(hz uint32) error {
	if !setupDone {
		return errors.New("tick: kernel.Setup must run first (the tick's stack is in the reserved region)")
	}
	installGate(microvm.TICK_VECTOR, microvm.TickEntry(), TICK_IST)
	installGate(microvm.LAPIC_SPURIOUS_VECTOR, microvm.SpuriousEntry(), TICK_IST)
	return microvm.StartTick(hz)
}

func stopTick() { microvm.StopTick() }

// Ticks returns how many tick interrupts the board has taken.
func Ticks() uint64 { return microvm.Ticks() }

// Preemptions returns how many ticks injected an asynchronous preemption.
func Preemptions() uint64 { return microvm.Preemptions() }

// Retries returns how many extra timer interrupts retried a preemption.
func Retries() uint64 { return microvm.Retries() }
