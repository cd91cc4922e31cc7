//go:build tamago && arm64

package imx8mpevk

import "github.com/pagesnap/pagesnap/board/aarch64"

// The i.MX UART as a polled console (i.MX 8M Plus Reference Manual, UART
// chapter, "UART Memory Map/Register Definition"). U-Boot has set UART2 up
// as its console (pins, clock, 115200 8N1) before it starts the kernel:
// this driver changes no configuration, it only moves bytes through the
// FIFOs.
const (
	UART_URXD         = 0x00 // receiver register
	URXD_CHARRDY      = 1 << 15
	URXD_ERR          = 1 << 14
	UART_UTXD         = 0x40   // transmitter register
	UART_USR2         = 0x98   // status register 2
	USR2_RDR          = 1 << 0 // receive data ready
	UART_UTS          = 0xb4   // test register
	UTS_TXFULL        = 1 << 4 // transmitter FIFO full
	uartRxDataMask    = 0xff
	uartRxErrorsShift = 10 // URXD bits 14:10: ERR, OVRRUN, FRMERR, BRK, PRERR
)

// UART is an i.MX UART at Base.
type UART struct{ Base uint64 }

// UART0 is the console: UART2.
var UART0 = &UART{Base: UART2_BASE}

// Tx sends c, waiting while the transmit FIFO is full. nosplit: the
// runtime's print and the exception path use it.
//
//go:nosplit
func (u *UART) Tx(c byte) {
	for aarch64.Read32(u.Base+UART_UTS)&UTS_TXFULL != 0 {
	}
	aarch64.Write32(u.Base+UART_UTXD, uint32(c))
}

// Rx returns a received byte, ok false if none is waiting (or it came
// with an error, which drops it).
func (u *UART) Rx() (c byte, ok bool) {
	if aarch64.Read32(u.Base+UART_USR2)&USR2_RDR == 0 {
		return 0, false
	}
	v := aarch64.Read32(u.Base + UART_URXD)
	if v>>uartRxErrorsShift&0x1f != 0 {
		return 0, false
	}
	return byte(v & uartRxDataMask), true
}
