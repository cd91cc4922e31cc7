// Package virt is the board support for a QEMU virt machine
// (qemu-system-aarch64 -M virt) with one Armv8-A core, for GOOS=tamago
// GOARCH=arm64 kernels built with the project's toolchain.
//
// The kernel is entered by QEMU's -kernel ELF loader with the MMU off, at
// EL1, at EL2 with virtualization=on (cpuinit then drops to EL1) or at EL3
// with secure=on (cpuinit sets the GIC's Secure side up as firmware would,
// every interrupt in Non-secure Group 1, and drops to Non-secure EL2 or
// EL1). The board's cpuinit enables
// FP/SIMD, installs exception vectors, turns on the MMU with identity boot
// tables, sizes the runtime's memory from the device tree that QEMU places
// at the start of RAM, and enters the runtime.
// Importing the package is all a kernel needs to do. The same
// allocation-free device tree reader gives the CPU count (CPUCount) and
// the virtio-mmio transports with their SPIs (VirtioMMIOTransports).
//
// Devices used: the PL011 UART (console), the Arm generic timer (clock,
// idle and, with StartTick, the periodic tick through the GIC the device
// tree names, a GICv2 or, with gic-version=3, a GICv3 (package
// irq/gicv3), which EnableSPI also opens to one device interrupt), semihosting or PSCI
// (exit). The exception vectors save every register of the interrupted
// code, R27 (the assembler's temporary) included: vectors_arm64.s says
// why that needs care. Data and instruction aborts in Go code (nil
// dereferences) become run-time panics, as on other systems; other
// exceptions are reported with their syndrome.
//
// Exit statuses under QEMU with -semihosting-config enable=on,target=native:
// the code passed to Exit (os.Exit), RuntimeFatalExitCode after a Go panic
// or fatal error, ExceptionExitCode after an exception the board cannot
// handle. Without semihosting QEMU exits with 0 (PSCI SYSTEM_OFF).
//
// Kernels link with go build -ldflags "-T 0x40110000 -R 0x1000" (TextStart)
// and boot with
//
//	qemu-system-aarch64 -M virt -cpu max -accel tcg -m 1G -nographic \
//		-no-reboot -nodefaults -serial stdio \
//		-semihosting-config enable=on,target=native -kernel kernel.elf
//
// Memory map (physical = virtual):
//
//	0x00000000-0x001fffff  unmapped: nil pointer dereferences fault
//	0x00200000-0x3fffffff  devices (flash, GIC, PL011, virtio-mmio, ...)
//	0x40000000-0x400fffff  device tree blob (placed by QEMU)
//	0x40100000-0x40101fff  boot translation tables (RamStart)
//	0x40110000-...         kernel image, then heap (link with -T 0x40110000)
//	...-RAM end            initial stack at the top (RAM end capped at RamLimit)
//	0x4000000000-          high devices (PCIe), mapped as device memory
//
// Built for a RAM size (make kernel RAM=768M: mem_size.go through go build
// -overlay) the runtime's memory ends that far into RAM instead, and the DMASize bytes after it are
// tamago's DMA region (DMA); the rest of RAM is left to the kernel (the
// pagesnap kernel puts its reserved region and snapshot storage there).
package virt
