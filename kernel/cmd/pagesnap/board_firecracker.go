//go:build tamago && amd64 && linkramsize && board_firecracker

package main

import board "github.com/usbarmory/tamago/board/firecracker/microvm"

// make kernel BOARD=firecracker: tamago's board/firecracker/microvm.
func init() {
	tamagoBoard.name = "firecracker"
	tamagoBoard.cpu = board.AMD64
	tamagoBoard.uart = board.UART0
}
