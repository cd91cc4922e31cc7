//go:build tamago && amd64 && linkramsize

package tamago

import (
	"github.com/usbarmory/tamago/amd64"
	"github.com/usbarmory/tamago/soc/intel/uart"
)

// DMASize is the DMA region's size on tamago's x86 boards (their dmaSize).
const DMASize = 256 << 20

// CPU and UART0 are the board package's processor and serial console (set
// by board_<name>.go).
var (
	CPU   *amd64.CPU
	UART0 *uart.UART
)
