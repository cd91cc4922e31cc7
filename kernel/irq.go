//go:build tamago

package kernel

import (
	"github.com/pagesnap/pagesnap/irq"
	"github.com/pagesnap/pagesnap/snapshot"
)

// setupDone is set by Setup (amd64: the TSS with the tick's stack exists),
// with captured, the captured ranges of its plan.
var (
	setupDone bool
	captured  []Range
)

// setupIRQ records what the interrupt path needs from the plan m.
func setupIRQ(m *Machine) {
	captured = m.Captured
	setupDone = true
}

// isCaptured reports whether addr is in captured memory.
//
//go:nosplit
func isCaptured(addr uint64) bool {
	for i := range captured {
		if addr >= captured[i].Base && addr-captured[i].Base < captured[i].Size {
			return true
		}
	}
	return false
}

// StartTick starts the periodic timer interrupt at hz per second
// (irq.DefaultHz if 0), which preempts goroutines that run longer than a
// time slice and calls irq.Tick, and sets irq.PrepareWrite to the active
// snapshot's write-fault path. On amd64 Setup must have run.
func StartTick(hz uint32) error {
	irq.PrepareWrite = prepareWrite
	return startTick(hz)
}

// StopTick stops the periodic timer interrupt.
func StopTick() { stopTick() }

// handleWriteFaultPrepare is (*snapshot.Snapshot).HandleWriteFault, called
// through a function value (see handleWriteFault in fault_*.go: the chain
// below it is too deep for the linker's nosplit budget).
var handleWriteFaultPrepare = (*snapshot.Snapshot).HandleWriteFault

// prepareWrite is irq.PrepareWrite: the interrupt path is about to store
// to addr. If the active snapshot protects it, its page is copied and made
// writable first, as a write fault would (it reports false only if that
// fails). Interrupt context: nosplit, no allocation, no locks. Each call
// on a protected page counts as a fault in the snapshot's statistics.
//
//go:nosplit
func prepareWrite(addr uint64) bool {
	s := active.Load()
	if s == nil {
		return true
	}
	switch s.Phase() {
	case snapshot.PhaseIdle:
		return true
	}
	if handleWriteFaultPrepare(s, addr) {
		return true
	}
	// Not the snapshot's: outside captured memory, never protected.
	return !isCaptured(addr)
}
