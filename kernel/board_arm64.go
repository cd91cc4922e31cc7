//go:build tamago && arm64

package kernel

import "errors"

// Board is what the arm64 kernel takes from the board it runs on: the
// periodic tick (a generic timer through the board's GIC), the RAM banks
// and the number of CPUs online. The kernel imports no board package: the
// board glue passes its implementation to SetBoard before Setup and
// StartTick (e.g. virt.Board on QEMU virt, imx8mpevk.Board on the EVK).
// The board must be built on package board/aarch64 (the shared EL1
// start-up): the kernel's vector table (fault_arm64.s) hands every
// exception it does not resolve to aarch64's vectors, a link-time
// reference.
type Board interface {
	// StartTick starts the periodic timer interrupt at hz per second
	// (irq.DefaultHz if 0) and unmasks IRQs.
	StartTick(hz uint32) error
	// StopTick stops the periodic timer interrupt.
	StopTick()
	// Ticks, Preemptions and Retries count the tick interrupts taken,
	// those that injected an asynchronous preemption and the extra
	// interrupts that retried one.
	Ticks() uint64
	Preemptions() uint64
	Retries() uint64
	// RAM returns the machine's RAM banks.
	RAM() ([]Range, error)
	// CPUCount returns the number of processors online.
	CPUCount() (int, error)
}

// board is the board SetBoard set.
var board Board

// errNoBoard is what the board-dependent calls return before SetBoard.
var errNoBoard = errors.New("kernel: no board: the board glue must call kernel.SetBoard before Setup and StartTick")

// SetBoard sets the board the kernel takes its tick, RAM and CPU count
// from. Call it once, before Setup.
func SetBoard(b Board) { board = b }
