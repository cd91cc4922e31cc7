// Package imx8mpevk is pagesnap's board support for the NXP
// 8MPLUSLPD4-EVK (i.MX 8M Plus, four Cortex-A53 cores, 6 GiB of LPDDR4
// from 0x40000000), for GOOS=tamago GOARCH=arm64 kernels booted by U-Boot.
//
// The EVK's boot chain (boot ROM, U-Boot SPL, TF-A BL31 at EL3, U-Boot
// proper as BL33) leaves U-Boot in the Non-secure world at EL2; U-Boot's
// bootelf (or go) enters the kernel there. The start-up is package
// board/aarch64's, the same code that QEMU virt boots: it drops from EL2
// to EL1 (the Secure side of the GIC is TF-A's), turns on the MMU with
// identity boot tables at DDR's base and enters the runtime at EL1, where
// pagesnap's write protection and fault path work.
//
// Nothing is read from a device tree: the addresses are fixed (layout.go,
// from the i.MX 8M Plus Reference Manual's memory map, chapter 2 "Memory
// Maps"). Devices used: the GICv3 (package irq/gicv3, via board/aarch64:
// the tick, PPI 27), the generic timer (clock and tick), UART2 (the EVK's
// debug console, which U-Boot has set up: this package only polls its
// FIFOs) and PSCI SYSTEM_OFF through SMC to TF-A (exit). The runtime's
// memory is RamSize bytes from DDR's base (mem_size.go, set by make
// kernel BOARD=imx8mpevk RAM=...), the DMASize-byte DMA window follows it
// in DDR; the on-chip OCRAM is neither captured nor used for DMA.
//
// Only the boot processor runs: the other three cores stay off in TF-A
// (nothing issues PSCI CPU_ON), so CPUCount is 1.
//
// Not booted by any test: no EVK and no QEMU model of it that runs this
// boot path are available here (docs/boards.md says what is verified).
package imx8mpevk
