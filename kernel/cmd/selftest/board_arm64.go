package main

import (
	"fmt"
	"runtime"

	"github.com/pagesnap/pagesnap/board/aarch64"
	"github.com/pagesnap/pagesnap/board/qemu/virt"
	"github.com/pagesnap/pagesnap/kernel"
)

// The board: QEMU virt. Its clock is the generic timer's virtual counter.

// The kernel takes the tick from virt.
func init() { kernel.SetBoard(virt.Board{}) }

// counterName names the processor's cycle or time counter.
const counterName = "CNTVCT"

// counterFrequency returns the counter's frequency in Hz (0 if unknown).
func counterFrequency() uint64 { return aarch64.CounterFrequency() }

// counter returns the counter: ticks since reset.
func counter() uint64 { return aarch64.Counter() }

// boardMemory describes the runtime's memory and the RAM the device tree
// gave, from which the board sized it.
func boardMemory() string {
	start, end := runtime.MemRegion()
	s := fmt.Sprintf("runtime %#x-%#x, device tree RAM", start, end)
	for _, r := range virt.Memory() {
		s += fmt.Sprintf(" %#x-%#x", r.Start, r.Start+r.Size)
	}
	return s
}

// startTick starts the tick; its IRQ runs on the board's exception stack
// (this kernel keeps the board's vectors and boot translation tables).
func startTick() error { return kernel.StartTick(0) }

// checkBoard runs the board's own checks: none on arm64.
func checkBoard() {}
