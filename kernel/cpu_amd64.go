//go:build tamago && amd64

package kernel

import "github.com/pagesnap/pagesnap/board/ioport"

// Processor control, in cpu_amd64.s. Every function is nosplit: they are
// used on the fault path and on the snapshot stack.

//go:nosplit
func writeCR3(v uint64)

//go:nosplit
func setCR0WP()

// cli masks interrupts and returns the previous RFLAGS.
//
//go:nosplit
func cli() (flags uint64)

//go:nosplit
func restoreFlags(flags uint64)

//go:nosplit
func lgdt(ptr uint64)

//go:nosplit
func ltr(sel uint16)

//go:nosplit
func sidt(ptr uint64)

// halt stops the processor for good.
//
//go:nosplit
func halt()

// cycles returns the time-stamp counter.
//
//go:nosplit
func cycles() uint64 { return ioport.RDTSC() }

// runOnStack calls fn on the stack whose top is sp (fault_amd64.s).
//
//go:nosplit
func runOnStack(sp uint64, fn func())
