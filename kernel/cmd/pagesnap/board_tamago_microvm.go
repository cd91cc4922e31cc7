//go:build tamago && amd64 && linkramsize && board_tamago_microvm

package main

import board "github.com/usbarmory/tamago/board/qemu/microvm"

// make kernel BOARD=tamago-microvm: tamago's board/qemu/microvm.
func init() {
	tamagoBoard.name = "tamago-microvm"
	tamagoBoard.cpu = board.AMD64
	tamagoBoard.uart = board.UART0
}
