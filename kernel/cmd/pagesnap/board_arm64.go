//go:build tamago && arm64

package main

import (
	"fmt"

	"github.com/pagesnap/pagesnap/board/qemu/virt"
	"github.com/pagesnap/pagesnap/kernel"
)

// The virt board: generic timer clock, PL011 console, DMA region after the
// runtime's memory (ram* build tags), semihosting exit.

func clockBanner() string { return fmt.Sprintf("counter %d MHz", virt.CounterFrequency()/1e6) }

func ticksPerSecond() uint64 { return virt.CounterFrequency() }

func boardDMA() kernel.Range {
	base, size := virt.DMA()
	return kernel.Range{Base: base, Size: size}
}

func consoleRead() (byte, bool) { return virt.UART0.Rx() }

const (
	crashHelp = "dereference a nil pointer: an abort that is not the snapshot's (the board turns it into a Go panic: status 2)"
	exitHelp  = "stop the machine with a status (QEMU exits with code, through semihosting)"
)
