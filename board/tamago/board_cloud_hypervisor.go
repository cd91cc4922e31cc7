//go:build tamago && amd64 && linkramsize && board_cloud_hypervisor

package tamago

import board "github.com/usbarmory/tamago/board/cloud_hypervisor/vm"

// BOARD=cloud-hypervisor: tamago's board/cloud_hypervisor/vm.
func init() {
	Name = "cloud-hypervisor"
	CPU = board.AMD64
	UART0 = board.UART0
}
