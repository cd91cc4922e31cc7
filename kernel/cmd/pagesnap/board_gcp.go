//go:build tamago && amd64 && linkramsize && board_gcp

package main

import board "github.com/usbarmory/tamago/board/google/gcp"

// make kernel BOARD=gcp: tamago's board/google/gcp.
func init() {
	tamagoBoard.name = "gcp"
	tamagoBoard.cpu = board.AMD64
	tamagoBoard.uart = board.UART0
}
