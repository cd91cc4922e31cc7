//go:build tamago && arm64

package virt

import "github.com/pagesnap/pagesnap/board/aarch64"

import _ "unsafe"

// PL011 UART registers and bits (Arm PrimeCell UART (PL011) Technical
// Reference Manual, DDI 0183G, 3.2 Summary of registers and 3.3 Register
// descriptions).
const (
	UARTDR    = 0x000 // data register
	UARTFR    = 0x018 // flag register
	UARTIBRD  = 0x024 // integer baud rate divisor
	UARTFBRD  = 0x028 // fractional baud rate divisor
	UARTLCR_H = 0x02c // line control register
	UARTCR    = 0x030 // control register
	UARTIMSC  = 0x038 // interrupt mask set/clear
	UARTICR   = 0x044 // interrupt clear

	UARTFR_TXFF = 1 << 5 // transmit FIFO full
	UARTFR_RXFE = 1 << 4 // receive FIFO empty
	UARTFR_BUSY = 1 << 3 // transmitting

	UARTLCR_H_WLEN_8 = 0b11 << 5 // 8 data bits
	UARTLCR_H_FEN    = 1 << 4    // FIFOs enabled

	UARTCR_RXE    = 1 << 9 // receive enable
	UARTCR_TXE    = 1 << 8 // transmit enable
	UARTCR_UARTEN = 1 << 0 // UART enable

	// UARTICR_ALL clears every interrupt (bits 10:0).
	UARTICR_ALL = 0x7ff
)

// PL011 is a PrimeCell UART. The line speed is left as the firmware (or
// QEMU, which ignores it) set it.
type PL011 struct {
	// Base is the register block's physical address.
	Base uint64
}

// UART0 is the console.
var UART0 = &PL011{Base: PL011_BASE}

// Init enables the UART for 8-bit characters with FIFOs, interrupts masked
// (3.3.8: the UART is disabled while the line control register changes).
//
//go:nosplit
func (u *PL011) Init() {
	aarch64.Write32(u.Base+UARTCR, 0)
	for aarch64.Read32(u.Base+UARTFR)&UARTFR_BUSY != 0 {
	}
	aarch64.Write32(u.Base+UARTIMSC, 0)
	aarch64.Write32(u.Base+UARTICR, UARTICR_ALL)
	aarch64.Write32(u.Base+UARTLCR_H, UARTLCR_H_WLEN_8|UARTLCR_H_FEN)
	aarch64.Write32(u.Base+UARTCR, UARTCR_UARTEN|UARTCR_TXE|UARTCR_RXE)
}

// Tx sends one byte, waiting while the transmit FIFO is full. It is
// nosplit and allocation free: the exception report uses it.
//
//go:nosplit
func (u *PL011) Tx(c byte) {
	for aarch64.Read32(u.Base+UARTFR)&UARTFR_TXFF != 0 {
	}
	aarch64.Write32(u.Base+UARTDR, uint32(c))
}

// Rx returns a received byte, if any.
//
//go:nosplit
func (u *PL011) Rx() (c byte, ok bool) {
	if aarch64.Read32(u.Base+UARTFR)&UARTFR_RXFE != 0 {
		return 0, false
	}
	return byte(aarch64.Read32(u.Base + UARTDR)), true
}

// Write sends b.
func (u *PL011) Write(b []byte) (int, error) {
	for _, c := range b {
		u.Tx(c)
	}
	return len(b), nil
}

//go:linkname printk runtime/goos.Printk
//go:nosplit
func printk(c byte) {
	UART0.Tx(c)
}
