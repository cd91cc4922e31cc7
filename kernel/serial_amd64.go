//go:build tamago && amd64

package kernel

import "github.com/pagesnap/pagesnap/board/ioport"

// Raw output to the first 16550 UART (COM1) for the fault path, which
// cannot use the console driver (it may be the interrupted code).
const (
	COM1     = 0x3f8
	COM1_LSR = COM1 + 5 // line status register
	LSR_THRE = 1 << 5   // transmitter holding register empty
)

// FaultExitCode is the status the machine ends with on a fatal fault: QEMU
// with isa-debug-exit exits (FaultExitCode<<1)|1 = 7.
const FaultExitCode = 3

// DEBUG_EXIT_PORT is QEMU's isa-debug-exit device.
const DEBUG_EXIT_PORT = 0xf4

//go:nosplit
func rawByte(c byte) {
	for ioport.In8(COM1_LSR)&LSR_THRE == 0 {
	}
	ioport.Out8(COM1, c)
}

//go:nosplit
func rawString(s string) {
	for i := 0; i < len(s); i++ {
		rawByte(s[i])
	}
}

//go:nosplit
func rawHexByte(b byte) {
	const digits = "0123456789abcdef"
	rawByte(digits[b>>4])
	rawByte(digits[b&15])
}

//go:nosplit
func rawHex(v uint64) {
	rawString("0x")
	for i := 7; i >= 0; i-- {
		rawHexByte(byte(v >> (8 * uint(i))))
	}
}

// exitNoSplit ends the machine with code and never returns.
//
//go:nosplit
func exitNoSplit(code uint32) {
	ioport.Out32(DEBUG_EXIT_PORT, code)
	halt()
}
