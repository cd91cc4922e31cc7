//go:build tamago && amd64 && linkramsize && board_cloud_hypervisor

package main

import board "github.com/usbarmory/tamago/board/cloud_hypervisor/vm"

// make kernel BOARD=cloud-hypervisor: tamago's board/cloud_hypervisor/vm.
func init() {
	tamagoBoard.name = "cloud-hypervisor"
	tamagoBoard.cpu = board.AMD64
	tamagoBoard.uart = board.UART0
}
