package main

import "github.com/pagesnap/pagesnap/board/qemu/virt"

// The board: QEMU virt. Its clock is the generic timer's virtual counter.

// counterName names the processor's cycle or time counter.
const counterName = "CNTVCT"

// counterFrequency returns the counter's frequency in Hz (0 if unknown).
func counterFrequency() uint64 { return virt.CounterFrequency() }

// counter returns the counter: ticks since reset.
func counter() uint64 { return virt.Counter() }
