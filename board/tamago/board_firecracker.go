//go:build tamago && amd64 && linkramsize && board_firecracker

package tamago

import board "github.com/usbarmory/tamago/board/firecracker/microvm"

// BOARD=firecracker: tamago's board/firecracker/microvm.
func init() {
	Name = "firecracker"
	CPU = board.AMD64
	UART0 = board.UART0
}
