//go:build tamago && linkramsize

// Package tamago is pagesnap's glue for the tamago library's own board
// packages (make kernel BOARD=tamago-microvm|firecracker|
// cloud-hypervisor|gcp on amd64, imx8mpevk on arm64): importing it
// imports the board package chosen by a board_<name> build tag
// (board_<name>.go), which initializes the hardware, and moves tamago's
// DMA region to follow the runtime's memory.
//
// The runtime's memory size is mem_size.go (linkramsize drops the board's
// own mem.go): 1 GiB, tamago's default, unless make kernel RAM=SIZE
// replaces the file through go build -overlay (cmd/pagesnap-board).
// tamago's x86 boards declare their 256 MiB DMA region at 0x50000000,
// right after that default, the i.MX 8M Plus its on-chip OCRAM; init moves
// it to goos.RamStart+goos.RamSize, in RAM, for any size (see
// board/layout).
package tamago

import (
	"runtime/goos"

	tdma "github.com/usbarmory/tamago/dma"
)

// Name is the board's make BOARD= name (set by board_<name>.go).
var Name string

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
