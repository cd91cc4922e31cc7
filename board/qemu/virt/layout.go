package virt

// The board's memory layout, also used by host-side tests (this file has no
// build constraint).

// Memory layout.
const (
	// DTBAddress is where QEMU loads the device tree blob for a kernel
	// whose lowest loadable segment is at or above DTBAddress+DTBMaxSize.
	DTBAddress = 0x40000000
	// DTBMaxSize is the space QEMU's virt machine gives the blob.
	DTBMaxSize = 0x100000

	// RamStart is the first address the runtime owns: the boot
	// translation tables, then the kernel image (linked at
	// TextStart), heap and stacks up to the end of RAM.
	RamStart = DTBAddress + DTBMaxSize
	// TextStart is where kernels for this board are linked
	// (go build -ldflags "-T 0x40110000 -R 0x1000").
	TextStart = RamStart + 0x10000

	// DefaultRamSize is the runtime's memory when the device tree gives
	// none: QEMU's default -m 128M less the device tree space.
	DefaultRamSize = 128<<20 - DTBMaxSize
	// RamLimit is the end of the memory the runtime can use: the
	// GOOS=tamago heap addresses are 32 bits wide.
	RamLimit = 1 << 32
	// RamStackOffset is the space left above the initial stack.
	RamStackOffset = 0x100
)

// PL011_BASE is the virt machine's UART (the device tree's
// /pl011@9000000, also /chosen stdout-path).
const PL011_BASE = 0x09000000
