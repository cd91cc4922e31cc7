//go:build tamago

package kernel

import (
	"github.com/pagesnap/pagesnap/irq"
)

// setupDone is set by Setup (amd64: the TSS with the tick's stack exists).
var setupDone bool

// setupIRQ records that Setup ran.
func setupIRQ(m *Machine) {
	setupDone = true
}

// StartTick starts the periodic timer interrupt at hz per second
// (irq.DefaultHz if 0), which preempts goroutines that run longer than a
// time slice and calls irq.Tick, and sets irq.PrepareWrite to the active
// snapshot's write-fault path (prepareWrite, tick.go). On amd64 Setup
// must have run.
func StartTick(hz uint32) error {
	irq.PrepareWrite = prepareWrite
	return startTick(hz)
}

// StopTick stops the periodic timer interrupt.
func StopTick() { stopTick() }
