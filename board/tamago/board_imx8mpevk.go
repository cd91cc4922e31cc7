//go:build tamago && arm64 && linkramsize && board_imx8mpevk

package tamago

import (
	board "github.com/usbarmory/tamago/board/nxp/imx8mpevk"
	"github.com/usbarmory/tamago/soc/nxp/imx8mp"
	"github.com/usbarmory/tamago/soc/nxp/uart"
)

// tamago's board/nxp/imx8mpevk (NXP 8MPLUSLPD4-EVK, an i.MX 8M Plus with
// 6 GiB of LPDDR4 from 0x40000000). Not what make kernel BOARD=imx8mpevk
// builds (that is pagesnap's board/nxp/imx8mpevk: tamago's arm64 package
// does not compile with this toolchain and its runtime runs at EL3,
// docs/boards.md); kept so that TestIMX8MPEVKGlue (layout.TamagoIMX8MPEVK)
// keeps those reasons pinned down.
//
// DMASize is the DMA window pagesnap moves tamago's region to, in DDR
// right after the runtime's memory: tamago's imx8mp package declares the
// on-chip OCRAM (imx8mp.OCRAM_START, 576 KiB at 0x900000) instead, which
// is below DDR and so outside pagesnap's captured RAM (captured
// contiguously from DDR's base to the end of the DMA window). After this
// package's init the OCRAM is neither captured nor used for DMA by
// tamago's allocator.
const DMASize = 16 << 20

// UART0 is the EVK's serial console, the SoC's UART1 (the board's
// printk target).
var UART0 *uart.UART

// Nanotime is the board's clock: the Arm generic timer's counter
// (CNTFID0 = 8 MHz on the SoC, imx8mp.CNTFID0_FREQ) through
// imx8mp.ARM64.GetTime, in nanoseconds.
func Nanotime() int64 { return imx8mp.ARM64.GetTime() }

func init() {
	Name = "imx8mpevk"
	UART0 = board.UART1
}
