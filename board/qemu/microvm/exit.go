package microvm

import "github.com/pagesnap/pagesnap/board/ioport"

// QEMU isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,iosize=4):
// writing V makes QEMU exit with status (V<<1)|1.
const DEBUG_EXIT_PORT = 0xf4

// Exit ends the machine: QEMU exits with status (code<<1)|1, so 1 means
// code 0 (success). Without the device it halts the processor forever.
func Exit(code int32) {
	ioport.Out32(DEBUG_EXIT_PORT, uint32(code))
	for {
		AMD64.WaitInterrupt()
	}
}
