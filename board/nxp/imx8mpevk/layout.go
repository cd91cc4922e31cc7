package imx8mpevk

// The EVK's memory layout and device addresses, also used by host-side
// tests (this file has no build constraint). i.MX 8M Plus Applications
// Processor Reference Manual, chapter 2 "Memory Maps" (the A53 memory
// map).
const (
	// DDR_BASE is the start of DDR; the EVK has DDRSize bytes there,
	// contiguous (LPDDR4, 6 GiB).
	DDR_BASE = 0x40000000
	DDRSize  = 6 << 30

	// RamStart is the first address the runtime owns: the boot
	// translation tables (aarch64.BootTablesSize), then the kernel
	// image (linked at TextStart), heap and stacks.
	RamStart = DDR_BASE
	// TextStart is where kernels for this board are linked
	// (go build -ldflags "-T 0x40010000 -R 0x1000").
	TextStart = RamStart + 0x10000
	// RamStackOffset is the space left above the initial stack.
	RamStackOffset = 0x100

	// DMASize is the DMA window after the runtime's memory, in DDR.
	DMASize = 16 << 20

	// GICD_BASE is the GICv3 distributor, GICR_BASE the first
	// redistributor (the boot core's, cores 0-3 follow at GICR_STRIDE),
	// GICR_SIZE the four cores' redistributors.
	GICD_BASE   = 0x38800000
	GICR_BASE   = 0x38880000
	GICR_STRIDE = 0x20000
	GICR_SIZE   = 4 * GICR_STRIDE

	// UART2_BASE is UART2, the EVK's debug console (U-Boot's and
	// Linux's; on the board's USB debug port).
	UART2_BASE = 0x30890000
)
