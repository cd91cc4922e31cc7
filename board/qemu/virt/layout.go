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

// virt's GIC (hw/arm/virt.c): the distributor (VIRT_GIC_DIST, the device
// tree's /intc@8000000 reg) for both GIC versions, the GICv2 CPU
// interface (VIRT_GIC_CPU) and the GICv3 redistributor region
// (VIRT_GIC_REDIST). cpuinit passes them to aarch64.Start, which uses them
// at EL3, before the device tree is read; later the device tree's node is
// used (InterruptController).
const (
	GICD_BASE = 0x08000000
	GICC_BASE = 0x08010000
	GICR_BASE = 0x080a0000
)
