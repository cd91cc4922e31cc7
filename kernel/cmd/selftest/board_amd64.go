package main

import (
	"fmt"
	"runtime/goos"

	"github.com/pagesnap/pagesnap/board/qemu/microvm"
	"github.com/pagesnap/pagesnap/kernel"
)

// The board: QEMU microvm. Its clock is the TSC.

// counterName names the processor's cycle or time counter.
const counterName = "TSC"

// counterFrequency returns the counter's frequency in Hz (0 if unknown).
func counterFrequency() uint64 { return microvm.TSCFrequency() }

// counter returns the counter: ticks since reset.
func counter() uint64 { return microvm.TSCCounter() }

// boardMemory describes where the runtime's memory came from ("": fixed
// at build time, nothing to say).
func boardMemory() string { return "" }

// startTick sets up the machine as the pagesnap kernel does (its own page
// tables, the TSS whose IST2 is the tick's stack) and starts the tick.
func startTick() error {
	if _, err := kernel.Setup(kernel.Range{Base: microvm.DMAStart, Size: microvm.DMASize}); err != nil {
		return err
	}
	kernel.LAPIC = microvm.LAPIC
	goos.Idle = kernel.TickIdle(goos.Idle)
	return kernel.StartTick(0)
}

// checkBoard runs the board's own checks: on amd64, that the kernel's
// interrupt entries keep the YMM registers of the code they interrupt
// (kernel.CheckExtendedState).
func checkBoard() {
	desc, err := kernel.CheckExtendedState()
	if err == nil {
		fmt.Printf("selftest: xsave: %s\n", desc)
	}
	report("xsave", err)
}
