//go:build tamago && amd64 && linkramsize

package main

import (
	"fmt"
	"runtime/goos"

	"github.com/pagesnap/pagesnap/board/layout"
	"github.com/pagesnap/pagesnap/kernel"

	"github.com/usbarmory/tamago/amd64"
	tdma "github.com/usbarmory/tamago/dma"
	"github.com/usbarmory/tamago/soc/intel/uart"
)

// The glue for tamago's own amd64 board packages (make kernel
// BOARD=tamago-microvm|firecracker|cloud-hypervisor|gcp): the board
// package initializes the hardware on import; board_<name>.go names its
// CPU and UART. The clock is the board's (kvmclock under KVM), the
// console its COM1, and the DMA window follows the runtime's memory
// (goos.RamStart+goos.RamSize, the size from zz_mem_size.go that
// cmd/pagesnap-board writes): tamago's boards declare it at 0x50000000,
// which is there only for their default 1 GiB.
var tamagoBoard struct {
	name string
	cpu  *amd64.CPU
	uart *uart.UART
}

// tamagoDMASize is the DMA window's size on tamago's x86 boards (their
// dmaSize, 256 MiB; board/layout's plan for them).
var tamagoDMASize = layout.Boards["firecracker"].DMASize

func init() {
	if err := tdma.Init(goos.RamStart+goos.RamSize, int(tamagoDMASize)); err != nil {
		panic(err)
	}
}

func clockBanner() string {
	return fmt.Sprintf("board %s, core %d MHz", tamagoBoard.name, tamagoBoard.cpu.Freq()/1e6)
}

// ticksPerSecond is the unit of the snapshot's timestamps: the board's
// clock is in nanoseconds.
func ticksPerSecond() uint64 { return 1e9 }

func boardDMA() kernel.Range {
	return kernel.Range{Base: uint64(goos.RamStart + goos.RamSize), Size: tamagoDMASize}
}

func consoleRead() (byte, bool) { return tamagoBoard.uart.Rx() }

const (
	crashHelp = "dereference a nil pointer: a page fault that is not the snapshot's (the kernel reports it and stops with status 3)"
	exitHelp  = "stop the machine (tamago's board: reset or shutdown; the status is not passed)"
)

func boardCommands(*kernel.Controller) map[string]*kernel.Command { return nil }

// dmaRoundOut: pagesnap maps the DMA window with 2 MiB pages on amd64.
const dmaRoundOut = 2 << 20
