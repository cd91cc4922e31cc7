//go:build tamago && amd64 && linkramsize

// Package tamago is pagesnap's glue for the tamago library's own amd64
// board packages (make kernel BOARD=tamago-microvm|firecracker|
// cloud-hypervisor|gcp): importing it imports the board package chosen by
// a board_<name> build tag (board_<name>.go), which initializes the
// hardware, and moves tamago's DMA region to follow the runtime's memory.
//
// The runtime's memory size is mem_size.go (linkramsize drops the board's
// own mem.go): 1 GiB, tamago's default, unless make kernel RAM=SIZE
// replaces the file through go build -overlay (cmd/pagesnap-board).
// tamago's boards declare their 256 MiB DMA region at 0x50000000, right
// after that default; init moves it to goos.RamStart+goos.RamSize for any
// other size (see board/layout).
package tamago

import (
	"runtime/goos"

	"github.com/usbarmory/tamago/amd64"
	tdma "github.com/usbarmory/tamago/dma"
	"github.com/usbarmory/tamago/soc/intel/uart"
)

// DMASize is the DMA region's size on tamago's x86 boards (their dmaSize).
const DMASize = 256 << 20

// Name is the board's make BOARD= name; CPU and UART0 are the board
// package's processor and serial console (set by board_<name>.go).
var (
	Name  string
	CPU   *amd64.CPU
	UART0 *uart.UART
)

// DMA returns the DMA window: DMASize bytes after the runtime's memory.
func DMA() (start, size uint64) {
	return uint64(goos.RamStart + goos.RamSize), DMASize
}

func init() {
	start, size := DMA()
	if err := tdma.Init(uint(start), int(size)); err != nil {
		panic(err)
	}
}
