//go:build tamago && amd64 && linkramsize && board_tamago_microvm

package tamago

import board "github.com/usbarmory/tamago/board/qemu/microvm"

// BOARD=tamago-microvm: tamago's board/qemu/microvm.
func init() {
	Name = "tamago-microvm"
	CPU = board.AMD64
	UART0 = board.UART0
}
