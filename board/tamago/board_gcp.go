//go:build tamago && amd64 && linkramsize && board_gcp

package tamago

import board "github.com/usbarmory/tamago/board/google/gcp"

// BOARD=gcp: tamago's board/google/gcp.
func init() {
	Name = "gcp"
	CPU = board.AMD64
	UART0 = board.UART0
}
